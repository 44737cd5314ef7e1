import Foundation
import JSON
import XCTest
@testable import LanguageModels
import SafeTensors
import Tensors

/// Hostile config.json files and checkpoints: every one is refused with an error naming the key or tensor, before
/// any weight is allocated — never a crash, an abort on a terabyte allocation, or a silently huge default model.
final class ModelFolderValidationTests: XCTestCase {
    static let checkpoints = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/checkpoints")
    var directory: URL!

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("charter-hostile-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: directory) }

    /// A folder with `fixture`'s weights and its config.json with `changes` applied (nil removes the key).
    func folder(_ fixture: String, _ changes: [String: JSONValue?]) throws -> URL {
        let source = Self.checkpoints.appendingPathComponent(fixture)
        let target = directory.appendingPathComponent("\(fixture)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: target, withIntermediateDirectories: true)
        try FileManager.default.copyItem(at: source.appendingPathComponent("model.safetensors"), to: target.appendingPathComponent("model.safetensors"))
        var config = try JSONParser.parse(Data(contentsOf: source.appendingPathComponent("config.json")))
        for (key, value) in changes {
            if let value {
                config = config.setting(key, value)
            } else if case let .object(members) = config {
                config = .object(members.filter { $0.key != key })
            }
        }
        try Data(config.serialized().utf8).write(to: target.appendingPathComponent("config.json"))
        return target
    }

    /// Loading `folder` as a causal LM and as a sequence classifier both fail with a message containing every text.
    func assertRefused(_ folder: URL, _ texts: [String], file: StaticString = #filePath, line: UInt = #line) {
        for load in [{ _ = try PretrainedModel.load(directory: folder) }, { _ = try SequenceClassifier.load(directory: folder) }] {
            XCTAssertThrowsError(try load(), file: file, line: line) { error in
                for text in texts { XCTAssertTrue("\(error)".contains(text), "\(error)\nshould mention: \(text)", file: file, line: line) }
            }
        }
    }

    func testOutOfRangeSizesNameTheKeyAndValue() throws {
        let cases: [(String, [String: JSONValue?], [String])] = [
            ("llama_gqa", ["vocab_size": .number(0)], ["config.json: vocab_size: must be a whole number from 1", "(got 0)"]),
            ("llama_gqa", ["hidden_size": .number(-32)], ["hidden_size: must be a whole number from 1", "(got -32)"]),
            ("llama_gqa", ["num_hidden_layers": .number(-1)], ["num_hidden_layers:", "(got -1)"]),
            ("llama_gqa", ["num_attention_heads": .number(0)], ["num_attention_heads:", "(got 0)"]),
            ("llama_gqa", ["intermediate_size": .number(0)], ["intermediate_size:", "(got 0)"]),
            ("llama_gqa", ["max_position_embeddings": .number(0)], ["max_position_embeddings:", "(got 0)"]),
            ("llama_gqa", ["rms_norm_eps": .number(-1)], ["rms_norm_eps: must be a finite number ≥ 0"]),
            ("llama_gqa", ["num_key_value_heads": .number(3)], ["num_key_value_heads: must divide num_attention_heads", "got num_key_value_heads 3, num_attention_heads 4"]),
            ("llama_gqa", ["head_dim": nil, "hidden_size": .number(30)], ["hidden_size: must be divisible by num_attention_heads", "hidden_size 30"]),
            ("llama_gqa", ["head_dim": .number(7)], ["head_dim: gives an odd head size 7"]),
            ("llama_gqa", ["hidden_act": .string("gelu")], ["hidden_act: must be one of silu"]),
            ("llama_gqa", ["rope_parameters": nil, "rope_scaling": .object([.init("rope_type", .string("yarn")), .init("factor", .number(2))])],
             ["rope_scaling.rope_type: \"yarn\" is not supported"]),
            ("gpt2", ["n_head": .number(0)], ["config.json: n_head:", "(got 0)"]),
            ("gpt2", ["n_head": .number(3)], ["n_embd: must be divisible by n_head", "n_embd 32, n_head 3"]),
            ("gpt2", ["n_head": nil], ["n_embd: must be divisible by n_head", "n_head 12", "does not set n_head, so transformers' default n_head = 12 was used"]),
            ("gpt2", ["n_embd": .number(0)], ["n_embd:", "(got 0)"]),
            ("gpt2", ["n_layer": .number(-3)], ["n_layer:", "(got -3)"]),
            ("gpt2", ["n_positions": .number(0)], ["n_positions:", "(got 0)"]),
            ("gpt2", ["activation_function": .string("relu")], ["activation_function: must be one of gelu_new"]),
        ]
        for (fixture, changes, texts) in cases { assertRefused(try folder(fixture, changes), texts) }
    }

    func testHugeSizesAreRefusedBeforeAllocationNamingTheEstimateAndTheMachine() throws {
        // 1e9-wide embeddings and LM head: about 4 TB of float32, refused from config.json alone.
        let started = Date()
        assertRefused(try folder("llama_gqa", ["hidden_size": .number(1_000_000_000)]),
                      [" TB (", "parameters × 4 bytes, float32), more than this machine's", "of physical memory", "the checkpoint holds only ",
                       "config.json's sizes do not match the weights"])
        XCTAssertLessThan(Date().timeIntervalSince(started), 5, "refused from the header, not after allocating")
    }

    func testMissingSizeKeysNeverSilentlyTakeHugeDefaults() throws {
        // {"model_type": "llama"} alone implies transformers' 4096 × 32 defaults (6.7e9 parameters, 27 GB) for a
        // 128 × 32 checkpoint: refused (memory or shape), saying which keys were missing and the defaults used.
        let target = directory.appendingPathComponent("bare")
        try FileManager.default.createDirectory(at: target, withIntermediateDirectories: true)
        try FileManager.default.copyItem(at: Self.checkpoints.appendingPathComponent("llama_gqa/model.safetensors"),
                                         to: target.appendingPathComponent("model.safetensors"))
        try #"{"model_type": "llama"}"#.write(to: target.appendingPathComponent("config.json"), atomically: true, encoding: .utf8)
        assertRefused(target, ["does not set vocab_size, hidden_size, intermediate_size, num_hidden_layers, num_attention_heads, max_position_embeddings",
                               "vocab_size = 32000, hidden_size = 4096"])
    }

    func testWeightShapesAreComparedWithConfigNamingTensorAndShapes() throws {
        assertRefused(try folder("llama_gqa", ["intermediate_size": .number(60)]),
                      [#"tensor "model.layers.0.mlp.gate_proj.weight" has shape [64, 32], config.json implies [60, 32]"#])
        assertRefused(try folder("llama_gqa", ["num_key_value_heads": .number(4)]),
                      [#"tensor "model.layers.0.self_attn.k_proj.weight" has shape [16, 32], config.json implies [32, 32]"#])
        assertRefused(try folder("gpt2", ["n_positions": .number(128)]),
                      [#"tensor "transformer.wpe.weight" has shape [64, 32], config.json implies [128, 32]"#])
        assertRefused(try folder("llama_gqa", ["num_hidden_layers": .number(3)]), [#"checkpoint has no tensor "model.layers.2.input_layernorm.weight""#])
    }

    func testIntegerWeightsAreRefusedNamingTensorAndDType() throws {
        let target = try folder("llama_gqa", [:])
        let weights = target.appendingPathComponent("model.safetensors")
        let original = try SafeTensorsFile(url: weights)
        var writer = SafeTensorsWriter()
        for name in original.names {
            let info = try original.info(name)
            if name == "model.norm.weight" {
                // What a quantized checkpoint stores: integers where the float weights were.
                let integers = try original.floats(name).map { Int32($0 * 1000) }
                try writer.add(name, dtype: .int32, shape: info.shape, bytes: integers.withUnsafeBytes { Data($0) })
            } else {
                try writer.add(name, shape: info.shape, values: try original.floats(name))
            }
        }
        try writer.write(to: weights)
        assertRefused(target, [#"tensor "model.norm.weight" has dtype I32, but a model weight must be floating-point"#, "quantized"])
    }

    func testCheckpointLayoutListsExactlyTheModelsTensors() throws {
        var generator = SeededGenerator(seed: 1)
        var llama = LlamaConfiguration()
        (llama.vocabularySize, llama.hiddenSize, llama.intermediateSize, llama.layerCount, llama.headCount) = (40, 16, 24, 2, 4)
        var variants = [llama]
        llama.keyValueHeadCount = 2; llama.tieWordEmbeddings = true; llama.mlpBias = true; variants.append(llama)
        llama.modelType = "qwen2"; llama.attentionBias = true; llama.headSize = 6; variants.append(llama)
        for configuration in variants {
            let model = LlamaModel(configuration, generator: &generator)
            let entries = model.checkpointEntries().map { CheckpointLayout.Entry($0.name, $0.shape) }
            XCTAssertEqual(configuration.checkpointLayout().entries, entries, "\(configuration)")
            XCTAssertEqual(configuration.checkpointLayout().parameterCount, Double(model.parameters().reduce(0) { $0 + $1.count }))
        }
        var gpt = GPTConfiguration()
        (gpt.vocabularySize, gpt.contextLength, gpt.layerCount, gpt.headCount, gpt.width) = (40, 8, 2, 2, 16)
        for bias in [true, false] {
            gpt.bias = bias
            let model = GPTModel(gpt, generator: &generator)
            XCTAssertEqual(gpt.checkpointLayout().entries, model.checkpointEntries().map { CheckpointLayout.Entry($0.name, $0.shape) })
            XCTAssertEqual(gpt.checkpointLayout().parameterCount, Double(model.parameters().reduce(0) { $0 + $1.count }))
        }
    }

    func testMemoryEstimateNamesBothSizes() throws {
        let target = try folder("gpt2", [:])
        let folder = try ModelFolder(directory: target)
        let configuration = try folder.configuration(GPTConfiguration.self)
        let tensors = try ShardedSafeTensors(directory: target)
        let layout = configuration.checkpointLayout()
        XCTAssertNoThrow(try folder.checkMemory(layout: layout, tensors: tensors, physicalMemory: 4 * layout.parameterCount))
        XCTAssertThrowsError(try folder.checkMemory(layout: layout, tensors: tensors, physicalMemory: 4 * layout.parameterCount - 1)) { error in
            XCTAssertTrue("\(error)".contains("needs about 122.4 KB (30592 parameters × 4 bytes, float32), more than this machine's 122.4 KB"), "\(error)")
            XCTAssertTrue("\(error)".contains("use a smaller model"), "the weights match config.json: \(error)")
        }
    }

    func testTokenizerIdsBeyondTheEmbeddingAreRefusedAtLoad() throws {
        // The fault campaign's case: an added token with id 1024 on a 1024-row embedding.
        let tokenizerURL = Self.checkpoints.deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("TokenizersTests/Fixtures/gpt2/tokenizer.json")
        var tokenizer = try JSONParser.parse(Data(contentsOf: tokenizerURL))
        guard case let .array(added)? = tokenizer["added_tokens"] else { return XCTFail("the fixture has added_tokens") }
        let extra = JSONValue.object([.init("id", .number(1024)), .init("content", .string("<|extra|>")), .init("single_word", .bool(false)),
                                      .init("lstrip", .bool(false)), .init("rstrip", .bool(false)), .init("normalized", .bool(false)),
                                      .init("special", .bool(true))])
        tokenizer = tokenizer.setting("added_tokens", .array(added + [extra]))
        for rows in [1024, 1025] {
            let target = directory.appendingPathComponent("vocab-\(rows)")
            var configuration = LlamaConfiguration()
            (configuration.vocabularySize, configuration.hiddenSize, configuration.intermediateSize) = (rows, 8, 16)
            (configuration.layerCount, configuration.headCount, configuration.tieWordEmbeddings) = (1, 2, true)
            var generator = SeededGenerator(seed: 3)
            try PretrainedModel.save(LlamaModel(configuration, generator: &generator), to: target)
            try Data(tokenizer.serialized().utf8).write(to: target.appendingPathComponent("tokenizer.json"))
            if rows == 1025 {
                XCTAssertNoThrow(try PretrainedModel.load(directory: target))
                continue
            }
            let expected = #"the tokenizer's token "<|extra|>" has id 1024, but the model's embedding has 1024 rows"#
            assertRefused(target, [expected, "resize_token_embeddings"])
            XCTAssertThrowsError(try LocalLanguageModel.load(directory: target)) { XCTAssertTrue("\($0)".contains(expected), "\($0)") }
        }
    }
}
