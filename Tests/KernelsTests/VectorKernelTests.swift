import CKernels
import Foundation
import XCTest

private typealias Support = VectorTestSupport

/// Elementwise kernels (exp, log, tanh, sigmoid, GELU, SiLU and their backward passes) against double-precision Swift references, on every supported
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
}
