import Foundation
import GGUF
import JSON
@testable import LanguageModels
import Tensors
import XCTest

/// Quantized inference: ggml's blocks kept in memory (QuantizedMatrix, Fixtures/make_quant_fixtures.py), the quantizer
/// and decoder against the `gguf` package, a quantized GGUF Llama against transformers, a model quantized at load
/// against its dequantised twin, a file's Q4_K and BF16 (and Q6_K and Q5_K) matrices kept against the same file loaded
/// as float32 (and its Q5_0 and Q5_1 ones), and refusals.
final class GGUFQuantizedTests: XCTestCase {
    static let fixtures = GGUFDequantizationTests.fixtures
    static let formats = QuantizedMatrix.Format.allCases
    /// The formats a float32 model can be quantized to at load (all but the k-quants).
    static let quantizerFormats = formats.filter(\.hasQuantizer)

    /// The logits of one fixed sequence, as the kept-matrix tests compare a model with its float32 twin.
    static func logits(_ model: LlamaModel) -> [Float] {
        let sequence: [Int32] = [1, 290, 77, 300, 12, 45, 260, 3]
        return withoutGradients { model.forward(ModelInput(ids: sequence, batch: 1, time: sequence.count), cache: nil).logits.scalars }
    }

    /// The largest |a − b| / max(1, |b|).
    static func worstRelativeError(_ a: [Float], _ b: [Float]) -> Float {
        zip(a, b).map { abs($0 - $1) / max(1, abs($1)) }.max() ?? 0
    }

    func testQuantizerIsByteExactToTheGGUFPackage() throws {
        let file = try GGUFFile(url: Self.fixtures.appendingPathComponent("quantize.gguf"))
        let input = Tensor(shape: [4, 256], scalars: try file.floats("input"))
        for format in Self.quantizerFormats {
            let expected = try file.withBytes(of: format.ggmlName) { Array($0) }
            let ours = try QuantizedMatrix(quantizing: input, format: format, source: format.ggmlName).withUnsafeBytes { Array($0) }
            XCTAssertEqual(ours.count, expected.count, format.ggmlName)
            let differing = zip(ours, expected).enumerated().filter { $0.element.0 != $0.element.1 }.map(\.offset)
            XCTAssertTrue(differing.isEmpty, "\(format.ggmlName): bytes \(differing.prefix(8)) differ from gguf.quants.quantize")
        }
    }

    func testDecoderIsBitExactToTheGGUFDequantiser() throws {
        let file = try GGUFFile(url: Self.fixtures.appendingPathComponent("types.gguf"))
        for format in Self.formats {
            let info = try XCTUnwrap(file.tensor(format.ggmlName))
            XCTAssertEqual(info.type.blockSize, format.blockSize, format.ggmlName)
            XCTAssertEqual(info.type.blockBytes, format.blockBytes, format.ggmlName)
            let matrix = try file.withBytes(of: info.name) {
                try QuantizedMatrix(format: format, rows: info.shape[0], columns: info.shape[1], data: $0, source: info.name)
            }
            let expected = try file.floats(format.ggmlName + ".expected")
            XCTAssertEqual(matrix.dequantized().scalars.map(\.bitPattern), expected.map(\.bitPattern), format.ggmlName)
            // An embedding lookup decodes the same rows.
            let (last, width) = (info.shape[0] - 1, info.shape[1])
            XCTAssertEqual(matrix.gatheredRows([Int32(last), 0], indexShape: [2]).scalars,
                           Array(expected[(last * width)..<((last + 1) * width)] + expected[0..<width]), format.ggmlName)
        }
    }

    /// Every matrix of the file stays in its blocks (q/k rows un-permuted whole), and the logits are transformers'
    /// (which dequantises the same blocks) up to the activations' 8-bit rounding; loaded as float32 they are
    /// transformers' to 1e-4.
    func testStoredBlocksMatchTransformers() throws {
        struct Expected: Decodable { let sequence: [Int32]; let logits: [[Float]] }
        let expected = try JSONDecoder().decode(Expected.self, from: Data(contentsOf: Self.fixtures.appendingPathComponent("expected-quantized.json")))
        let checkpoint = try GGUFCheckpoint(url: Self.fixtures.appendingPathComponent("llama-quantized.gguf"))
        let stored = try XCTUnwrap(try checkpoint.loadModel(precision: .stored) as? LlamaModel)
        let formats = Dictionary(uniqueKeysWithValues: stored.quantizableLayers.map { entry -> (String, QuantizedMatrix.Format?) in
            switch entry.layer {
            case .linear(let layer): (entry.name, layer.quantizedWeight?.format)
            case .embedding(let layer): (entry.name, layer.quantizedWeight?.format)
            }
        })
        XCTAssertEqual(formats["model.layers.1.self_attn.q_proj.weight"], .q4_1)
        XCTAssertEqual(formats["model.layers.0.self_attn.v_proj.weight"], .q4_0)
        XCTAssertEqual(formats["model.layers.0.mlp.down_proj.weight"], .q8_0)
        XCTAssertEqual(formats["model.embed_tokens.weight"], .q8_0)
        XCTAssertEqual(formats["lm_head.weight"], .f16)
        XCTAssertTrue(stored.isQuantized)
        let float = try checkpoint.loadModel()
        XCTAssertFalse(float.isQuantized)
        for (model, tolerance) in [(float, Float(1e-4)), (stored as any CausalLanguageModel, Float(2e-2))] {
            let logits = withoutGradients { model.forward(ModelInput(ids: expected.sequence, batch: 1, time: expected.sequence.count), cache: nil).logits }
            let vocabulary = logits.shape[2]
            var worst: Float = 0
            for (position, row) in expected.logits.enumerated() {
                for (index, value) in row.enumerated() {
                    worst = max(worst, abs(logits.scalars[position * vocabulary + index] - value) / max(1, abs(value)))
                }
            }
            XCTAssertLessThan(worst, tolerance, "quantized \(model.isQuantized): worst relative logit error \(worst)")
        }
    }

    /// `--dtype` on a float32 model: the same model with its weights replaced by the dequantised blocks (the twin)
    /// gives logits within the activation rounding, and greedy decoding with the KV cache picks the same tokens.
    func testModelQuantizedAtLoadGeneratesLikeItsDequantisedTwin() throws {
        let url = Self.fixtures.appendingPathComponent("llama.gguf")
        let prompt: [Int32] = [1, 290, 77, 300, 12]
        for format in Self.quantizerFormats {
            let quantized = try XCTUnwrap(try GGUFCheckpoint(url: url).loadModel(precision: .quantized(format)) as? LlamaModel)
            let twin = try XCTUnwrap(try GGUFCheckpoint(url: url).loadModel() as? LlamaModel)
            for ((_, layer), (_, twinLayer)) in zip(quantized.quantizableLayers, twin.quantizableLayers) {
                switch (layer, twinLayer) {
                case (.linear(let q), .linear(let f)): f.weight.assign(try XCTUnwrap(q.quantizedWeight).dequantized())
                case (.embedding(let q), .embedding(let f)): f.weight.assign(try XCTUnwrap(q.quantizedWeight).dequantized())
                default: XCTFail("layer kinds differ")
                }
            }
            let configuration = GenerationConfiguration(sampling: SamplingOptions(maximumTokens: 12, temperature: 0))
            let ours = Generator(model: quantized).generate(prompts: [prompt], configuration: configuration)[0]
            let theirs = Generator(model: twin).generate(prompts: [prompt], configuration: configuration)[0]
            XCTAssertEqual(ours.tokens, theirs.tokens, format.ggmlName)
            for (a, b) in zip(ours.logProbabilities, theirs.logProbabilities) {
                XCTAssertEqual(a, b, accuracy: format == .f16 || format == .bf16 ? 1e-4 : 2e-2, format.ggmlName)
            }
        }
    }

    /// A file's Q4_K and BF16 matrices stay in their blocks with `--dtype stored` (the down projections Q4_K, every
    /// other matrix BF16: Fixtures/make_quant_fixtures.py), and the model gives the logits of the same file loaded as
    /// float32 (its dequantised twin) to 1e-5 relative for BF16 alone (float32 activations) and within the
    /// activations' 8-bit rounding, 2e-2, with the Q4_K products. (Greedy decoding is not compared: this random
    /// model's top logits come within that rounding of each other after a few tokens.)
    func testKeptQ4KAndBF16MatricesGiveTheLogitsOfTheirDequantisedTwin() throws {
        let checkpoint = try GGUFCheckpoint(url: Self.fixtures.appendingPathComponent("llama-q4k-bf16.gguf"))
        let stored = try XCTUnwrap(try checkpoint.loadModel(precision: .stored) as? LlamaModel)
        let twin = try XCTUnwrap(try checkpoint.loadModel() as? LlamaModel)
        XCTAssertFalse(twin.isQuantized)
        for (name, layer) in stored.quantizableLayers {
            let format: QuantizedMatrix.Format? = switch layer {
            case .linear(let layer): layer.quantizedWeight?.format
            case .embedding(let layer): layer.quantizedWeight?.format
            }
            XCTAssertEqual(format, name.hasSuffix("mlp.down_proj.weight") ? .q4_K : .bf16, name)
        }
        let expected = Self.logits(twin)
        XCTAssertLessThan(Self.worstRelativeError(Self.logits(stored), expected), 2e-2, "Q4_K and BF16 kept")
        // A float32 load given only the kept BF16 matrices: BF16 products with float32 activations, nothing rounded
        // beyond float32 sums.
        let bf16Only = try XCTUnwrap(try checkpoint.loadModel() as? LlamaModel)
        var keptBF16 = 0
        for ((_, layer), (_, storedLayer)) in zip(bf16Only.quantizableLayers, stored.quantizableLayers) {
            let matrix: QuantizedMatrix? = switch storedLayer {
            case .linear(let layer): layer.quantizedWeight
            case .embedding(let layer): layer.quantizedWeight
            }
            if let matrix, matrix.format == .bf16 {
                layer.quantize(matrix)
                keptBF16 += 1
            }
        }
        XCTAssertEqual(keptBF16, 1 + 2 * 6 + 1, "embedding, 6 matrices per block, untied head")
        XCTAssertLessThan(Self.worstRelativeError(Self.logits(bf16Only), expected), 1e-5, "BF16 kept")
    }

    /// A file's Q6_K and Q5_K matrices stay in their blocks with `--dtype stored` (the down projections: Q6_K in
    /// layer 0, Q5_K in layer 1, as llama.cpp's Q4_K_M files alternate them; every other matrix F32, which stays
    /// float32: Fixtures/make_quant_fixtures.py), and the model gives the logits of the same file loaded as float32
    /// within the activations' 8-bit rounding, 1e-2 relative (the Q4_K file's bound, 2e-2, halved: here only the
    /// down projections' inputs are rounded). Kept, each matrix holds the file's bytes: 210 per 256 Q6_K elements.
    func testKeptQ6KAndQ5KMatricesGiveTheLogitsOfTheirDequantisedTwin() throws {
        let checkpoint = try GGUFCheckpoint(url: Self.fixtures.appendingPathComponent("llama-q6k-q5k.gguf"))
        let stored = try XCTUnwrap(try checkpoint.loadModel(precision: .stored) as? LlamaModel)
        let twin = try XCTUnwrap(try checkpoint.loadModel() as? LlamaModel)
        XCTAssertFalse(twin.isQuantized)
        var kept: [String: QuantizedMatrix] = [:]
        for (name, layer) in stored.quantizableLayers {
            let matrix: QuantizedMatrix? = switch layer {
            case .linear(let layer): layer.quantizedWeight
            case .embedding(let layer): layer.quantizedWeight
            }
            if let matrix { kept[name] = matrix }
        }
        XCTAssertEqual(kept.mapValues(\.format), ["model.layers.0.mlp.down_proj.weight": .q6_K, "model.layers.1.mlp.down_proj.weight": .q5_K])
        let q6 = try XCTUnwrap(kept["model.layers.0.mlp.down_proj.weight"])
        XCTAssertEqual(q6.byteCount, q6.rows * q6.columns / 256 * 210)
        // The kept blocks decode to the float32 twin's weights exactly (both ggml's dequantisation).
        XCTAssertEqual(q6.dequantized().scalars, twin.blocks[0].mlp.down.weight.scalars)
        XCTAssertEqual(try XCTUnwrap(kept["model.layers.1.mlp.down_proj.weight"]).dequantized().scalars, twin.blocks[1].mlp.down.weight.scalars)
        let expected = Self.logits(twin), ours = Self.logits(stored)
        let worst = Self.worstRelativeError(ours, expected)
        XCTAssertLessThan(worst, 1e-2, "Q6_K and Q5_K kept")
        XCTAssertGreaterThan(worst, 0, "the kept matrices multiply 8-bit activations, so some logit differs")
    }

    /// A file's Q5_0 and Q5_1 matrices stay in their blocks with `--dtype stored`: attention and gate/up Q5_0, the
    /// down projections Q5_1 (`gguf.quants.quantize`: Fixtures/make_quant_fixtures.py), as llama.cpp's Q4_K_M and Q5_K_M
    /// files of small models store the matrices whose rows are not whole superblocks. The kept blocks decode to the
    /// float32 twin's weights exactly, and the model gives the twin's logits within the activations' 8-bit rounding
    /// (2e-2 relative, the bound of the file whose matrices are all quantized), but not exactly.
    func testKeptQ5_0AndQ5_1MatricesGiveTheLogitsOfTheirDequantisedTwin() throws {
        let checkpoint = try GGUFCheckpoint(url: Self.fixtures.appendingPathComponent("llama-q5.gguf"))
        let stored = try XCTUnwrap(try checkpoint.loadModel(precision: .stored) as? LlamaModel)
        let twin = try XCTUnwrap(try checkpoint.loadModel() as? LlamaModel)
        XCTAssertFalse(twin.isQuantized)
        var q5 = 0
        for ((name, layer), (_, twinLayer)) in zip(stored.quantizableLayers, twin.quantizableLayers) {
            let matrix: QuantizedMatrix?, weight: Tensor
            switch (layer, twinLayer) {
            case (.linear(let q), .linear(let f)): (matrix, weight) = (q.quantizedWeight, f.weight)
            case (.embedding(let q), .embedding(let f)): (matrix, weight) = (q.quantizedWeight, f.weight)
            default: XCTFail("\(name): layer kinds differ"); continue
            }
            let kept = try XCTUnwrap(matrix, name)
            guard name.hasPrefix("model.layers.") else { continue }
            XCTAssertEqual(kept.format, name.hasSuffix("mlp.down_proj.weight") ? .q5_1 : .q5_0, name)
            XCTAssertEqual(kept.byteCount, kept.rows * kept.columns / 32 * kept.format.blockBytes, name)
            XCTAssertEqual(kept.dequantized().scalars, weight.scalars, name)
            q5 += 1
        }
        XCTAssertEqual(q5, 2 * 7, "7 matrices per block")
        let expected = Self.logits(twin), ours = Self.logits(stored)
        let worst = Self.worstRelativeError(ours, expected)
        XCTAssertLessThan(worst, 2e-2, "Q5_0 and Q5_1 kept")
        XCTAssertGreaterThan(worst, 0, "the kept matrices multiply 8-bit activations, so some logit differs")
    }

    func testHostileShapesAndUnsupportedModelsAreErrors() throws {
        let bytes = [UInt8](repeating: 0, count: 68)
        try bytes.withUnsafeBytes { data in
            // 2 × 32 Q8_0 is 68 bytes: one row claims more, a non-block width, no rows, and an overflowing count.
            XCTAssertNoThrow(try QuantizedMatrix(format: .q8_0, rows: 2, columns: 32, data: data, source: "t"))
            for (rows, columns) in [(3, 32), (2, 48), (0, 32), (2, -32), (Int.max / 2, 64)] {
                XCTAssertThrowsError(try QuantizedMatrix(format: .q8_0, rows: rows, columns: columns, data: data, source: "blk.0.ffn_up.weight"),
                                     "\(rows) × \(columns)") { error in
                    XCTAssertTrue("\(error)".contains("blk.0.ffn_up.weight"), "\(error)")
                }
            }
        }
        XCTAssertThrowsError(try QuantizedMatrix(quantizing: Tensor(shape: [2, 48], scalars: Array(repeating: 1, count: 96)), format: .q4_0, source: "w"))
        XCTAssertThrowsError(try WeightPrecision(name: "q3_k")) { XCTAssertTrue("\($0)".contains("q8_0"), "\($0)") }
        XCTAssertEqual(try WeightPrecision(name: "Q4_1"), .quantized(.q4_1))
        XCTAssertEqual(try WeightPrecision(name: "bf16"), .quantized(.bf16))
        XCTAssertEqual(try WeightPrecision(name: "BFloat16"), .quantized(.bf16))
        XCTAssertEqual(WeightPrecision.names, ["stored", "f32", "f16", "bf16", "q8_0", "q4_0", "q4_1", "q5_0", "q5_1"])
        // Q4_K is kept as a file stores it, never made: --dtype q4_k says so rather than "unknown".
        XCTAssertThrowsError(try WeightPrecision(name: "q4_k")) { XCTAssertTrue("\($0)".contains("--dtype stored"), "\($0)") }
        XCTAssertThrowsError(try QuantizedMatrix(quantizing: Tensor(shape: [1, 256], scalars: Array(repeating: 1, count: 256)), format: .q4_K, source: "w"))
        // Q4_K rows are whole 256-element superblocks: 2 × 128 is refused naming the tensor, even with the right byte count.
        let superblock = [UInt8](repeating: 0, count: 144)
        try superblock.withUnsafeBytes { data in
            XCTAssertNoThrow(try QuantizedMatrix(format: .q4_K, rows: 1, columns: 256, data: data, source: "t"))
            for (rows, columns) in [(2, 128), (1, 32), (1, 512)] {
                XCTAssertThrowsError(try QuantizedMatrix(format: .q4_K, rows: rows, columns: columns, data: data, source: "blk.3.ffn_down.weight"),
                                     "\(rows) × \(columns)") { error in
                    XCTAssertTrue(error is QuantizationError, "\(error)")
                    XCTAssertTrue("\(error)".contains("blk.3.ffn_down.weight"), "\(error)")
                }
            }
        }
        // Q6_K and Q5_K likewise: kept, never made, and rows of whole superblocks (210 and 176 bytes) only.
        for (format, name) in [(QuantizedMatrix.Format.q6_K, "q6_k"), (.q5_K, "q5_k")] {
            XCTAssertFalse(format.hasQuantizer)
            XCTAssertThrowsError(try WeightPrecision(name: name)) { XCTAssertTrue("\($0)".contains("--dtype stored"), "\($0)") }
            XCTAssertThrowsError(try QuantizedMatrix(quantizing: Tensor(shape: [1, 256], scalars: Array(repeating: 1, count: 256)), format: format, source: "w")) {
                XCTAssertTrue("\($0)".contains("cannot quantize"), "\($0)")
            }
            let superblock = [UInt8](repeating: 0, count: format.blockBytes)
            try superblock.withUnsafeBytes { data in
                XCTAssertNoThrow(try QuantizedMatrix(format: format, rows: 1, columns: 256, data: data, source: "t"))
                for (rows, columns) in [(2, 128), (1, 300), (1, 512)] {
                    XCTAssertThrowsError(try QuantizedMatrix(format: format, rows: rows, columns: columns, data: data, source: "blk.0.ffn_down.weight"),
                                         "\(format) \(rows) × \(columns)") { error in
                        XCTAssertTrue(error is QuantizationError, "\(error)")
                        XCTAssertTrue("\(error)".contains("blk.0.ffn_down.weight"), "\(error)")
                    }
                }
            }
        }
        // Q5_0 and Q5_1 (kept from a file, and made at load): rows of whole 32-element blocks (22 and 24 bytes) only.
        for (format, name) in [(QuantizedMatrix.Format.q5_0, "q5_0"), (.q5_1, "Q5_1")] {
            XCTAssertTrue(format.hasQuantizer)
            XCTAssertEqual(format.blockSize, 32)
            XCTAssertEqual(try WeightPrecision(name: name), .quantized(format))
            XCTAssertThrowsError(try QuantizedMatrix(quantizing: Tensor(shape: [1, 40], scalars: Array(repeating: 1, count: 40)), format: format, source: "w"))
            let block = [UInt8](repeating: 0, count: format.blockBytes)
            try block.withUnsafeBytes { data in
                XCTAssertNoThrow(try QuantizedMatrix(format: format, rows: 1, columns: 32, data: data, source: "t"))
                for (rows, columns) in [(2, 16), (1, 40), (1, 64)] {
                    XCTAssertThrowsError(try QuantizedMatrix(format: format, rows: rows, columns: columns, data: data, source: "blk.0.attn_q.weight"),
                                         "\(format) \(rows) × \(columns)") { error in
                        XCTAssertTrue(error is QuantizationError, "\(error)")
                        XCTAssertTrue("\(error)".contains("blk.0.attn_q.weight"), "\(error)")
                    }
                }
            }
        }
        // GPT-2 has no quantized path: refused by name rather than run in float32 silently.
        XCTAssertThrowsError(try GGUFCheckpoint(url: Self.fixtures.appendingPathComponent("gpt2.gguf")).loadModel(precision: .quantized(.q8_0))) {
            XCTAssertTrue("\($0)".contains("Llama-family"), "\($0)")
        }
        // A quantized model is for inference: saving it (what training ends with) is refused with the way out.
        let quantized = try GGUFCheckpoint(url: Self.fixtures.appendingPathComponent("llama-quantized.gguf")).loadModel(precision: .stored)
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("charter-quantized-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        XCTAssertThrowsError(try PretrainedModel.save(quantized, to: folder)) { XCTAssertTrue("\($0)".contains("--dtype f32"), "\($0)") }
    }
}
