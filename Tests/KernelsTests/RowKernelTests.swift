import CKernels
import Foundation
import XCTest

private typealias Support = VectorTestSupport

/// Row kernels (softmax, log-softmax, logsumexp), norms and cross-entropy against double-precision Swift
/// references, on every supported instruction-set path with 1 and 2 threads.
final class RowKernelTests: XCTestCase {
    // MARK: Row kernels

    /// Awkward shapes: single columns, sizes around SIMD widths, odd row counts, and one shape above the grain.
    private let shapes: [(rows: Int, cols: Int)] = [(1, 1), (3, 7), (5, 33), (3, 129), (1, 16), (303, 129)]

    private func referenceLogSumExp(_ row: ArraySlice<Float>) -> Double {
        let max = row.map(Double.init).max() ?? -.infinity
        return max + Foundation.log(row.reduce(0) { $0 + Foundation.exp(Double($1) - max) })
    }

    func testSoftmaxForwardAndBackward() {
        for (rows, cols) in shapes {
            let x = Support.randomFloats(rows * cols, in: -8...8, seed: UInt64(rows * 1000 + cols))
            let dy = Support.randomFloats(rows * cols, seed: UInt64(cols))
            var expectedY = [Double](), expectedLogY = [Double](), expectedLse = [Double]()
            var expectedDx = [Double](), expectedLogDx = [Double]()
            for r in 0..<rows {
                let row = x[(r * cols)..<((r + 1) * cols)]
                let lse = referenceLogSumExp(row)
                let y = row.map { Foundation.exp(Double($0) - lse) }
                expectedLse.append(lse)
                expectedY += y
                expectedLogY += row.map { Double($0) - lse }
                let g = dy[(r * cols)..<((r + 1) * cols)].map(Double.init)
                let dot = zip(g, y).reduce(0) { $0 + $1.0 * $1.1 }
                expectedDx += zip(g, y).map { $1 * ($0 - dot) }
                let total = g.reduce(0, +)
                expectedLogDx += zip(g, y).map { $0 - $1 * total }
            }
            Support.forEachConfiguration { label in
                let name = "\(rows)×\(cols) \(label)"
                var y = [Float](repeating: .nan, count: x.count)
                ck_softmax_forward(Int64(rows), Int64(cols), x, &y)
                Support.assertClose(y, expectedY, relative: 1e-6, absolute: 1e-9, "softmax \(name)")
                var dx = [Float](repeating: .nan, count: x.count)
                ck_softmax_backward(Int64(rows), Int64(cols), y, dy, &dx)
                Support.assertClose(dx, expectedDx, relative: 1e-5, absolute: 1e-7, "softmax backward \(name)")

                var logY = [Float](repeating: .nan, count: x.count)
                ck_log_softmax_forward(Int64(rows), Int64(cols), x, &logY)
                Support.assertClose(logY, expectedLogY, relative: 1e-6, absolute: 1e-6, "log_softmax \(name)")
                var logDx = dy  // dx aliases dy
                logDx.withUnsafeMutableBufferPointer {
                    ck_log_softmax_backward(Int64(rows), Int64(cols), logY, $0.baseAddress!, $0.baseAddress!)
                }
                Support.assertClose(logDx, expectedLogDx, relative: 1e-5, absolute: 1e-6, "log_softmax backward \(name)")

                var lse = [Float](repeating: .nan, count: rows)
                ck_logsumexp_rows(Int64(rows), Int64(cols), x, &lse)
                Support.assertClose(lse, expectedLse, relative: 1e-6, absolute: 1e-6, "logsumexp \(name)")
            }
        }
    }

    func testSoftmaxGradientMatchesFiniteDifferences() {
        let (rows, cols) = (2, 5)
        let x = Support.randomFloats(rows * cols, seed: 7), weights = Support.randomFloats(rows * cols, seed: 8)
        var y = [Float](repeating: 0, count: x.count), dx = y, logY = y, logDx = y
        ck_softmax_forward(Int64(rows), Int64(cols), x, &y)
        ck_softmax_backward(Int64(rows), Int64(cols), y, weights, &dx)
        ck_log_softmax_forward(Int64(rows), Int64(cols), x, &logY)
        ck_log_softmax_backward(Int64(rows), Int64(cols), logY, weights, &logDx)
        func loss(_ input: [Double], log: Bool) -> Double {
            var total = 0.0
            for r in 0..<rows {
                let row = input[(r * cols)..<((r + 1) * cols)]
                let max = row.max()!
                let lse = max + Foundation.log(row.reduce(0) { $0 + Foundation.exp($1 - max) })
                for c in 0..<cols {
                    let value = log ? row[r * cols + c] - lse : Foundation.exp(row[r * cols + c] - lse)
                    total += Double(weights[r * cols + c]) * value
                }
            }
            return total
        }
        let input = x.map(Double.init)
        Support.assertClose(dx, Support.finiteDifferenceGradient(input) { loss($0, log: false) }, relative: 1e-4,
                            absolute: 1e-6, "softmax finite differences")
        Support.assertClose(logDx, Support.finiteDifferenceGradient(input) { loss($0, log: true) }, relative: 1e-4,
                            absolute: 1e-6, "log_softmax finite differences")
    }

    func testRowOfNegativeInfinity() {
        let x: [Float] = [-.infinity, -.infinity, -.infinity, 0, -.infinity, 1]
        Support.forEachConfiguration { label in
            var out = [Float](repeating: 0, count: 2)
            ck_logsumexp_rows(2, 3, x, &out)
            XCTAssertEqual(out[0], -.infinity, label)
            XCTAssertEqual(Double(out[1]), Foundation.log(1 + M_E), accuracy: 1e-6, label)
            // softmax of that row is undefined: NaN as in PyTorch, while the finite row is unaffected.
            var y = [Float](repeating: 0, count: 6)
            ck_softmax_forward(2, 3, x, &y)
            XCTAssertTrue(y[0..<3].allSatisfy(\.isNaN), label)
            XCTAssertEqual(Double(y[5]), M_E / (1 + M_E), accuracy: 1e-6, label)
        }
    }

    // MARK: Norms

    /// Double-precision LayerNorm (or RMSNorm when `rms`): returns y and the input gradient for loss Σ w ⊙ y,
    /// plus dgamma and dbeta.
    private func referenceNorm(_ x: [Double], _ gamma: [Double]?, _ beta: [Double]?, rows: Int, cols: Int, eps: Double,
                               rms: Bool) -> (y: [Double], mean: [Double], rstd: [Double]) {
        var y = [Double](), means = [Double](), rstds = [Double]()
        for r in 0..<rows {
            let row = Array(x[(r * cols)..<((r + 1) * cols)])
            let mean = rms ? 0 : row.reduce(0, +) / Double(cols)
            let variance = row.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(cols)
            let rstd = 1 / (variance + eps).squareRoot()
            for c in 0..<cols { y.append((row[c] - mean) * rstd * (gamma?[c] ?? 1) + (beta?[c] ?? 0)) }
            means.append(mean)
            rstds.append(rstd)
        }
        return (y, means, rstds)
    }

    private func checkNorm(rms: Bool, rows: Int, cols: Int, affine: Bool) {
        let name = "\(rms ? "rmsnorm" : "layernorm") \(rows)×\(cols)\(affine ? "" : " no affine")"
        let x = Support.randomFloats(rows * cols, in: -3...5, seed: UInt64(rows * 31 + cols))
        let gamma = affine ? Support.randomFloats(cols, in: 0.5...1.5, seed: 9) : nil
        let beta = affine && !rms ? Support.randomFloats(cols, seed: 10) : nil
        let dy = Support.randomFloats(rows * cols, seed: 11)
        let eps = 1e-5
        let reference = referenceNorm(x.map(Double.init), gamma?.map(Double.init), beta?.map(Double.init),
                                      rows: rows, cols: cols, eps: eps, rms: rms)
        // Analytic double gradients (checked against finite differences in testNormGradientsMatchFiniteDifferences).
        var expectedDx = [Double](), expectedDgamma = [Double](repeating: 1, count: cols)
        var expectedDbeta = [Double](repeating: -1, count: cols)
        for r in 0..<rows {
            let mean = reference.mean[r], rstd = reference.rstd[r]
            let xhat = (0..<cols).map { (Double(x[r * cols + $0]) - mean) * rstd }
            let g = (0..<cols).map { Double(dy[r * cols + $0]) * Double(gamma?[$0] ?? 1) }
            let meanG = rms ? 0 : g.reduce(0, +) / Double(cols)
            let meanGx = zip(g, xhat).reduce(0) { $0 + $1.0 * $1.1 } / Double(cols)
            for c in 0..<cols {
                expectedDx.append(rstd * (g[c] - meanG - xhat[c] * meanGx))
                expectedDgamma[c] += Double(dy[r * cols + c]) * xhat[c]
                expectedDbeta[c] += Double(dy[r * cols + c])
            }
        }
        var outputs: [[Float]] = []
        Support.forEachConfiguration { label in
            var y = [Float](repeating: .nan, count: x.count), mean = [Float](repeating: .nan, count: rows)
            var rstd = mean, dx = y
            var dgamma = [Float](repeating: 1, count: cols), dbeta = [Float](repeating: -1, count: cols)
            if rms {
                ck_rmsnorm_forward(Int64(rows), Int64(cols), x, gamma, Float(eps), &y, &rstd)
            } else {
                ck_layernorm_forward(Int64(rows), Int64(cols), x, gamma, beta, Float(eps), &y, &mean, &rstd)
                Support.assertClose(mean, reference.mean, relative: 1e-6, absolute: 1e-6, "\(name) mean \(label)")
            }
            dgamma.withUnsafeMutableBufferPointer { dgammaBuffer in
                dbeta.withUnsafeMutableBufferPointer { dbetaBuffer in
                    // Without affine parameters the caller passes no dgamma/dbeta at all.
                    let dgammaPointer = affine ? dgammaBuffer.baseAddress : nil
                    let dbetaPointer = affine ? dbetaBuffer.baseAddress : nil
                    if rms {
                        ck_rmsnorm_backward(Int64(rows), Int64(cols), x, gamma, rstd, dy, &dx, dgammaPointer)
                    } else {
                        ck_layernorm_backward(Int64(rows), Int64(cols), x, gamma, mean, rstd, dy, &dx, dgammaPointer,
                                              dbetaPointer)
                    }
                }
            }
            Support.assertClose(y, reference.y, relative: 2e-6, absolute: 2e-6, "\(name) y \(label)")
            Support.assertClose(rstd, reference.rstd, relative: 2e-6, absolute: 0, "\(name) rstd \(label)")
            Support.assertClose(dx, expectedDx, relative: 1e-5, absolute: 1e-5, "\(name) dx \(label)")
            if affine {
                // Float sums over all rows: the tolerance grows with the number of terms.
                Support.assertClose(dgamma, expectedDgamma, relative: 1e-5, absolute: 2e-6 * Double(rows),
                                    "\(name) dgamma \(label)")
                if !rms {
                    Support.assertClose(dbeta, expectedDbeta, relative: 1e-5, absolute: 2e-6 * Double(rows),
                                        "\(name) dbeta \(label)")
                }
            }
            outputs.append(dx + dgamma + dbeta)
        }
        // Reductions are blocked by shape, not by thread: 1 and 2 threads agree bit for bit on each path.
        for pair in stride(from: 0, to: outputs.count, by: 2) {
            XCTAssertEqual(outputs[pair], outputs[pair + 1], "\(name) thread-count determinism")
        }
    }

    func testLayerNormAndRMSNorm() {
        for (rows, cols) in shapes {
            for rms in [false, true] {
                checkNorm(rms: rms, rows: rows, cols: cols, affine: true)
            }
        }
        checkNorm(rms: false, rows: 3, cols: 33, affine: false)
        checkNorm(rms: true, rows: 3, cols: 33, affine: false)
        checkNorm(rms: false, rows: 1_031, cols: 64, affine: true)  // many reduction blocks
    }

    func testNormGradientsMatchFiniteDifferences() {
        let (rows, cols) = (3, 6)
        let x = Support.randomFloats(rows * cols, seed: 12), w = Support.randomFloats(rows * cols, seed: 13)
        let gamma = Support.randomFloats(cols, in: 0.5...1.5, seed: 14), beta = Support.randomFloats(cols, seed: 15)
        for rms in [false, true] {
            var y = [Float](repeating: 0, count: x.count), mean = [Float](repeating: 0, count: rows), rstd = mean
            var dx = y, dgamma = [Float](repeating: 0, count: cols), dbeta = dgamma
            if rms {
                ck_rmsnorm_forward(Int64(rows), Int64(cols), x, gamma, 1e-5, &y, &rstd)
                ck_rmsnorm_backward(Int64(rows), Int64(cols), x, gamma, rstd, w, &dx, &dgamma)
            } else {
                ck_layernorm_forward(Int64(rows), Int64(cols), x, gamma, beta, 1e-5, &y, &mean, &rstd)
                ck_layernorm_backward(Int64(rows), Int64(cols), x, gamma, mean, rstd, w, &dx, &dgamma, &dbeta)
            }
            let loss = { (x: [Double], gamma: [Double], beta: [Double]) -> Double in
                let y = self.referenceNorm(x, gamma, rms ? nil : beta, rows: rows, cols: cols, eps: 1e-5, rms: rms).y
                return zip(y, w).reduce(0) { $0 + $1.0 * Double($1.1) }
            }
            let xd = x.map(Double.init), gd = gamma.map(Double.init), bd = beta.map(Double.init)
            let name = rms ? "rmsnorm" : "layernorm"
            Support.assertClose(dx, Support.finiteDifferenceGradient(xd) { loss($0, gd, bd) }, relative: 1e-4,
                                absolute: 1e-5, "\(name) dx finite differences")
            Support.assertClose(dgamma, Support.finiteDifferenceGradient(gd) { loss(xd, $0, bd) }, relative: 1e-4,
                                absolute: 1e-5, "\(name) dgamma finite differences")
            if !rms {
                Support.assertClose(dbeta, Support.finiteDifferenceGradient(bd) { loss(xd, gd, $0) }, relative: 1e-4,
                                    absolute: 1e-5, "\(name) dbeta finite differences")
            }
        }
    }

    // MARK: Cross-entropy

    func testCrossEntropyForwardAndBackward() {
        let ignore: Int32 = -100
        for (rows, vocab) in [(1, 1), (5, 7), (7, 33), (3, 129), (301, 65)] {
            let logits = Support.randomFloats(rows * vocab, in: -10...10, seed: UInt64(rows + vocab))
            var generator = Support.Generator(seed: UInt64(vocab))
            var targets = (0..<rows).map { _ in Int32.random(in: 0..<Int32(vocab), using: &generator) }
            if rows > 2 {
                targets[1] = ignore
                targets[2] = -1
            }
            let scale: Float = 0.37
            var expectedLoss = 0.0, expectedKept = 0, expectedLse = [Double](), expectedGrad = [Double]()
            for r in 0..<rows {
                let lse = referenceLogSumExp(logits[(r * vocab)..<((r + 1) * vocab)])
                expectedLse.append(lse)
                let kept = targets[r] >= 0
                if kept {
                    expectedLoss += lse - Double(logits[r * vocab + Int(targets[r])])
                    expectedKept += 1
                }
                for c in 0..<vocab {
                    let p = Foundation.exp(Double(logits[r * vocab + c]) - lse)
                    expectedGrad.append(kept ? Double(scale) * (p - (c == Int(targets[r]) ? 1 : 0)) : 0)
                }
            }
            Support.forEachConfiguration { label in
                let name = "cross-entropy \(rows)×\(vocab) \(label)"
                var lse = [Float](repeating: .nan, count: rows)
                var kept: Int64 = -1
                let loss = ck_cross_entropy_forward(Int64(rows), Int64(vocab), logits, targets, ignore, &lse, &kept)
                XCTAssertEqual(loss, expectedLoss, accuracy: 1e-5 * max(1, abs(expectedLoss)), name)
                XCTAssertEqual(Int(kept), expectedKept, name)
                Support.assertClose(lse, expectedLse, relative: 1e-6, absolute: 1e-6, "\(name) lse")
                var grad = logits  // dlogits aliases logits
                grad.withUnsafeMutableBufferPointer {
                    ck_cross_entropy_backward(Int64(rows), Int64(vocab), $0.baseAddress!, targets, ignore, lse, scale,
                                              $0.baseAddress!)
                }
                Support.assertClose(grad, expectedGrad, relative: 1e-5, absolute: 1e-7, "\(name) gradient")
            }
        }
    }

    func testCrossEntropyLossIsStableForExtremeLogits() {
        let logits: [Float] = [1e4, -1e4, 0, 3e38, -3e38, 1]
        var lse = [Float](repeating: 0, count: 2)
        var kept: Int64 = 0
        Support.forEachConfiguration { label in
            let loss = ck_cross_entropy_forward(2, 3, logits, [1, 0], -100, &lse, &kept)
            XCTAssertEqual(loss, 2e4 + 0, accuracy: 1, label)
            XCTAssertEqual(lse[1], 3e38, label)
        }
    }

}
