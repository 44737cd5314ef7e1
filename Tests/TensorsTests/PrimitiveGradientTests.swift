import XCTest
@testable import Tensors

/// Finite-difference checks of every primitive's gradient rule, on odd shapes with broadcasting.
final class PrimitiveGradientTests: XCTestCase {
    func testBroadcastingArithmetic() {
        let a = randomTensor([3, 1, 5], seed: 1), b = randomTensor([4, 1], seed: 2)
        checkGradients([a, b]) { $0[0] + $0[1] }
        checkGradients([a, b]) { $0[0] - $0[1] }
        checkGradients([a, b]) { $0[0] * $0[1] }
        let positive = randomTensor([4, 1], seed: 3, scale: 0.2, offset: 2)
        checkGradients([a, positive]) { $0[0] / $0[1] }
        let bias = randomTensor([5], seed: 4), scalar = randomTensor([], seed: 5)
        checkGradients([a, bias]) { $0[0] + $0[1] }
        checkGradients([a, scalar]) { $0[0] * $0[1] }
        checkGradients([a]) { 3 - $0[0] * 2 + 1 }
    }

    func testUnaryFunctions() {
        let x = randomTensor([2, 7], seed: 6)
        checkGradients([x]) { $0[0].exp() }
        checkGradients([x]) { $0[0].tanh() }
        checkGradients([x]) { $0[0].sigmoid() }
        checkGradients([x]) { $0[0].gelu(approximate: true) }
        checkGradients([x]) { $0[0].gelu(approximate: false) }
        checkGradients([x]) { $0[0].silu() }
        checkGradients([x]) { $0[0].squared() }
        checkGradients([x]) { $0[0].clamped(min: -0.5, max: 0.7) }
        let positive = randomTensor([3, 5], seed: 7, scale: 0.3, offset: 2)
        checkGradients([positive]) { $0[0].log() }
        checkGradients([positive]) { $0[0].sqrt() }
        checkGradients([positive]) { $0[0].pow(1.7) }
        // relu and abs are not differentiable at 0: keep inputs away from it.
        let awayFromZero = Tensor(shape: [6], scalars: [-2, -1.1, -0.6, 0.5, 1.3, 2.2])
        checkGradients([awayFromZero]) { $0[0].relu() }
        checkGradients([awayFromZero]) { $0[0].abs() }
    }

    func testShapeOperations() {
        let x = randomTensor([2, 3, 4], seed: 8)
        checkGradients([x]) { $0[0].reshaped([4, -1]) }
        checkGradients([x]) { $0[0].permuted([2, 0, 1]) }
        checkGradients([x]) { $0[0].transposed(0, 2) }
        checkGradients([x]) { $0[0].slice(axis: 1, 1..<3) }
        checkGradients([x]) { $0[0].unsqueezed(1).expanded(to: [2, 5, 3, 4]) }
        let y = randomTensor([2, 2, 4], seed: 9)
        checkGradients([x, y]) { Tensor.concatenate([$0[0], $0[1], $0[0]], axis: 1) }
        let table = randomTensor([5, 3], seed: 10)
        checkGradients([table]) { $0[0].gathered(rows: [4, 0, 4, 2, 4, 1], indexShape: [2, 3]) }
        let mask = Tensor(shape: [3, 4], scalars: [1, 0, 0, 1, 0, 1, 0, 0, 1, 1, 0, 0])
        checkGradients([x]) { $0[0].maskedFill(mask, with: -3) }
        let other = randomTensor([4], seed: 11)
        checkGradients([x, other]) { Tensor.where(mask, $0[0], $0[1]) }
    }

    func testReductions() {
        let x = randomTensor([3, 4, 5], seed: 12)
        checkGradients([x]) { $0[0].sum(axes: [0, 2]) }
        checkGradients([x]) { $0[0].sum(axis: 1, keepDimensions: true) }
        checkGradients([x]) { $0[0].mean(axis: -1) }
        checkGradients([x]) { $0[0].sum() }
        checkGradients([x]) { $0[0].max(axis: 1) }
        checkGradients([x]) { $0[0].logSumExp(axis: -1) }
        checkGradients([x]) { $0[0].logSumExp(axis: 0, keepDimensions: true) }
        checkGradients([x]) { $0[0].softmax(axis: -1) }
        checkGradients([x]) { $0[0].softmax(axis: 1) }
        checkGradients([x]) { $0[0].logSoftmax(axis: -1) }
    }

    func testMatmulEveryLayout() {
        for transposeA in [false, true] {
            for transposeB in [false, true] {
                let a = randomTensor(transposeA ? [2, 5, 3] : [2, 3, 5], seed: 13)
                let b = randomTensor(transposeB ? [2, 4, 5] : [2, 5, 4], seed: 14)
                checkGradients([a, b]) { Tensor.matmul($0[0], $0[1], transposeA: transposeA, transposeB: transposeB) }
                let shared = randomTensor(transposeB ? [4, 5] : [5, 4], seed: 15)
                checkGradients([a, shared]) { Tensor.matmul($0[0], $0[1], transposeA: transposeA, transposeB: transposeB) }
                let plain = randomTensor(transposeA ? [5, 3] : [3, 5], seed: 16)
                checkGradients([plain, b]) { Tensor.matmul($0[0], $0[1], transposeA: transposeA, transposeB: transposeB) }
            }
        }
    }

    func testMatmulMatchesNaiveProduct() {
        let a = randomTensor([7, 9], seed: 17), b = randomTensor([9, 5], seed: 18)
        let c = Tensor.matmul(a, b)
        var expected = [Float](repeating: 0, count: 35)
        for i in 0..<7 { for j in 0..<5 { for k in 0..<9 { expected[i * 5 + j] += a[i, k] * b[k, j] } } }
        assertClose(c.scalars, expected, tolerance: 1e-5)
    }
}
