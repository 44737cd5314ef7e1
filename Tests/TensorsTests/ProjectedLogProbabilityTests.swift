import CKernels
import XCTest
@testable import Tensors

/// `Tensor.projectedLogProbabilities` (chunked over rows, logits never held whole) against the unchunked path it
/// replaces — `matmul` to (…, V) logits, then `targetLogProbabilities` — in values, gradients and statistics.
final class ProjectedLogProbabilityTests: XCTestCase {
    let targets: [Int32] = [4, -100, 10, 0, 2, 12, -100, 7, 1, 3]  // (2, 5) rows of a (2, 5, 6) hidden state

    /// Values and gradients in hidden and weight, for chunks of 1, 3 and all rows, and a logit scale.
    func testMatchesUnchunkedPathWithGradients() {
        let hidden = randomTensor([2, 5, 6], seed: 1, scale: 1.5), weight = randomTensor([13, 6], seed: 2)
        let rowWeights = randomTensor([2, 5], seed: 3)
        for scale: Float in [1, 1 / 0.7] {
            let (reference, referenceGradients) = run(hidden, weight, rowWeights) { h, w in
                (Tensor.matmul(h, w, transposeB: true) * scale).targetLogProbabilities(self.targets)
            }
            for chunkElements in [13, 3 * 13, 1 << 20] {
                let (chunked, chunkedGradients) = run(hidden, weight, rowWeights) { h, w in
                    Tensor.projectedLogProbabilities(hidden: h, weight: w, targets: self.targets, logitScale: scale,
                                                     chunkElements: chunkElements).0
                }
                assertClose(chunked, reference, tolerance: 1e-5, "values, chunk \(chunkElements), scale \(scale)")
                assertClose(chunkedGradients[0], referenceGradients[0], tolerance: 1e-5, "∂hidden, chunk \(chunkElements)")
                assertClose(chunkedGradients[1], referenceGradients[1], tolerance: 1e-5, "∂weight, chunk \(chunkElements)")
            }
        }
        // Rows without a target give 0 and no gradient.
        let (values, gradients) = run(hidden, weight, rowWeights) { h, w in
            Tensor.projectedLogProbabilities(hidden: h, weight: w, targets: self.targets, chunkElements: 26).0
        }
        XCTAssertEqual(values[0, 1], 0)
        XCTAssertEqual(Array(gradients[0].scalars[6..<12]), [Float](repeating: 0, count: 6))
    }

    /// Finite differences of the rule itself (not only agreement with another rule).
    func testFiniteDifferenceGradient() {
        let hidden = randomTensor([2, 5, 6], seed: 4), weight = randomTensor([13, 6], seed: 5)
        checkGradients([hidden, weight]) {
            Tensor.projectedLogProbabilities(hidden: $0[0], weight: $0[1], targets: self.targets, chunkElements: 2 * 13).0
        }
    }

    /// A frozen weight (LoRA's base, a tied embedding) gets no gradient and the hidden gradient is unchanged.
    func testFrozenWeightGetsNoGradient() {
        let hidden = randomTensor([2, 5, 6], seed: 6), weight = randomTensor([13, 6], seed: 7)
        let trained = hidden.copied(); trained.requiresGrad = true
        Tensor.projectedLogProbabilities(hidden: trained, weight: weight, targets: targets).0.sum().backward()
        XCTAssertNil(weight.grad)
        let (_, gradients) = run(hidden, weight, Tensor.ones([2, 5])) { h, w in
            Tensor.projectedLogProbabilities(hidden: h, weight: w, targets: self.targets).0
        }
        assertClose(trained.grad ?? Tensor.zeros(hidden.shape), gradients[0], tolerance: 0, "∂hidden with a frozen weight")
    }

    /// Entropy, argmax and mean logit at target rows equal those of the materialised logits.
    func testStatisticsMatchMaterialisedLogits() {
        let hidden = randomTensor([2, 5, 6], seed: 8, scale: 2), weight = randomTensor([13, 6], seed: 9)
        let (_, found) = Tensor.projectedLogProbabilities(hidden: hidden, weight: weight, targets: targets, statistics: true,
                                                          chunkElements: 2 * 13)
        guard let found else { return XCTFail("no statistics") }
        let logits = Tensor.matmul(hidden, weight, transposeB: true), logProbabilities = logits.logSoftmax()
        for (row, target) in targets.enumerated() {
            let values = Array(logits.scalars[(row * 13)..<((row + 1) * 13)])
            let logP = Array(logProbabilities.scalars[(row * 13)..<((row + 1) * 13)])
            guard target >= 0 else {
                XCTAssertEqual(found.argmax[row], -1); XCTAssertEqual(found.entropy[row], 0); continue
            }
            let entropy = -logP.reduce(0.0) { $0 + exp(Double($1)) * Double($1) }
            XCTAssertEqual(found.entropy[row], entropy, accuracy: 1e-5, "entropy of row \(row)")
            XCTAssertEqual(Int(found.argmax[row]), values.indices.max { values[$0] < values[$1] }, "argmax of row \(row)")
            XCTAssertEqual(found.logitMean[row], values.reduce(0.0) { $0 + Double($1) } / 13, accuracy: 1e-5, "mean of row \(row)")
        }
    }

    /// `ck_logit_statistics` (rows in parallel) gives each row exactly the bits of the sequential double-precision
    /// arithmetic `VocabularyStatistics` has always reported: a run's logged entropy does not change with the kernel.
    /// Rows with ties for the largest logit (the first wins), large and small logits, and enough rows to be split.
    func testStatisticsKernelKeepsTheSequentialBits() {
        let rows = 300, vocabulary = 1_009
        var generator = SeededGenerator(seed: 12)
        var logits = (0..<(rows * vocabulary)).map { _ in (generator.nextUniform() - 0.5) * 40 }
        for row in stride(from: 0, to: rows, by: 7) { logits[row * vocabulary + 3] = 50; logits[row * vocabulary + 900] = 50 }
        var entropy = [Double](repeating: 0, count: rows), mean = entropy, argmax = [Int32](repeating: 0, count: rows)
        let saved = ck_get_num_threads()
        defer { ck_set_num_threads(saved) }
        for threads: Int32 in [1, 2, 3] {
            ck_set_num_threads(threads)
            ck_logit_statistics(Int64(rows), Int64(vocabulary), logits, &entropy, &argmax, &mean)
            for row in 0..<rows {
                let x = logits[(row * vocabulary)..<((row + 1) * vocabulary)]
                var largest = -Float.infinity, best = 0, sum = 0.0
                for (v, value) in x.enumerated() {
                    sum += Double(value)
                    if value > largest { largest = value; best = v }
                }
                var normalizer = 0.0, weighted = 0.0
                for value in x {
                    let shifted = Double(value - largest), e = Foundation.exp(shifted)
                    normalizer += e
                    weighted += e * shifted
                }
                let expected = Foundation.log(normalizer) - weighted / normalizer
                XCTAssertEqual(entropy[row].bitPattern, expected.bitPattern, "entropy of row \(row), \(threads) threads")
                XCTAssertEqual(Int(argmax[row]), best, "argmax of row \(row)")
                XCTAssertEqual(mean[row].bitPattern, (sum / Double(vocabulary)).bitPattern, "mean of row \(row)")
            }
        }
        XCTAssertEqual(argmax[0], 3)
    }

    /// The matmul rule skips the gradient GEMM of an untracked operand (the frozen base weight of a LoRA layer).
    func testMatmulSkipsFrozenOperand() {
        let x = randomTensor([3, 4], seed: 10), frozen = randomTensor([5, 4], seed: 11)
        x.requiresGrad = true
        Tensor.matmul(x, frozen, transposeB: true).sum().backward()
        XCTAssertNil(frozen.grad)
        let expected = Tensor.ones([3, 5]).matmul(frozen)
        assertClose(x.grad ?? Tensor.zeros(x.shape), expected, tolerance: 1e-6, "∂x through a frozen weight")
    }

    /// Output and input gradients of Σ rowWeights · f(hidden, weight).
    private func run(_ hidden: Tensor, _ weight: Tensor, _ rowWeights: Tensor,
                     _ function: (Tensor, Tensor) -> Tensor) -> (Tensor, [Tensor]) {
        let h = hidden.copied(), w = weight.copied()
        h.requiresGrad = true; w.requiresGrad = true
        let output = function(h, w)
        (output * rowWeights).sum().backward()
        return (output.detached(), [h.grad ?? Tensor.zeros(h.shape), w.grad ?? Tensor.zeros(w.shape)])
    }
}
