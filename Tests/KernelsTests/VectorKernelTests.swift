import CKernels
import Foundation
import XCTest

private typealias Support = VectorTestSupport

/// Elementwise, row, loss, RoPE and AdamW kernels against double-precision Swift references, on every supported
/// instruction-set path with 1 and 2 threads.
final class VectorKernelTests: XCTestCase {
    // MARK: Elementwise accuracy

    /// Worst relative error of `kernel` against `reference` (evaluated in double at the float input), over the
    /// inputs whose reference magnitude is at least `floor` (smaller results are checked absolutely against it).
    private func worstRelativeError(_ inputs: [Float], _ kernel: (Int64, UnsafePointer<Float>, UnsafeMutablePointer<Float>) -> Void,
                                    _ reference: (Double) -> Double, floor: Double) -> (error: Double, input: Float) {
        var output = [Float](repeating: 0, count: inputs.count)
        kernel(Int64(inputs.count), inputs, &output)
        var worst = (error: 0.0, input: Float(0))
        for (x, y) in zip(inputs, output) {
            let expected = reference(Double(x))
            let error = abs(expected) >= floor ? abs(Double(y) - expected) / abs(expected) : abs(Double(y) - expected) / floor
            if !(error <= worst.error) { worst = (error.isNaN ? .infinity : error, x) }
        }
        return worst
    }

    private func sweep(_ lower: Float, _ upper: Float, count: Int) -> [Float] {
        (0..<count).map { lower + (upper - lower) * Float($0) / Float(count - 1) }
    }

    /// Dense sweeps of the range plus tiny arguments around zero, where relative accuracy is hardest.
    private func accuracyInputs(_ lower: Float, _ upper: Float) -> [Float] {
        var inputs = sweep(lower, upper, count: 60_001) + sweep(-1, 1, count: 20_001)
        inputs += [1e-8, -1e-8, 1e-30, -1e-30, 3e-4, -3e-4, lower, upper]
        return inputs
    }

    private func checkSpecials(_ kernel: (Int64, UnsafePointer<Float>, UnsafeMutablePointer<Float>) -> Void,
                               _ cases: [(Float, Float)], _ label: String) {
        let inputs = cases.map(\.0)
        var output = [Float](repeating: 0, count: inputs.count)
        kernel(Int64(inputs.count), inputs, &output)
        for (i, (x, expected)) in cases.enumerated() {
            let ok = expected.isNaN ? output[i].isNaN : output[i] == expected
            XCTAssertTrue(ok, "\(label): f(\(x)) = \(output[i]), expected \(expected)")
        }
    }

    func testExpAccuracy() {
        let inputs = accuracyInputs(-87.3, 88.72) + Support.randomFloats(20_000, in: -87.3...88.7, seed: 1)
        Support.forEachConfiguration { label in
            let worst = worstRelativeError(inputs, ck_vexp, { Foundation.exp($0) }, floor: 1.2e-38)
            XCTAssertLessThanOrEqual(worst.error, 1.5e-7, "exp \(label) worst at \(worst.input)")  // ~1 ulp
            checkSpecials(ck_vexp, [(0, 1), (.infinity, .infinity), (-.infinity, 0), (.nan, .nan), (89, .infinity),
                                    (-104, 0), (-200, 0), (1000, .infinity)], "exp \(label)")
        }
    }

    func testLogAccuracy() {
        var inputs = (0..<40_000).map { Float(Foundation.exp(Double($0) / 40_000 * 170 - 85)) }
        inputs += sweep(0.5, 2, count: 40_001) + [1, 1 + 1.2e-7, 1 - 6e-8, Float.leastNormalMagnitude / 1024, .leastNonzeroMagnitude,
                   .greatestFiniteMagnitude]  // denormals included
        Support.forEachConfiguration { label in
            let worst = worstRelativeError(inputs, ck_vlog, { Foundation.log($0) }, floor: 1e-30)
            XCTAssertLessThanOrEqual(worst.error, 2.5e-7, "log \(label) worst at \(worst.input)")
            checkSpecials(ck_vlog, [(1, 0), (0, -.infinity), (-0.0, -.infinity), (-1, .nan), (.infinity, .infinity),
                                    (-.infinity, .nan), (.nan, .nan)], "log \(label)")
        }
    }

    func testTanhAccuracy() {
        let inputs = accuracyInputs(-12, 12) + Support.randomFloats(20_000, in: -1.2...1.2, seed: 2)
        Support.forEachConfiguration { label in
            let worst = worstRelativeError(inputs, ck_vtanh, { Foundation.tanh($0) }, floor: 1e-30)
            XCTAssertLessThanOrEqual(worst.error, 2.5e-7, "tanh \(label) worst at \(worst.input)")
            checkSpecials(ck_vtanh, [(0, 0), (.infinity, 1), (-.infinity, -1), (.nan, .nan), (88, 1), (-88, -1)],
                          "tanh \(label)")
        }
    }

    func testSigmoidAccuracy() {
        let inputs = accuracyInputs(-87, 88)
        Support.forEachConfiguration { label in
            let worst = worstRelativeError(inputs, ck_vsigmoid, { 1 / (1 + Foundation.exp(-$0)) }, floor: 1.2e-38)
            XCTAssertLessThanOrEqual(worst.error, 2.5e-7, "sigmoid \(label) worst at \(worst.input)")
            checkSpecials(ck_vsigmoid, [(0, 0.5), (.infinity, 1), (-.infinity, 0), (.nan, .nan), (100, 1)],
                          "sigmoid \(label)")
        }
    }

    /// 0.5 (1 + tanh u) written as 1 / (1 + e^{−2u}): the tanh form cancels for negative x even in double.
    private static func geluTanh(_ x: Double) -> Double {
        x / (1 + Foundation.exp(-2 * 0.7978845608028654 * (x + 0.044715 * x * x * x)))
    }
    private static func geluErf(_ x: Double) -> Double { 0.5 * x * Foundation.erfc(-x / 2.0.squareRoot()) }

    func testGeluAndSiluForwardAccuracy() {
        let inputs = accuracyInputs(-9, 12)
        let erfInputs = accuracyInputs(-12, 12)
        let siluInputs = accuracyInputs(-80, 80)
        Support.forEachConfiguration { label in
            // Relative to the result: the left tails are tiny but still checked to a few ulp.
            // The float argument u = √(2/π)(x + 0.044715x³) carries a relative rounding error of ~1 ulp, which
            // exp(−2u) turns into a relative error of ~|2u|·ulp: the bound grows with |u| in the left tail.
            var output = [Float](repeating: 0, count: inputs.count)
            ck_gelu_tanh_forward(Int64(inputs.count), inputs, &output)
            for (x, y) in zip(inputs, output) {
                let u = 0.7978845608028654 * (Double(x) + 0.044715 * Double(x) * Double(x) * Double(x))
                let expected = Self.geluTanh(Double(x))
                let bound = (4e-7 + 2e-7 * abs(2 * u)) * abs(expected) + 1e-38
                if !(abs(Double(y) - expected) <= bound) {
                    XCTFail("gelu_tanh \(label): f(\(x)) = \(y), expected \(expected)")
                    break
                }
            }
            var worst = worstRelativeError(sweep(-1, 12, count: 30_001), ck_gelu_tanh_forward, Self.geluTanh, floor: 1e-30)
            XCTAssertLessThanOrEqual(worst.error, 4e-7, "gelu_tanh \(label) worst at \(worst.input)")
            worst = worstRelativeError(erfInputs, ck_gelu_erf_forward, Self.geluErf, floor: 1e-30)
            // ~4 ulp: exp, a division and the erfc polynomial each round once (measured 4.1e-7 on a 2M-point sweep).
            XCTAssertLessThanOrEqual(worst.error, 5e-7, "gelu_erf \(label) worst at \(worst.input)")
            worst = worstRelativeError(siluInputs, ck_silu_forward, { $0 / (1 + Foundation.exp(-$0)) }, floor: 1e-30)
            XCTAssertLessThanOrEqual(worst.error, 3e-7, "silu \(label) worst at \(worst.input)")
            for kernel in [ck_gelu_tanh_forward, ck_gelu_erf_forward, ck_silu_forward] {
                checkSpecials(kernel, [(0, 0), (.infinity, .infinity), (-.infinity, 0), (.nan, .nan), (-200, 0)],
                              "activation \(label)")
            }
        }
    }

    func testActivationBackwardMatchesDerivative() {
        let x = Support.randomFloats(1_001, in: -6...6, seed: 3) + [0, 1e-8, -30, 30, .infinity, -.infinity]
        let dy = Support.randomFloats(x.count, seed: 4)
        let k0 = 0.7978845608028654, k1 = 0.044715
        let derivatives: [(String, (Int64, UnsafePointer<Float>, UnsafePointer<Float>, UnsafeMutablePointer<Float>) -> Void, (Double) -> Double)] = [
            ("gelu_tanh", ck_gelu_tanh_backward, { x in
                guard x.isFinite else { return x > 0 ? 1 : 0 }
                let u = k0 * (x + k1 * x * x * x), t = Foundation.tanh(u)
                return 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * k0 * (1 + 3 * k1 * x * x)
            }),
            ("gelu_erf", ck_gelu_erf_backward, { x in
                guard x.isFinite else { return x > 0 ? 1 : 0 }
                return 0.5 * Foundation.erfc(-x / 2.0.squareRoot()) + x * Foundation.exp(-x * x / 2) / (2 * Double.pi).squareRoot()
            }),
            ("silu", ck_silu_backward, { x in
                guard x.isFinite else { return x > 0 ? 1 : 0 }
                let s = 1 / (1 + Foundation.exp(-x))
                return s * (1 + x * (1 - s))
            }),
        ]
        Support.forEachConfiguration { label in
            for (name, kernel, derivative) in derivatives {
                var dx = [Float](repeating: .nan, count: x.count)
                kernel(Int64(x.count), x, dy, &dx)
                let expected = x.indices.map { Double(dy[$0]) * derivative(Double(x[$0])) }
                Support.assertClose(dx, expected, relative: 2e-6, absolute: 1e-7, "\(name) backward \(label)")
                // dx may alias dy.
                var inPlace = dy
                inPlace.withUnsafeMutableBufferPointer { kernel(Int64(x.count), x, $0.baseAddress!, $0.baseAddress!) }
                XCTAssertEqual(inPlace, dx, "\(name) backward in place \(label)")
            }
        }
    }

    func testActivationBackwardMatchesFiniteDifferences() {
        // Independent of the analytic formulas above: central differences of the double-precision forward.
        let x = Support.randomFloats(9, in: -4...4, seed: 5)
        let forwards: [(String, (Int64, UnsafePointer<Float>, UnsafePointer<Float>, UnsafeMutablePointer<Float>) -> Void, (Double) -> Double)] = [
            ("gelu_tanh", ck_gelu_tanh_backward, Self.geluTanh),
            ("gelu_erf", ck_gelu_erf_backward, Self.geluErf),
            ("silu", ck_silu_backward, { $0 / (1 + Foundation.exp(-$0)) }),
        ]
        let ones = [Float](repeating: 1, count: x.count)
        for (name, kernel, forward) in forwards {
            var dx = [Float](repeating: 0, count: x.count)
            kernel(Int64(x.count), x, ones, &dx)
            let expected = x.map { value in Support.finiteDifferenceGradient([Double(value)]) { forward($0[0]) }[0] }
            Support.assertClose(dx, expected, relative: 1e-5, absolute: 1e-6, "\(name) finite differences")
        }
    }

    func testElementwiseLargeInputsSplitAcrossThreadsMatchSerial() {
        // Above the parallel grain; elementwise results must not depend on the split.
        let x = Support.randomFloats(100_003, in: -8...8, seed: 6)
        let unary = [ck_vexp, ck_vtanh, ck_vsigmoid, ck_gelu_tanh_forward, ck_gelu_erf_forward, ck_silu_forward]
        for path in Support.supportedPaths {
            _ = ck_set_path(path)
            for kernel in unary {
                ck_set_num_threads(1)
                var serial = [Float](repeating: 0, count: x.count)
                kernel(Int64(x.count), x, &serial)
                ck_set_num_threads(2)
                var parallel = [Float](repeating: 0, count: x.count)
                kernel(Int64(x.count), x, &parallel)
                XCTAssertEqual(serial, parallel, Support.pathName(path))
                // y may alias x.
                var inPlace = x
                inPlace.withUnsafeMutableBufferPointer { kernel(Int64(x.count), $0.baseAddress!, $0.baseAddress!) }
                XCTAssertEqual(inPlace, serial, Support.pathName(path))
            }
        }
        _ = ck_set_path(Int32(CK_PATH_AUTO.rawValue))
    }

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

/// Helpers shared by the vector and attention kernel tests (namespaced so other test files cannot collide).
enum VectorTestSupport {
    /// Deterministic SplitMix64 generator so every test input is reproducible.
    struct Generator: RandomNumberGenerator {
        private var state: UInt64
        init(seed: UInt64) { state = seed }
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    static func randomFloats(_ count: Int, in range: ClosedRange<Float> = -2...2, seed: UInt64) -> [Float] {
        var generator = Generator(seed: seed)
        return (0..<count).map { _ in Float.random(in: range, using: &generator) }
    }

    /// Every instruction-set path this CPU supports, so each test runs the portable and the SIMD variants.
    static var supportedPaths: [Int32] {
        [CK_PATH_PORTABLE, CK_PATH_AVX2, CK_PATH_AVX512, CK_PATH_NEON].map { Int32($0.rawValue) }
            .filter { ck_path_supported($0) != 0 }
    }

    static func pathName(_ path: Int32) -> String { String(cString: ck_path_name(path)) }

    /// Runs `body` on every supported path with 1 and 2 threads, restoring the automatic path and default threads.
    static func forEachConfiguration(_ body: (_ label: String) throws -> Void) rethrows {
        let savedThreads = ck_get_num_threads()
        defer {
            _ = ck_set_path(Int32(CK_PATH_AUTO.rawValue))
            ck_set_num_threads(savedThreads)
        }
        for path in supportedPaths {
            precondition(ck_set_path(path) == 0)
            for threads: Int32 in [1, 2] {
                ck_set_num_threads(threads)
                try body("\(pathName(path)), \(threads) thread(s)")
            }
        }
    }

    /// Asserts |actual − expected| ≤ absolute + relative·|expected| elementwise, reporting the worst element.
    static func assertClose(_ actual: [Float], _ expected: [Double], relative: Double, absolute: Double, _ label: String,
                     file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(actual.count, expected.count, label, file: file, line: line)
        var worst = 0.0
        var worstIndex = -1
        for i in 0..<min(actual.count, expected.count) {
            let error = abs(Double(actual[i]) - expected[i])
            let excess = error - (absolute + relative * abs(expected[i]))
            if !(excess <= 0) && (worstIndex < 0 || excess > worst || excess.isNaN) {
                worst = excess
                worstIndex = i
            }
        }
        if worstIndex >= 0 {
            XCTFail("\(label): element \(worstIndex) is \(actual[worstIndex]), expected \(expected[worstIndex])",
                    file: file, line: line)
        }
    }

    /// Central finite difference of a double-precision scalar function with respect to each input.
    static func finiteDifferenceGradient(_ inputs: [Double], step: Double = 1e-6, _ loss: ([Double]) -> Double) -> [Double] {
        var gradient = [Double](repeating: 0, count: inputs.count)
        var probe = inputs
        for i in inputs.indices {
            probe[i] = inputs[i] + step
            let plus = loss(probe)
            probe[i] = inputs[i] - step
            let minus = loss(probe)
            probe[i] = inputs[i]
            gradient[i] = (plus - minus) / (2 * step)
        }
        return gradient
    }
}
