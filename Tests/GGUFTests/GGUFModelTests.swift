import Foundation
import JSON
import XCTest
import GGUF
@testable import LanguageModels
import Tensors
import Tokenizers

/// GGUF model files read as transformers reads them (`from_pretrained(dir, gguf_file=…)`, Fixtures/make_fixtures.py):
/// the same configuration, the same token ids, the same logits; and `convert`'s folder loads back identically.
final class GGUFModelTests: XCTestCase {
    static let fixtures = GGUFDequantizationTests.fixtures
    static let names = ["llama", "qwen2", "gpt2"]

    struct Expected: Decodable {
        struct Tokens: Decodable { let text: String; let ids: [Int] }
        let config: JSONValue
        let tokens: [Tokens]
        let sequence: [Int32]
        let logits: [String: [Float]]
        let bos_token: String?
        let eos_token: String?
        let chat_template: String?
    }

    static func expected() throws -> [String: Expected] {
        try JSONDecoder().decode([String: Expected].self, from: Data(contentsOf: fixtures.appendingPathComponent("expected.json")))
    }

    func logits(_ model: any CausalLanguageModel, _ ids: [Int32]) -> Tensor {
        withoutGradients { model.forward(ModelInput(ids: ids, batch: 1, time: ids.count), cache: nil).logits }
    }

    func assertLogits(_ model: any CausalLanguageModel, _ expected: Expected, _ what: String, file: StaticString = #filePath, line: UInt = #line) {
        let output = logits(model, expected.sequence)
        let vocabulary = output.shape[2]
        for (row, values) in expected.logits {
            guard let position = Int(row) else { return XCTFail("row \(row)") }
            for (index, value) in values.enumerated() {
                let actual = output.scalars[position * vocabulary + index]
                if abs(actual - value) > 1e-4 * max(1, abs(value)) {
                    return XCTFail("\(what): logits[\(position), \(index)] Charter \(actual) vs transformers \(value)", file: file, line: line)
                }
            }
        }
    }

    func testConfigurationTokensAndLogitsMatchTransformers() throws {
        let expected = try Self.expected()
        for name in Self.names {
            let reference = try XCTUnwrap(expected[name])
            let checkpoint = try GGUFCheckpoint(url: Self.fixtures.appendingPathComponent("\(name).gguf"))
            XCTAssertEqual(checkpoint.modelType, name)
            // Every size transformers derived from the metadata is the one Charter derived.
            for key in reference.config.keys where !["bos_token_id", "eos_token_id", "n_positions"].contains(key) {
                let value = reference.config[key], ours = checkpoint.configuration[key]
                if value == .null { continue }  // GPT-2's n_inner: transformers' None means 4 × n_embd
                if let number = value?.doubleValue {
                    XCTAssertEqual(ours?.doubleValue ?? .nan, number, accuracy: 1e-9 * abs(number), "\(name) \(key)")
                } else {
                    XCTAssertEqual(ours, value, "\(name) \(key)")
                }
            }
            let tokenizer = try checkpoint.loadTokenizer()
            for sample in reference.tokens {
                XCTAssertEqual(tokenizer.encode(sample.text, addSpecialTokens: true), sample.ids, "\(name): \(sample.text)")
            }
            XCTAssertEqual(tokenizer.bosToken, reference.bos_token, name)
            XCTAssertEqual(tokenizer.eosToken, reference.eos_token, name)
            XCTAssertEqual(try checkpoint.chatTemplate() != nil, reference.chat_template != nil, name)
            assertLogits(try checkpoint.loadModel(), reference, name)
        }
    }

    func testModelFileLoadsWhereAFolderIsAccepted() throws {
        let url = Self.fixtures.appendingPathComponent("llama.gguf")
        let local = try LocalLanguageModel.load(directory: url)
        XCTAssertTrue(local.hasChatTemplate)
        XCTAssertEqual(local.endOfSequenceTokens, [2])
        let (model, tokenizer) = try AdaptedModelFolder(model: url).load()
        XCTAssertEqual(model.vocabularySize, tokenizer.vocabularySize)
        XCTAssertEqual(try PretrainedModel.tokenizer(at: url).encode("Hello world", addSpecialTokens: true),
                       tokenizer.encode("Hello world", addSpecialTokens: true))
    }

    func testConvertedFolderLoadsBackIdentically() throws {
        let expected = try Self.expected()
        for name in Self.names {
            let checkpoint = try GGUFCheckpoint(url: Self.fixtures.appendingPathComponent("\(name).gguf"))
            let model = try checkpoint.loadModel()
            let folder = FileManager.default.temporaryDirectory.appendingPathComponent("gguf-convert-\(UUID().uuidString)")
            defer { try? FileManager.default.removeItem(at: folder) }
            try checkpoint.convert(to: folder, model: model)
            let (loaded, tokenizer) = try PretrainedModel.loadWithTokenizer(directory: folder)
            XCTAssertEqual(logits(loaded, [1, 2, 3, 4]).scalars, logits(model, [1, 2, 3, 4]).scalars, name)
            for sample in try XCTUnwrap(expected[name]).tokens {
                XCTAssertEqual(tokenizer.encode(sample.text, addSpecialTokens: true), sample.ids, "\(name) converted: \(sample.text)")
            }
            if expected[name]?.chat_template != nil { XCTAssertNoThrow(try ChatTemplate(directory: folder), name) }
        }
    }

    func testCompanionFilesOfAGGUFSource() throws {
        // A folder saved from a model loaded from a .gguf (merge, SFT) gets the tokenizer its metadata describes.
        let url = Self.fixtures.appendingPathComponent("qwen2.gguf")
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("gguf-companions-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        try PretrainedModel.copyCompanionFiles(from: url, to: folder)
        let names = try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted()
        XCTAssertEqual(names, ["generation_config.json", "tokenizer.json", "tokenizer_config.json"])
        XCTAssertEqual(try Tokenizer(directory: folder).encode("Hello world", addSpecialTokens: true),
                       try PretrainedModel.tokenizer(at: url).encode("Hello world", addSpecialTokens: true))
        XCTAssertNoThrow(try ChatTemplate(directory: folder))
    }

    func testUnimplementedPreTokenizerIsRefusedByName() throws {
        var builder = GGUFBuilder()
        func strings(_ values: [String]) -> Data {
            GGUFBuilder.le(UInt32(8)) + GGUFBuilder.le(UInt64(values.count)) + values.reduce(Data()) { $0 + GGUFBuilder.string($1) }
        }
        builder.metadata = [("tokenizer.ggml.model", 8, GGUFBuilder.string("gpt2")), ("tokenizer.ggml.pre", 8, GGUFBuilder.string("tekken")),
                            ("tokenizer.ggml.tokens", 9, strings(["a", "b", "ab"])), ("tokenizer.ggml.merges", 9, strings(["a b"]))]
        let file = try GGUFFile(data: builder.data)
        XCTAssertThrowsError(try GGUFTokenizer(file)) { error in
            XCTAssertTrue("\(error)".contains("tokenizer.ggml.pre") && "\(error)".contains("\"tekken\" is not"), "\(error)")
        }
        builder.metadata[1] = ("tokenizer.ggml.pre", 8, GGUFBuilder.string("qwen2"))
        XCTAssertNoThrow(try GGUFTokenizer(try GGUFFile(data: builder.data)))
    }

    func testReversePermuteUndoesLlamaCppsPermute() {
        // llama.cpp: w.reshape(heads, 2, half, cols).swapaxes(1, 2); 2 heads of 4 rows, 1 column.
        let original: [Float] = [0, 1, 2, 3, 4, 5, 6, 7]
        let permuted: [Float] = [0, 2, 1, 3, 4, 6, 5, 7]
        XCTAssertEqual(GGUFCheckpoint.reversePermute(permuted, rows: 8, heads: 2), original)
    }

    func testMissingAndMistypedTensorsAreNamed() throws {
        // Drop one tensor from the llama fixture by renaming it: the error names the GGUF tensor and transformers' name.
        var bytes = try Data(contentsOf: Self.fixtures.appendingPathComponent("llama.gguf"))
        let needle = Data("blk.1.ffn_up.weight".utf8)
        let range = try XCTUnwrap(bytes.range(of: needle))
        bytes.replaceSubrange(range, with: Data("blk.1.ffn_XX.weight".utf8))
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("renamed-\(UUID().uuidString).gguf")
        defer { try? FileManager.default.removeItem(at: url) }
        try bytes.write(to: url)
        XCTAssertThrowsError(try GGUFCheckpoint(url: url).loadModel()) { error in
            XCTAssertTrue("\(error)".contains("no tensor \"blk.1.ffn_up.weight\" (transformers' model.layers.1.mlp.up_proj.weight)"), "\(error)")
        }
    }
}
