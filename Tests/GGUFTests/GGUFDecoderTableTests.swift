import CKernels
import XCTest
@testable import GGUF
import Tensors

/// GGUF tensors are widened by the quantized kernels' decoder (`ck_q_dequantize`), whose format table must agree
/// with the reader's; F32, only decoded, must not become a format a model keeps in memory.
final class GGUFDecoderTableTests: XCTestCase {
    /// The reader bounds a tensor's bytes by GGMLType's block sizes, the decoder reads by its own table: the same
    /// numbers, for exactly the types the reader calls supported.
    func testTheDecoderKnowsExactlyTheSupportedTypesWithTheirBlocks() {
        for type in GGMLType.supported {
            let id = Int32(type.id)
            XCTAssertEqual(Int(ck_q_block_size(id)), type.blockSize, type.name)
            XCTAssertEqual(Int(ck_q_block_bytes(id)), type.blockBytes, type.name)
        }
        for type in GGMLType.layoutOnly {
            XCTAssertEqual(ck_q_block_size(Int32(type.id)), 0, "\(type.name) parses but is not decoded")
        }
    }

    /// `--dtype stored` keeps a GGUF matrix in its blocks only when QuantizedMatrix.Format knows its type: the ten
    /// the kernels multiply (Q5_0 and Q5_1 among them), not F32, which is only decoded.
    func testDecodedOnlyTypesAreNotKeptFormats() {
        XCTAssertNil(QuantizedMatrix.Format(ggmlID: GGMLType.f32.id))
        XCTAssertEqual(QuantizedMatrix.Format(ggmlID: GGMLType.q5_0.id), .q5_0)
        XCTAssertEqual(QuantizedMatrix.Format(ggmlID: GGMLType.q5_1.id), .q5_1)
        XCTAssertEqual(QuantizedMatrix.Format.allCases.map(\.ggmlID), [1, 30, 8, 2, 3, 6, 7, 12, 13, 14])
    }
}
