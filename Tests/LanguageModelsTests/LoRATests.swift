import Foundation
import XCTest
@testable import LanguageModels
import NeuralNetworks
import SafeTensors
import Tensors

/// LoRA against PEFT: adapters PEFT saved (Fixtures/lora/make_lora.py) give PEFT's logits, merged logits, loss and
/// gradients in Charter; Charter's saved adapters round-trip and (Fixtures/lora/charter_written) load in PEFT.
final class LoRATests: XCTestCase {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")
    static let lora = fixtures.appendingPathComponent("lora")
    static let peftAdapters = ["llama_gqa", "llama_gqa_regex", "gpt2"]

    struct Stored: Codable { let shape: [Int]; let data: [Float] }
    struct Reference: Decodable {
        let base: String
        let input_ids: [[Int32]]
        let logits: Stored, merged_logits: Stored, base_logits: Stored
        let loss: Float
        let gradients: [String: Stored]
    }

    static func baseModel(_ name: String) throws -> any CausalLanguageModel {
        try PretrainedModel.load(directory: fixtures.appendingPathComponent("checkpoints/\(name)"))
    }

    static func reference(_ adapter: String) throws -> Reference {
        try JSONDecoder().decode(Reference.self, from: Data(contentsOf: lora.appendingPathComponent("peft/\(adapter)/reference.json")))
    }

    static func logits(_ model: any CausalLanguageModel, _ ids: [[Int32]]) -> Tensor {
        withoutGradients { model.forward(ModelInput(ids: ids.flatMap { $0 }, batch: ids.count, time: ids[0].count), cache: nil).logits }
    }

    /// Mean next-token cross-entropy, as transformers' `labels=input_ids`.
    static func loss(_ model: any CausalLanguageModel, _ ids: [Int32]) -> Tensor {
        let logits = model.forward(ModelInput(ids: ids, batch: 1, time: ids.count), cache: nil).logits
        return logits.crossEntropy(targets: Array(ids.dropFirst()) + [-100])
    }

    func assertClose(_ actual: [Float], _ expected: [Float], tolerance: Float = 1e-4, _ what: String,
                             file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(actual.count, expected.count, what, file: file, line: line)
        for (index, (a, e)) in zip(actual, expected).enumerated() where !(Swift.abs(a - e) <= tolerance * max(1, Swift.abs(e))) {
            return XCTFail("\(what)[\(index)]: Charter \(a) vs PEFT \(e)", file: file, line: line)
        }
    }

    func temporaryDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("charter-lora-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        addTeardownBlock { try? FileManager.default.removeItem(at: url) }
        return url
    }

    // MARK: PEFT parity

    func testPEFTAdapterGivesPEFTLogitsMergedLogitsAndBaseLogitsWhenDisabled() throws {
        for name in Self.peftAdapters {
            let reference = try Self.reference(name)
            let model = try Self.baseModel(reference.base)
            let configuration = try LoRA.load(from: Self.lora.appendingPathComponent("peft/\(name)"), into: model)
            XCTAssertEqual(configuration.peftType, "LORA")
            XCTAssertTrue(model.trainableParameters().isEmpty, "\(name): loaded for inference, nothing trains")
            assertClose(Self.logits(model, reference.input_ids).scalars, reference.logits.data, "\(name) adapted logits")
            LoRA.disable(model)
            assertClose(Self.logits(model, reference.input_ids).scalars, reference.base_logits.data, "\(name) disabled logits")
            LoRA.enable(model)
            assertClose(Self.logits(model, reference.input_ids).scalars, reference.logits.data, "\(name) re-enabled logits")
            LoRA.merge(model)
            XCTAssertTrue(LoRA.adapters(in: model).isEmpty)
            assertClose(Self.logits(model, reference.input_ids).scalars, reference.merged_logits.data, "\(name) merged logits")
        }
    }

    func testPEFTAdapterLossAndGradientsMatchPEFT() throws {
        for name in Self.peftAdapters {
            let reference = try Self.reference(name)
            let model = try Self.baseModel(reference.base)
            try LoRA.load(from: Self.lora.appendingPathComponent("peft/\(name)"), into: model, trainable: true)
            LoRA.setTraining(model, false)  // PEFT's reference is in eval mode: no dropout
            let loss = Self.loss(model, reference.input_ids[0])
            assertClose([loss.item], [reference.loss], "\(name) loss")
            loss.backward()
            var checked = 0
            for target in LoRA.targets(of: model) where !target.adapters.isEmpty {
                let adapters = target.adapters
                let gradientA = try XCTUnwrap(adapters[0].loraA.grad, "\(target.name) lora_A has no gradient")
                let gradientB = try adapters.flatMap { try XCTUnwrap($0.loraB.grad, "\(target.name) lora_B has no gradient").scalars }
                for (matrix, actual) in [("lora_A", gradientA.scalars), ("lora_B", gradientB)] {
                    let expected = try XCTUnwrap(reference.gradients[LoRA.tensorName(target.name, matrix)], "\(target.name) \(matrix)")
                    let scale = expected.data.map(Swift.abs).max() ?? 1
                    assertClose(actual.map { $0 / scale }, expected.data.map { $0 / scale }, "\(name) d loss / d \(target.name).\(matrix) (÷ \(scale))")
                    checked += 1
                }
            }
            XCTAssertEqual(checked, reference.gradients.count, "\(name): every PEFT gradient compared")
        }
    }

    func testAdaptedModuleNamesFollowPEFTMatching() throws {
        let llama = try Self.baseModel("llama_gqa")
        let regex = try LoRA.load(from: Self.lora.appendingPathComponent("peft/llama_gqa_regex"), into: llama)
        XCTAssertEqual(regex.targetModules, .pattern(#".*\.(q_proj|v_proj)"#))
        XCTAssertEqual(LoRA.adaptedModuleNames(of: llama), ["model.layers.0.self_attn.q_proj", "model.layers.0.self_attn.v_proj",
                                                             "model.layers.1.self_attn.q_proj", "model.layers.1.self_attn.v_proj"])
        let gpt = try Self.baseModel("gpt2")
        var generator = SeededGenerator(seed: 1)
        // "c_proj" matches both the attention and the MLP output projections; "attn.c_proj" only the first.
        var configuration = LoRAConfiguration(rank: 2, alpha: 2, targetModules: .names(["c_proj"]))
        XCTAssertEqual(try LoRA.apply(configuration, to: gpt, generator: &generator),
                       ["transformer.h.0.attn.c_proj", "transformer.h.0.mlp.c_proj", "transformer.h.1.attn.c_proj", "transformer.h.1.mlp.c_proj"])
        LoRA.remove(from: gpt)
        configuration.targetModules = .names(["attn.c_proj"])
        configuration.excludeModules = .names(["h.1.attn.c_proj"])
        XCTAssertEqual(try LoRA.apply(configuration, to: gpt, generator: &generator), ["transformer.h.0.attn.c_proj"])
        LoRA.remove(from: gpt)
        // nil: PEFT's default for the architecture; "all-linear": every linear layer but the head.
        XCTAssertEqual(try LoRA.apply(LoRAConfiguration(), to: gpt, generator: &generator), ["transformer.h.0.attn.c_attn", "transformer.h.1.attn.c_attn"])
        LoRA.remove(from: gpt)
        XCTAssertEqual(try LoRA.apply(LoRAConfiguration(targetModules: .allLinear), to: gpt, generator: &generator).count, 8)
    }

    /// Every target is a checkpoint tensor of the same layer: name + ".weight" with (out, in), or (in, out) for Conv1D.
    func testTargetsMirrorCheckpointEntries() throws {
        for base in ["llama_gqa", "qwen2", "gpt2"] {
            let model = try Self.baseModel(base)
            let entries = try XCTUnwrap(model as? any CheckpointMapped).checkpointEntries()
            let shapes = Dictionary(entries.map { ($0.name, $0.shape) }, uniquingKeysWith: { a, _ in a })
            let targets = LoRA.targets(of: model)
            XCTAssertFalse(targets.isEmpty)
            for target in targets {
                let expected = target.isConv1D ? [target.inputSize, target.outputSize] : [target.outputSize, target.inputSize]
                XCTAssertEqual(shapes[target.name + ".weight"], expected, "\(base) \(target.name)")
            }
        }
    }

    // MARK: Save and load

    func testCharterSaveLoadRoundTripIsExactAndKeepsPEFTLayout() throws {
        for name in Self.peftAdapters {
            let reference = try Self.reference(name)
            let peftFolder = Self.lora.appendingPathComponent("peft/\(name)")
            let model = try Self.baseModel(reference.base)
            let configuration = try LoRA.load(from: peftFolder, into: model)
            let folder = try temporaryDirectory()
            try LoRA.save(model, configuration: configuration, to: folder)

            let original = try SafeTensorsFile(url: peftFolder.appendingPathComponent(LoRA.weightsFileName))
            let written = try SafeTensorsFile(url: folder.appendingPathComponent(LoRA.weightsFileName))
            XCTAssertEqual(written.sortedNames, original.sortedNames, "\(name): PEFT's tensor names")
            for tensor in original.names {
                XCTAssertEqual(try written.info(tensor).dtype, .float32)
                XCTAssertEqual(try written.info(tensor).shape, try original.info(tensor).shape, tensor)
                XCTAssertEqual(try written.floats(tensor), try original.floats(tensor), "\(tensor) bit-identical")
            }
            let reloadedConfiguration = try LoRA.loadConfiguration(from: folder)
            XCTAssertEqual(reloadedConfiguration, configuration, "\(name): adapter_config.json round trip, unknown keys kept")

            let reloaded = try Self.baseModel(reference.base)
            try LoRA.load(from: folder, into: reloaded)
            XCTAssertEqual(Self.logits(reloaded, reference.input_ids).scalars, Self.logits(model, reference.input_ids).scalars)
        }
    }

    func testFreshAdapterSavesWithResolvedTargetsAndFanInFanOut() throws {
        let model = try Self.baseModel("gpt2")
        var generator = SeededGenerator(seed: 3)
        var configuration = LoRAConfiguration(rank: 4, alpha: 8)
        configuration.useRSLoRA = true
        try LoRA.apply(configuration, to: model, generator: &generator)
        let folder = try temporaryDirectory()
        try LoRA.save(model, configuration: configuration, to: folder)
        let object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: folder.appendingPathComponent(LoRA.configurationFileName))) as? [String: Any])
        XCTAssertEqual(object["target_modules"] as? [String], ["c_attn"])
        XCTAssertEqual(object["fan_in_fan_out"] as? Bool, true)
        XCTAssertEqual(object["r"] as? Int, 4)
        XCTAssertEqual(object["use_rslora"] as? Bool, true)
        XCTAssertEqual(object["peft_type"] as? String, "LORA")
        XCTAssertEqual(object["task_type"] as? String, "CAUSAL_LM")
        XCTAssertEqual(object["bias"] as? String, "none")
        // A configuration that does not describe the adapters is refused.
        XCTAssertThrowsError(try LoRA.save(model, configuration: LoRAConfiguration(rank: 8, alpha: 8), to: folder))
        XCTAssertThrowsError(try LoRA.save(model, configuration: LoRAConfiguration(rank: 4, alpha: 8, targetModules: .allLinear), to: folder))
    }

    // MARK: Initialisation and training

    func testInitialisationFollowsPEFT() throws {
        let model = try Self.baseModel("llama_gqa")
        let base = Self.logits(model, [[1, 17, 42, 5]])
        var generator = SeededGenerator(seed: 7)
        let configuration = LoRAConfiguration(rank: 4, alpha: 16, targetModules: .names(["q_proj", "down_proj"]))
        try LoRA.apply(configuration, to: model, generator: &generator)
        for adapter in LoRA.adapters(in: model) {
            let bound = 1 / Float(adapter.loraA.shape[1]).squareRoot()
            XCTAssertTrue(adapter.loraA.scalars.allSatisfy { Swift.abs($0) <= bound }, "A ~ U(−1/√in, 1/√in)")
            XCTAssertGreaterThan(adapter.loraA.scalars.map(Swift.abs).max() ?? 0, 0.8 * bound)
            XCTAssertTrue(adapter.loraB.scalars.allSatisfy { $0 == 0 }, "B = 0")
            XCTAssertEqual(adapter.scaling, 4)
        }
        XCTAssertEqual(Self.logits(model, [[1, 17, 42, 5]]).scalars, base.scalars, "B = 0: the adapted model starts as the base")
        // Same seed, same bits.
        let again = try Self.baseModel("llama_gqa")
        var sameGenerator = SeededGenerator(seed: 7)
        try LoRA.apply(configuration, to: again, generator: &sameGenerator)
        XCTAssertEqual(LoRA.adapters(in: again).map(\.loraA.scalars), LoRA.adapters(in: model).map(\.loraA.scalars))
        var frozen = configuration
        frozen.inferenceMode = true
        let inference = try Self.baseModel("llama_gqa")
        try LoRA.apply(frozen, to: inference, generator: &generator)
        XCTAssertTrue(inference.trainableParameters().isEmpty, "inference_mode: adapters frozen too")
        var rsLoRA = configuration
        rsLoRA.useRSLoRA = true
        XCTAssertEqual(rsLoRA.scaling, 8, "alpha / √r")
    }

    func testOnlyAdaptersTrainAndEveryAdapterParameterChanges() throws {
        for (base, targets) in [("llama_gqa", LoRAConfiguration.TargetModules.allLinear), ("gpt2", .names(["c_attn", "c_proj", "c_fc"]))] {
            let model = try Self.baseModel(base)
            let baseParameters = model.namedParameters()
            let baseValues = baseParameters.map(\.tensor.scalars)
            var generator = SeededGenerator(seed: 11)
            var configuration = LoRAConfiguration(rank: 4, alpha: 8, dropout: 0.1, targetModules: targets)
            configuration.initialWeights = .kaimingUniform
            try LoRA.apply(configuration, to: model, generator: &generator)

            // The trainable parameters are exactly the adapters' A and B, each listed once (GPT-2's shared A too).
            let adapters = LoRA.adapters(in: model)
            var expected: [ObjectIdentifier] = []
            for adapter in adapters {
                for tensor in [adapter.loraA, adapter.loraB] where !expected.contains(ObjectIdentifier(tensor)) { expected.append(ObjectIdentifier(tensor)) }
            }
            let trainable = model.trainableParameters()
            XCTAssertEqual(Set(trainable.map(ObjectIdentifier.init)), Set(expected), base)
            XCTAssertEqual(trainable.count, expected.count, "\(base): no parameter listed twice")
            XCTAssertTrue(baseParameters.allSatisfy { !$0.tensor.requiresGrad }, "\(base): base frozen")
            // Found by reflection through Linear.adapter, under the layer's name.
            let names = model.namedParameters().filter(\.tensor.requiresGrad).map(\.name)
            XCTAssertTrue(names.allSatisfy { $0.hasSuffix(".adapter.a") || $0.hasSuffix(".adapter.b") }, "\(names)")

            let initial = trainable.map(\.scalars)
            let optimizer = AdamW(parameters: trainable, learningRate: 1e-2, weightDecay: 0)
            let ids: [Int32] = [1, 17, 42, 5, 88, 23, 61, 9]
            for step in 0..<2 {
                optimizer.zeroGradients()
                Self.loss(model, ids).backward()
                // Step 0: B = 0, so only B's gradient is non-zero; from step 1 on every A and B gets one.
                let aMatrices = Set(adapters.map { ObjectIdentifier($0.loraA) })
                for (index, parameter) in trainable.enumerated() {
                    let gradient = try XCTUnwrap(parameter.grad, "\(base): trainable parameter \(index) got no gradient")
                    if step == 1 || !aMatrices.contains(ObjectIdentifier(parameter)) {
                        XCTAssertTrue(gradient.scalars.contains { $0 != 0 }, "\(base) step \(step): parameter \(index) \(parameter.shape) has a zero gradient")
                    }
                }
                optimizer.step()
            }
            for (index, (parameter, before)) in zip(trainable, initial).enumerated() {
                XCTAssertNotEqual(parameter.scalars, before, "\(base): trainable parameter \(index) \(parameter.shape) did not change")
            }
            for ((name, tensor), before) in zip(baseParameters, baseValues) {
                XCTAssertEqual(tensor.scalars, before, "\(base): base parameter \(name) changed")
                XCTAssertNil(tensor.grad, "\(base): base parameter \(name) got a gradient")
            }
        }
    }

    func testSharedAOfFusedModuleAccumulatesGradientFromQueryKeyAndValue() throws {
        let model = try Self.baseModel("gpt2")
        var generator = SeededGenerator(seed: 5)
        var configuration = LoRAConfiguration(rank: 2, alpha: 2, targetModules: .names(["c_attn"]))
        configuration.initialWeights = .random  // B ≠ 0, so A's gradient is not trivially zero
        try LoRA.apply(configuration, to: model, generator: &generator)
        let ids: [Int32] = [1, 17, 42, 5, 88, 23]
        let group = try XCTUnwrap(LoRA.targets(of: model).first).adapters
        XCTAssertEqual(group.count, 3)
        XCTAssertTrue(group[1].loraA === group[0].loraA && group[2].loraA === group[0].loraA)
        Self.loss(model, ids).backward()
        let total = try XCTUnwrap(group[0].loraA.grad).scalars
        // Central differences through the whole model: the gradient must include all three projections' paths.
        let a = group[0].loraA
        for index in [0, 7, a.count - 1] {
            let epsilon: Float = 1e-2
            func lossAt(_ delta: Float) -> Float {
                var values = a.scalars
                values[index] += delta
                a.assign(Tensor(shape: a.shape, scalars: values))
                defer { values[index] -= delta; a.assign(Tensor(shape: a.shape, scalars: values)) }
                return withoutGradients { Self.loss(model, ids).item }
            }
            let numeric = (lossAt(epsilon) - lossAt(-epsilon)) / (2 * epsilon)
            XCTAssertEqual(total[index], numeric, accuracy: 2e-3 + 0.02 * Swift.abs(numeric), "d loss / d A[\(index)]")
        }
    }

    func testFusedModuleDrawsOneDropoutMaskForQueryKeyAndValue() throws {
        let model = try Self.baseModel("gpt2")
        var generator = SeededGenerator(seed: 9)
        try LoRA.apply(LoRAConfiguration(rank: 2, alpha: 2, dropout: 0.5, targetModules: .names(["c_attn", "c_fc"])), to: model, generator: &generator)
        let targets = LoRA.targets(of: model)
        let fused = try XCTUnwrap(targets.first { $0.name.hasSuffix("c_attn") }).adapters
        let single = try XCTUnwrap(targets.first { $0.name.hasSuffix("c_fc") }).adapters[0]
        let x = Tensor.randomNormal([1, 4, 32], generator: &generator)
        let projected = fused[1].input(x)  // the key is projected first, as GPTAttention runs
        XCTAssertTrue(fused[2].input(x) === projected && fused[0].input(x) === projected, "one A·dropout(x) for q, k and v")
        XCTAssertFalse(fused[1].input(x) === projected, "released after the three uses: the next forward draws a new mask")
        XCTAssertNotEqual(single.input(x).scalars, single.input(x).scalars, "an unfused module draws a mask per call")
    }

    func testMergeEqualsAdaptedForwardAndDisableGivesBase() throws {
        for (base, targets) in [("llama_gqa", LoRAConfiguration.TargetModules.allLinear), ("gpt2", .allLinear), ("qwen2", .names(["q_proj", "k_proj", "v_proj"]))] {
            let model = try Self.baseModel(base)
            let ids: [[Int32]] = [[1, 17, 42, 5, 88, 23, 61, 9]]
            let baseLogits = Self.logits(model, ids).scalars
            var generator = SeededGenerator(seed: 2)
            var configuration = LoRAConfiguration(rank: 4, alpha: 8, dropout: 0.5, targetModules: targets)
            configuration.initialWeights = .random
            try LoRA.apply(configuration, to: model, generator: &generator)
            LoRA.setTraining(model, false)
            let adapted = Self.logits(model, ids).scalars
            XCTAssertGreaterThan(zip(adapted, baseLogits).map { Swift.abs($0 - $1) }.max() ?? 0, 1e-2, "\(base): the adapter changes the logits")
            XCTAssertEqual(LoRA.withAdaptersDisabled(model) { Self.logits(model, ids).scalars }, baseLogits, "\(base): disabled = base, exactly")
            XCTAssertEqual(Self.logits(model, ids).scalars, adapted, "\(base): enabled again after withAdaptersDisabled")
            // Dropout acts only in training.
            LoRA.setTraining(model, true)
            XCTAssertNotEqual(Self.logits(model, ids).scalars, adapted, "\(base): dropout on in training")
            LoRA.setTraining(model, false)
            LoRA.merge(model)
            XCTAssertTrue(LoRA.adapters(in: model).isEmpty)
            assertClose(Self.logits(model, ids).scalars, adapted, "\(base) merged vs adapted")
        }
    }

    // MARK: Charter → PEFT

    struct CharterLogits: Codable { let base: String; let input_ids: [[Int32]]; let logits: Stored }
    static let sequence: [Int32] = [1, 17, 42, 5, 88, 23, 61, 9, 33, 70, 14, 51, 27, 90, 3, 46]  // make_lora.py's SEQ_A

    /// The adapters of Fixtures/lora/charter_written: trained a few AdamW steps by Charter so that B ≠ 0.
    static let charterWritten: [(name: String, base: String, configuration: LoRAConfiguration)] = {
        var gpt = LoRAConfiguration(rank: 4, alpha: 8, dropout: 0.1, targetModules: .names(["c_attn", "c_proj", "c_fc"]))
        gpt.useRSLoRA = true
        gpt.baseModelNameOrPath = "gpt2"
        var llama = LoRAConfiguration(rank: 4, alpha: 8, dropout: 0.05, targetModules: .allLinear)
        llama.baseModelNameOrPath = "llama_gqa"
        return [("llama_gqa_all_linear", "llama_gqa", llama), ("gpt2", "gpt2", gpt)]
    }()

    /// Writes Fixtures/lora/charter_written/<name>/ (adapter folder + charter_logits.json) for make_lora.py to load in
    /// PEFT. Runs only with CHARTER_WRITE_LORA_FIXTURES=1 (see make_lora.py's header); commit what it writes.
    func testWriteCharterAdapterFixtures() throws {
        guard ProcessInfo.processInfo.environment["CHARTER_WRITE_LORA_FIXTURES"] == "1" else {
            throw XCTSkip("set CHARTER_WRITE_LORA_FIXTURES=1 to rewrite Fixtures/lora/charter_written")
        }
        for (name, base, configuration) in Self.charterWritten {
            let model = try Self.baseModel(base)
            var generator = SeededGenerator(seed: 42)
            try LoRA.apply(configuration, to: model, generator: &generator)
            let optimizer = AdamW(parameters: model.trainableParameters(), learningRate: 0.05, weightDecay: 0)
            for _ in 0..<3 {
                optimizer.zeroGradients()
                Self.loss(model, Self.sequence).backward()
                optimizer.step()
            }
            LoRA.setTraining(model, false)
            let folder = Self.lora.appendingPathComponent("charter_written/\(name)")
            try? FileManager.default.removeItem(at: folder)
            try LoRA.save(model, configuration: configuration, to: folder)
            let logits = Self.logits(model, [Self.sequence])
            let record = CharterLogits(base: base, input_ids: [Self.sequence], logits: Stored(shape: logits.shape, data: logits.scalars))
            try JSONEncoder().encode(record).write(to: folder.appendingPathComponent("charter_logits.json"))
        }
    }

    /// The committed Charter-written adapters (checked against PEFT by make_lora.py) still load in Charter with the
    /// logits recorded next to them.
    func testCharterWrittenAdaptersReloadWithRecordedLogits() throws {
        for (name, _, configuration) in Self.charterWritten {
            let folder = Self.lora.appendingPathComponent("charter_written/\(name)")
            let record = try JSONDecoder().decode(CharterLogits.self, from: Data(contentsOf: folder.appendingPathComponent("charter_logits.json")))
            let model = try Self.baseModel(record.base)
            var expected = configuration
            expected.fanInFanOut = model is GPTModel
            expected.inferenceMode = true
            XCTAssertEqual(try LoRA.load(from: folder, into: model), expected, name)
            assertClose(Self.logits(model, record.input_ids).scalars, record.logits.data, "\(name) reloaded logits")
            let base = try Self.baseModel(record.base)
            XCTAssertNotEqual(Self.logits(base, record.input_ids).scalars, record.logits.data, "\(name): the adapter changes the logits")
        }
    }
}
