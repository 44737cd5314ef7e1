import Foundation
import LanguageModels
import Tensors
import TestSupport
import Tokenizers
import XCTest
@testable import Probes

/// Collect → train → save → load → evaluate on a tiny model, the generation hook's rows and stopping, and the
/// errors for bad input.
final class SafetyCircuitTests: XCTestCase {
    var directory: URL!

    override func setUpWithError() throws { directory = try TinyModels.temporaryDirectory("probes") }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: directory) }

    func load(seed: UInt64) throws -> (any CausalLanguageModel, Tokenizer, ModelIdentity) {
        let folder = try TinyModels.folder(in: directory, name: "model-\(seed)", seed: seed)
        let (model, tokenizer) = try AdaptedModelFolder(base: folder).load()
        return (model, tokenizer, ModelIdentity(model: model, name: "model-\(seed)"))
    }

    /// Texts whose label is decided by their last word (a fruit or an animal) after varied openings.
    func writeLabelledTexts() throws -> URL {
        let openings = ["I saw a", "Please bring the", "Where is my", "They painted the", "We talked about the", "Look at that",
                        "My friend likes the", "Nobody wants a", "Here comes the", "Draw me a"]
        var lines: [String] = []
        for (index, opening) in openings.enumerated() {
            for word in ["apple", "pear", "plum"] { lines.append(#"{"text": "\#(opening) \#(word)", "label": true, "group": "g\#(index)-\#(word)"}"#) }
            for word in ["cat", "dog", "horse"] { lines.append(#"{"text": "\#(opening) \#(word)", "label": 0, "group": "g\#(index)-\#(word)"}"#) }
        }
        let url = directory.appendingPathComponent("labelled.jsonl")
        try lines.joined(separator: "\n").write(to: url, atomically: true, encoding: .utf8)
        return url
    }

    func testCollectTrainSaveLoadAndEvaluate() throws {
        let (model, tokenizer, identity) = try load(seed: 1)
        let source = try writeLabelledTexts()
        let examples = try LabelledText.read(source)
        XCTAssertEqual(examples.count, 60)
        var collector = try ActivationCollector(model: model, tokenizer: tokenizer, identity: identity, layers: [0, 1], position: .last)
        collector.maximumShardBytes = 16 * 2 * 4 * 25  // 25 rows a shard: the reader must join shards
        let folder = directory.appendingPathComponent("acts")
        let set = try collector.collect(examples, source: source, into: folder)
        XCTAssertEqual(set.shards.map(\.rows), [25, 25, 10])
        // Rows are the model's own hidden states at the last token.
        let data = try set.rows(layer: 1, in: folder)
        let ids = tokenizer.encode("Where is my plum").map(Int32.init)
        let direct = withoutGradients { model.forward(ModelInput(ids: ids, batch: 1, time: ids.count, outputHiddenStates: true), cache: nil) }
        XCTAssertEqual(data.rows[2 * 6 + 2], Array(direct.hiddenStates[1].scalars.suffix(16)))
        XCTAssertEqual(data.labels[2 * 6 + 2], true)

        var trainer = ProbeTrainer()
        trainer.seed = 4
        let probe = try trainer.train(ActivationSet.read(folder), folder: folder)
        XCTAssertEqual(probe.description.sweep.count, 4)  // 2 layers × 2 methods
        // The last word decides the label and the embeddings layer sees it: held-out groups are separated.
        XCTAssertGreaterThan(probe.description.metrics.auroc, 0.9, "\(probe.description.sweep)")
        XCTAssertLessThanOrEqual(probe.description.falsePositiveRate, 0.05 + 1e-9)

        let saved = directory.appendingPathComponent("probe")
        try probe.save(to: saved)
        let loaded = try Probe.load(from: saved)
        XCTAssertEqual(loaded.scorer, probe.scorer)
        XCTAssertEqual(loaded.description.threshold, probe.description.threshold)
        try loaded.check(model: identity, folder: saved)
        let evaluated = try loaded.evaluate(set, folder: folder)
        XCTAssertEqual(evaluated.scores.count, 60)
        XCTAssertGreaterThan(evaluated.metrics.auroc, 0.9)
    }

    func testAProbeForAnotherModelOrLayerIsRefusedByName() throws {
        let (model, tokenizer, identity) = try load(seed: 1)
        let (_, _, other) = try load(seed: 2)
        XCTAssertThrowsError(try ActivationCollector(model: model, tokenizer: tokenizer, identity: identity, layers: [2], position: .last)) {
            XCTAssertEqual($0 as? ProbeError, .layerOutOfRange(layer: 2, available: "0...1 for this 1-block model"))
        }
        let source = try writeLabelledTexts()
        let folder = directory.appendingPathComponent("acts")
        _ = try ActivationCollector(model: model, tokenizer: tokenizer, identity: identity, layers: [1], position: .last)
            .collect(try LabelledText.read(source), source: source, into: folder)
        let probe = try ProbeTrainer().train(ActivationSet.read(folder), folder: folder)
        let saved = directory.appendingPathComponent("probe")
        try probe.save(to: saved)
        // Same sizes, other weights.
        XCTAssertThrowsError(try Probe.load(from: saved).check(model: other, folder: saved)) { error in
            guard case let .modelMismatch(_, field, _, _)? = error as? ProbeError else { return XCTFail("\(error)") }
            XCTAssertEqual(field, "weights")
            XCTAssertTrue("\(error)".contains("probe.json"), "\(error)")
        }
        // Another hidden size.
        var wider = identity
        wider.hiddenSize = 32
        XCTAssertThrowsError(try probe.description.model.check(against: wider, file: "probe.json")) {
            XCTAssertEqual($0 as? ProbeError, .modelMismatch(file: "probe.json", field: "hidden size", expected: "16", found: "32"))
        }
        // A probe file whose tensors do not match its description.
        var description = try JSONSerialization.jsonObject(with: Data(contentsOf: saved.appendingPathComponent("probe.json"))) as? [String: Any]
        var modelEntry = description?["model"] as? [String: Any]
        modelEntry?["hidden_size"] = 8
        description?["model"] = modelEntry
        try JSONSerialization.data(withJSONObject: description ?? [:]).write(to: saved.appendingPathComponent("probe.json"))
        XCTAssertThrowsError(try Probe.load(from: saved)) { XCTAssertTrue("\($0)".contains("hidden size is 8"), "\($0)") }
        // Evaluating activations collected without the probe's layer.
        let layerZero = directory.appendingPathComponent("acts0")
        _ = try ActivationCollector(model: model, tokenizer: tokenizer, identity: identity, layers: [0], position: .last)
            .collect(try LabelledText.read(source), source: source, into: layerZero)
        XCTAssertThrowsError(try probe.evaluate(ActivationSet.read(layerZero), folder: layerZero)) {
            XCTAssertEqual($0 as? ProbeError, .layerOutOfRange(layer: probe.description.layer, available: "the collected layers 0"))
        }
    }

    func testLabelledFileErrorsNameTheLineAndField() throws {
        let url = directory.appendingPathComponent("bad.jsonl")
        for (text, expected) in [
            (#"{"text": "a", "label": true}"# + "\n" + #"{"text": "b"}"#, ProbeError.badExample(file: "bad.jsonl", line: 2, field: "label", reason: "is missing; add \"label\": true (positive) or false")),
            (#"{"prompt": "a", "response": 3, "label": 1}"#, .badExample(file: "bad.jsonl", line: 1, field: "response", reason: "must be a string, not number")),
            (#"{"text": "a", "label": "yes"}"#, .badExample(file: "bad.jsonl", line: 1, field: "label", reason: "must be true/false or 1/0, not \"yes\"")),
            (#"{"label": true}"#, .badExample(file: "bad.jsonl", line: 1, field: "text", reason: "is missing; give \"text\", or \"prompt\" with an optional \"response\"")),
            (#"{"text": "a", "label": true, "split": "test"}"#, .badExample(file: "bad.jsonl", line: 1, field: "split", reason: "must be \"train\" or \"held-out\", not \"test\"")),
        ] {
            try text.write(to: url, atomically: true, encoding: .utf8)
            XCTAssertThrowsError(try LabelledText.read(url)) { XCTAssertEqual($0 as? ProbeError, expected) }
        }
    }

    /// Records what the generator shows it and stops one sequence after a given token.
    final class RecordingMonitor: GenerationMonitor {
        let layer: Int
        let stopAfter: [Int: Int]
        var prompts: [Int: [Float]] = [:]
        var tokens: [Int: [(index: Int, row: [Float])]] = [:]
        init(layer: Int, stopAfter: [Int: Int]) { (self.layer, self.stopAfter) = (layer, stopAfter) }
        func observe(sequence: Int, tokenIndex: Int?, hiddenStates: UnsafeBufferPointer<Float>, count: Int, hiddenSize: Int) -> Bool {
            guard let tokenIndex else { prompts[sequence] = Array(hiddenStates); return false }
            tokens[sequence, default: []].append((tokenIndex, Array(hiddenStates)))
            return stopAfter[sequence] == tokenIndex
        }
    }

    func testTheMonitorSeesEachNewTokensHiddenStateAndStopsItsSequence() throws {
        let (model, _, _) = try load(seed: 1)
        let prompts: [[Int32]] = [[5, 9, 14, 3], [7, 2]]  // different lengths: the batch is left-padded
        let configuration = GenerationConfiguration(sampling: SamplingOptions(maximumTokens: 6))
        let plain = Generator(model: model).generate(prompts: prompts, configuration: configuration)
        let monitor = RecordingMonitor(layer: 1, stopAfter: [0: 2])
        let watched = Generator(model: model, monitor: monitor).generate(prompts: prompts, configuration: configuration)
        // Sequence 0 stops after its token 2's hidden state triggered (the token sampled in that step is dropped);
        // sequence 1 is untouched.
        XCTAssertEqual(watched[0].tokens, Array(plain[0].tokens.prefix(3)))
        XCTAssertEqual(watched[0].finishReason, .contentFilter)
        XCTAssertEqual(watched[1].tokens, plain[1].tokens)
        XCTAssertEqual(watched[1].finishReason, plain[1].finishReason)
        // Every row shown is the layer's hidden state at that position of a full forward pass without a cache.
        for sequence in 0..<2 {
            let ids = prompts[sequence] + watched[sequence].tokens
            let full = withoutGradients { model.forward(ModelInput(ids: ids, batch: 1, time: ids.count, outputHiddenStates: true), cache: nil) }
            let values = full.hiddenStates[1].scalars
            XCTAssertEqual(monitor.prompts[sequence]?.count, prompts[sequence].count * 16)
            for (a, b) in zip(monitor.prompts[sequence] ?? [], values.prefix(prompts[sequence].count * 16)) { XCTAssertEqual(a, b, accuracy: 1e-4) }
            let shown = monitor.tokens[sequence] ?? []
            XCTAssertEqual(shown.map(\.index), Array(0..<(sequence == 0 ? 3 : watched[1].tokens.count - 1)))
            for (index, row) in shown {
                let position = prompts[sequence].count + index
                for (a, b) in zip(row, values[(position * 16)..<((position + 1) * 16)]) { XCTAssertEqual(a, b, accuracy: 1e-4, "sequence \(sequence) token \(index)") }
            }
        }
    }
}

extension SafetyCircuitTests {
    /// What `charter serve --probe` relies on: a local model with a monitor reports a stopped request as content_filter.
    func testALocalModelWithACircuitFinishesWithContentFilter() async throws {
        let folder = try TinyModels.folder(in: directory, name: "served", seed: 1)
        let local = try LocalLanguageModel.load(directory: folder)
        let options = SamplingOptions(maximumTokens: 5)
        let plain = try await local.complete(CompletionRequest(prompt: "Where is my plum", options: options))
        XCTAssertNotEqual(plain.finishReason, .contentFilter)
        local.monitor = RecordingMonitor(layer: 1, stopAfter: [0: 1])
        let watched = try await local.complete(CompletionRequest(prompt: "Where is my plum", options: options))
        XCTAssertEqual(watched.finishReason, .contentFilter)
        XCTAssertEqual(watched.completionTokenCount, 2)
        XCTAssertTrue(plain.text.hasPrefix(watched.text), "\(plain.text) / \(watched.text)")
    }

    /// What `charter serve --steer` relies on: a local model's steering applies to every request (α = 0 changes
    /// nothing, a strong push changes greedy text), and with a monitor a triggered request goes on steered instead of
    /// finishing with content_filter.
    func testALocalModelSteersItsRequests() async throws {
        let folder = try TinyModels.folder(in: directory, name: "steered", seed: 2)
        let local = try LocalLanguageModel.load(directory: folder, prefixCacheBytes: 0)
        let size = ModelIdentity(model: local.model, name: "steered").hiddenSize
        let direction = (0..<size).map { Float($0 % 3) - 1 }
        let options = SamplingOptions(maximumTokens: 6, temperature: 0)
        let request = CompletionRequest(prompt: "Where is my plum", options: options)
        let plain = try await local.complete(request)
        local.steering = try ActivationSteering(direction: direction, layers: [1], operation: .add(0))
        let unmoved = try await local.complete(request)
        XCTAssertEqual(unmoved.text, plain.text, "α = 0")
        local.steering = try ActivationSteering(direction: direction, layers: [1, 2], operation: .add(80))
        let pushed = try await local.complete(request)
        XCTAssertNotEqual(pushed.text, plain.text, "a strong push changes greedy text")
        local.steering = nil
        local.monitor = RecordingMonitor(layer: 1, stopAfter: [0: 1])
        local.steeringOnTrigger = try ActivationSteering(direction: direction, layers: [1, 2], operation: .add(80))
        let steered = try await local.complete(request)
        XCTAssertNotEqual(steered.finishReason, .contentFilter, "a steered trigger goes on")
        XCTAssertEqual(steered.completionTokenCount, 6)
    }
}
