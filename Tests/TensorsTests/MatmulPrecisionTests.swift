import CKernels
import XCTest
@testable import Tensors

/// The bf16 matmul mode: the rounding is PyTorch's, and every product on the tape (matmul forward, both of its
/// gradient products, the chunked output projection and its gradients) multiplies bf16-rounded operands while
/// everything else stays fp32.
final class MatmulPrecisionTests: XCTestCase {
    override func tearDown() {
        MatmulPrecision.current = .float32
        super.tearDown()
    }

    /// (input bits, rounded bits) from `python3 Tests/TensorsTests/Fixtures/make_bf16_rounding.py` (torch 2.15):
    /// ties to even, subnormals rounded (not flushed), overflow to infinity.
    func testRoundingMatchesTorch() {
        let expected: [(UInt32, UInt32)] = [
            (0x3F80_0000, 0x3F80_0000), (0x3F80_8000, 0x3F80_0000), (0x3F81_8000, 0x3F82_0000),
            (0x3F80_8001, 0x3F81_0000), (0x3F80_7FFF, 0x3F80_0000), (0xBF80_8000, 0xBF80_0000),
            (0x8000_0000, 0x8000_0000), (0x0000_0001, 0x0000_0000), (0x0000_8000, 0x0000_0000),
            (0x0001_8000, 0x0002_0000), (0x007F_FFFF, 0x0080_0000), (0x7F7F_FFFF, 0x7F80_0000),
            (0x7F7F_7FFF, 0x7F7F_0000), (0x7F80_0000, 0x7F80_0000), (0xFF80_0000, 0xFF80_0000),
            (0x3DCC_CCCD, 0x3DCD_0000), (0xC2F6_E979, 0xC2F7_0000),
        ]
        for (input, output) in expected {
            let rounded = MatmulPrecision.roundedToBFloat16(Float(bitPattern: input))
            XCTAssertEqual(rounded.bitPattern, output, "bf16(0x\(String(input, radix: 16)))")
        }
        for nan: UInt32 in [0x7FC0_0000, 0xFFC0_0001, 0x7F80_0001, 0x7FFF_FFFF] {
            XCTAssertTrue(MatmulPrecision.roundedToBFloat16(Float(bitPattern: nan)).isNaN)
        }
    }

    func rounded(_ x: Tensor) -> Tensor { Tensor(shape: x.shape, scalars: x.scalars.map(MatmulPrecision.roundedToBFloat16)) }

    func assertClose(_ actual: Tensor, _ expected: Tensor, _ message: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(actual.shape, expected.shape, message, file: file, line: line)
        let scale = expected.scalars.map(abs).max() ?? 1
        let worst = zip(actual.scalars, expected.scalars).map { abs($0 - $1) }.max() ?? 0
        XCTAssertLessThanOrEqual(worst, 1e-5 * scale, message, file: file, line: line)
    }

    /// C = A·B and its gradients against fp32 products of rounded operands: ∂A = round(G)·round(B)ᵀ and
    /// ∂B = round(A)ᵀ·round(G). The fp32 mode's results differ from these by far more than the tolerance.
    func testMatmulAndItsGradientsRoundTheirOperands() {
        let a = randomTensor([2, 9, 37], seed: 1), b = randomTensor([37, 21], seed: 2)
        let weights = randomTensor([2, 9, 21], seed: 3)
        func run(_ precision: MatmulPrecision) -> (c: Tensor, gradientA: Tensor, gradientB: Tensor) {
            MatmulPrecision.current = precision
            defer { MatmulPrecision.current = .float32 }
            let (x, y) = (Tensor(shape: a.shape, scalars: a.scalars), Tensor(shape: b.shape, scalars: b.scalars))
            x.requiresGrad = true
            y.requiresGrad = true
            let c = Tensor.matmul(x, y)
            (c * weights).sum().backward()
            return (c, x.grad!, y.grad!)
        }
        let bf16 = run(.bfloat16), fp32 = run(.float32)
        let (ra, rb, rg) = (rounded(a), rounded(b), rounded(weights))
        let expectedC = Tensor.matmul(ra, rb)
        let expectedA = Tensor.matmul(rg, rb, transposeB: true)
        let expectedB = Tensor.matmul(ra.reshaped([18, 37]), rg.reshaped([18, 21]), transposeA: true)
        assertClose(bf16.c, expectedC, "C")
        assertClose(bf16.gradientA, expectedA, "∂A")
        assertClose(bf16.gradientB, expectedB, "∂B")
        let difference = zip(fp32.c.scalars, expectedC.scalars).map { abs($0 - $1) }.max() ?? 0
        XCTAssertGreaterThan(difference, 1e-3, "fp32 operands would fail the checks above")
    }

    /// The chunked output projection (every trainer's log-probabilities) follows the mode: its value is that of
    /// the rounded hidden states and weight in fp32.
    func testProjectedLogProbabilitiesFollowTheMode() {
        let hidden = randomTensor([6, 16], seed: 4), weight = randomTensor([29, 16], seed: 5)
        let targets: [Int32] = [3, -100, 7, 28, 0, 11]
        MatmulPrecision.current = .bfloat16
        let (bf16, _) = Tensor.projectedLogProbabilities(hidden: hidden, weight: weight, targets: targets, chunkElements: 64)
        MatmulPrecision.current = .float32
        let (expected, _) = Tensor.projectedLogProbabilities(hidden: rounded(hidden), weight: rounded(weight), targets: targets)
        let (fp32, _) = Tensor.projectedLogProbabilities(hidden: hidden, weight: weight, targets: targets)
        assertClose(bf16, expected, "log p")
        XCTAssertGreaterThan(zip(fp32.scalars, expected.scalars).map { abs($0 - $1) }.max() ?? 0, 1e-4)
    }
}
