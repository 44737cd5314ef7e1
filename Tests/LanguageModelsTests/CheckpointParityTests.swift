import Foundation
import XCTest
@testable import LanguageModels
import Tensors

/// Charter's forward pass, log-probs, hidden states and greedy generation against transformers' outputs on
/// tiny random checkpoints of every supported architecture (Fixtures/make_checkpoints.py).
final class CheckpointParityTests: XCTestCase {
    static let checkpoints = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/checkpoints")
    static let names = ["llama_gqa", "llama_tied_bf16", "llama3_rope_scaling", "llama_linear_scaling", "qwen2",
                        "mistral_sliding", "gpt2", "llama_sharded"]

    struct Stored: Decodable { let shape: [Int]; let data: [Float] }
    struct Reference: Decodable {
        struct Input: Decodable { let input_ids: [[Int32]]; let attention_mask: [[UInt8]]; let position_ids: [[Int32]] }
        struct Output: Decodable { let logits: Stored; let token_logprobs: Stored; let hidden_states: Stored? }
        struct Rope: Decodable { let inv_freq: Stored }
        struct Generate: Decodable { let prompt_ids: [Int32]; let max_new_tokens: Int; let eos_token_id: Int32; let new_ids: [Int32] }
        struct GenerateBatch: Decodable { let input_ids: [[Int32]]; let attention_mask: [[UInt8]]; let max_new_tokens: Int; let eos_token_id: Int32; let pad_token_id: Int32; let new_ids: [[Int32]] }
        struct Outputs: Decodable { let single: Output; let batch: Output; let rope: Rope? }
        let inputs: [String: Input]
        let outputs: Outputs
        let generate: Generate
        let generate_batch: GenerateBatch
    }

    static func reference(_ name: String) throws -> Reference {
        try JSONDecoder().decode(Reference.self, from: Data(contentsOf: checkpoints.appendingPathComponent("\(name)/reference.json")))
    }

    private func assertClose(_ actual: [Float], _ expected: [Float], tolerance: Float = 1e-4, skip: (Int) -> Bool = { _ in false },
                             _ what: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(actual.count, expected.count, what, file: file, line: line)
        for (index, (a, e)) in zip(actual, expected).enumerated() where !skip(index) && !(Swift.abs(a - e) <= tolerance * max(1, Swift.abs(e))) {
            return XCTFail("\(what)[\(index)]: Charter \(a) vs transformers \(e)", file: file, line: line)
        }
    }

    func testLogitsLogProbabilitiesAndHiddenStates() throws {
        for name in Self.names {
            let model = try PretrainedModel.load(directory: Self.checkpoints.appendingPathComponent(name))
            let reference = try Self.reference(name)
            for (key, output) in [("single", reference.outputs.single), ("batch", reference.outputs.batch)] {
                let input = reference.inputs[key]!
                let (batch, time) = (input.input_ids.count, input.input_ids[0].count)
                let mask = input.attention_mask.flatMap { $0 }
                let result = withoutGradients {
                    model.forward(ModelInput(ids: input.input_ids.flatMap { $0 }, batch: batch, time: time,
                                             attentionMask: mask.contains(0) ? mask : nil, positions: input.position_ids.flatMap { $0 },
                                             outputHiddenStates: true), cache: nil)
                }
                let vocabulary = result.logits.shape[2]
                assertClose(result.logits.scalars, output.logits.data, skip: { mask[$0 / vocabulary] == 0 }, "\(name) \(key) logits")
                let logProbabilities = result.logits.logSoftmax()
                var tokenLogProbabilities: [Float] = []
                for b in 0..<batch {
                    for t in 0..<(time - 1) {
                        tokenLogProbabilities.append(logProbabilities[b, t, Int(input.input_ids[b][t + 1])])
                    }
                }
                assertClose(tokenLogProbabilities, output.token_logprobs.data,
                            skip: { mask[($0 / (time - 1)) * time + $0 % (time - 1)] == 0 }, "\(name) \(key) token log-probs")
                if let hidden = output.hidden_states {
                    assertClose(result.hiddenStates.flatMap(\.scalars), hidden.data, "\(name) hidden states")
                }
            }
            if let rope = reference.outputs.rope, let llama = model as? LlamaModel {
                assertClose(llama.configuration.inverseFrequencies().map { Float($0) }, rope.inv_freq.data, tolerance: 1e-6, "\(name) inv_freq")
            }
        }
    }

    func testGreedyGenerationMatchesTransformers() throws {
        for name in Self.names {
            let model = try PretrainedModel.load(directory: Self.checkpoints.appendingPathComponent(name))
            let reference = try Self.reference(name)
            let single = reference.generate
            let configuration = GenerationConfiguration(sampling: SamplingOptions(maximumTokens: single.max_new_tokens, temperature: 0),
                                                        endOfSequenceTokens: [single.eos_token_id])
            let generated = Generator(model: model).generate(prompts: [single.prompt_ids], configuration: configuration)
            XCTAssertEqual(generated[0].tokens, single.new_ids, "\(name) greedy generation")
            // Batched, left-padded prompts: each row as if generated alone (HF pads finished rows with pad ids).
            let batch = reference.generate_batch
            let prompts = zip(batch.input_ids, batch.attention_mask).map { ids, mask in zip(ids, mask).filter { $0.1 != 0 }.map(\.0) }
            let results = Generator(model: model).generate(prompts: prompts, configuration: configuration)
            for (result, expected) in zip(results, batch.new_ids) {
                XCTAssertEqual(result.tokens, Array(expected.prefix(result.tokens.count)), "\(name) batched generation")
                XCTAssertTrue(expected.dropFirst(result.tokens.count).allSatisfy { $0 == batch.pad_token_id }, "\(name) stops where transformers stops")
            }
        }
    }

    func testSavedCheckpointReloadsWithIdenticalLogits() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("charter-save-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        for name in ["llama_gqa", "qwen2", "gpt2", "llama_tied_bf16"] {
            let model = try PretrainedModel.load(directory: Self.checkpoints.appendingPathComponent(name))
            let target = directory.appendingPathComponent(name)
            try PretrainedModel.save(model, to: target, maximumShardSize: 20_000)
            let reloaded = try PretrainedModel.load(directory: target)
            let ids: [Int32] = [1, 5, 9, 2, 7]
            let before = withoutGradients { model.forward(ModelInput(ids: ids, batch: 1, time: 5), cache: nil).logits.scalars }
            let after = withoutGradients { reloaded.forward(ModelInput(ids: ids, batch: 1, time: 5), cache: nil).logits.scalars }
            XCTAssertEqual(before, after, "\(name) after save and load")
        }
    }

    func testKVCacheDecodingEqualsFullForward() throws {
        for name in ["llama_gqa", "gpt2", "mistral_sliding"] {
            let model = try PretrainedModel.load(directory: Self.checkpoints.appendingPathComponent(name))
            let ids: [Int32] = [1, 17, 42, 5, 88, 23, 61, 9]
            let full = withoutGradients { model.forward(ModelInput(ids: ids, batch: 1, time: 8), cache: nil).logits }
            let cache = KVCache(layerCount: model.layerCount)
            var stepwise: [Float] = withoutGradients { model.forward(ModelInput(ids: Array(ids.prefix(5)), batch: 1, time: 5), cache: cache).logits.scalars }
            for t in 5..<8 {
                stepwise += withoutGradients { model.forward(ModelInput(ids: [ids[t]], batch: 1, time: 1), cache: cache).logits.scalars }
            }
            assertClose(stepwise, full.scalars, tolerance: 1e-5, "\(name) cached decoding")
        }
    }

    func testUnsupportedOrBrokenFoldersGiveClearErrors() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("charter-bad-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let source = Self.checkpoints.appendingPathComponent("llama_gqa")
        try FileManager.default.copyItem(at: source.appendingPathComponent("model.safetensors"), to: directory.appendingPathComponent("model.safetensors"))
        func expectError(_ config: String, containing text: String, file: StaticString = #filePath, line: UInt = #line) {
            try? config.write(to: directory.appendingPathComponent("config.json"), atomically: true, encoding: .utf8)
            XCTAssertThrowsError(try PretrainedModel.load(directory: directory), file: file, line: line) { error in
                XCTAssertTrue("\(error)".contains(text), "\(error) should mention \(text)", file: file, line: line)
            }
        }
        expectError(#"{"model_type": "bert"}"#, containing: "model_type \"bert\" is not supported")
        expectError(#"{"hidden_size": 32}"#, containing: "no \"model_type\"")
        expectError("not json", containing: "not a JSON object")
        expectError(#"{"model_type": "llama", "hidden_size": "wide"}"#, containing: "hidden_size")
        let config = try String(contentsOf: source.appendingPathComponent("config.json"), encoding: .utf8)
        expectError(config.replacingOccurrences(of: "\"num_hidden_layers\": 2", with: "\"num_hidden_layers\": 3"), containing: "model.layers.2")
        expectError(config.replacingOccurrences(of: "\"num_hidden_layers\": 2", with: "\"num_hidden_layers\": 1"), containing: "not used by the model")
        expectError(config.replacingOccurrences(of: "\"intermediate_size\": 64", with: "\"intermediate_size\": 60"), containing: "has shape")
    }
}
