import CKernels
import Foundation
import XCTest

private typealias Support = VectorTestSupport

/// RoPE and AdamW kernels against double-precision Swift references, on every supported instruction-set
/// path with 1 and 2 threads.
final class RopeAndAdamWKernelTests: XCTestCase {
    // MARK: RoPE

    func testRopeMatchesReferenceAndInverts() {
        for (groups, T, D) in [(1, 1, 2), (3, 5, 8), (2, 7, 34), (2, 129, 64)] {
            let half = D / 2
            let x = Support.randomFloats(groups * T * D, seed: UInt64(T * D))
            var cos = [Float](), sin = [Float]()
            for t in 0..<T {
                for i in 0..<half {
                    let angle = Double(t) * Foundation.pow(10_000, -2 * Double(i) / Double(D))
                    cos.append(Float(Foundation.cos(angle)))
                    sin.append(Float(Foundation.sin(angle)))
                }
            }
            var expected = [Double](repeating: 0, count: x.count)
            for g in 0..<groups {
                for t in 0..<T {
                    let base = (g * T + t) * D
                    for i in 0..<half {
                        let c = Double(cos[t * half + i]), s = Double(sin[t * half + i])
                        let lo = Double(x[base + i]), hi = Double(x[base + i + half])
                        expected[base + i] = lo * c - hi * s
                        expected[base + i + half] = hi * c + lo * s
                    }
                }
            }
            Support.forEachConfiguration { label in
                var y = [Float](repeating: .nan, count: x.count)
                ck_rope(Int64(groups), Int64(T), Int64(D), x, cos, sin, &y, 0)
                Support.assertClose(y, expected, relative: 1e-6, absolute: 1e-6, "rope \(groups)×\(T)×\(D) \(label)")
                // The inverse is the transpose (the backward pass); applied in place it restores x.
                y.withUnsafeMutableBufferPointer {
                    ck_rope(Int64(groups), Int64(T), Int64(D), $0.baseAddress!, cos, sin, $0.baseAddress!, 1)
                }
                Support.assertClose(y, x.map(Double.init), relative: 1e-5, absolute: 1e-6, "rope inverse \(label)")
            }
        }
    }

    // MARK: AdamW

    func testAdamWMatchesReferenceOverSeveralSteps() {
        for n in [1, 7, 33, 129, 70_001] {
            let initial = Support.randomFloats(n, seed: UInt64(n))
            let (lr, beta1, beta2, eps, decay): (Double, Double, Double, Double, Double) = (1e-2, 0.9, 0.95, 1e-8, 0.1)
            var expectedParam = initial.map(Double.init), expectedM = [Double](repeating: 0, count: n)
            var expectedV = expectedM
            var grads: [[Float]] = []
            for step in 1...3 {
                let g = Support.randomFloats(n, seed: UInt64(n * 10 + step))
                grads.append(g)
                let bc1 = 1 - Foundation.pow(beta1, Double(step)), bc2 = 1 - Foundation.pow(beta2, Double(step))
                for i in 0..<n {
                    let gi = Double(g[i])
                    expectedM[i] = beta1 * expectedM[i] + (1 - beta1) * gi
                    expectedV[i] = beta2 * expectedV[i] + (1 - beta2) * gi * gi
                    expectedParam[i] -= lr * decay * expectedParam[i]
                    expectedParam[i] -= lr * (expectedM[i] / bc1) / ((expectedV[i] / bc2).squareRoot() + eps)
                }
            }
            Support.forEachConfiguration { label in
                var param = initial, m = [Float](repeating: 0, count: n), v = m
                for (index, g) in grads.enumerated() {
                    let step = Double(index + 1)
                    ck_adamw_step(Int64(n), &param, g, &m, &v, Float(lr), Float(beta1), Float(beta2), Float(eps),
                                  Float(decay), Float(1 - Foundation.pow(beta1, step)),
                                  Float(1 - Foundation.pow(beta2, step)))
                }
                Support.assertClose(m, expectedM, relative: 1e-5, absolute: 1e-7, "adamw m \(n) \(label)")
                Support.assertClose(v, expectedV, relative: 1e-5, absolute: 1e-9, "adamw v \(n) \(label)")
                Support.assertClose(param, expectedParam, relative: 1e-5, absolute: 1e-6, "adamw param \(n) \(label)")
            }
        }
    }
}
