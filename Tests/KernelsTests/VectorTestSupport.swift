import CKernels
import Foundation
import Runtime
import XCTest

/// Helpers shared by the vector and attention kernel tests (namespaced so other test files cannot collide).
enum VectorTestSupport {
    /// Deterministic inputs (Runtime's SplitMix64), so every failure reproduces.
    typealias Generator = SplitMix64

    static func randomFloats(_ count: Int, in range: ClosedRange<Float> = -2...2, seed: UInt64) -> [Float] {
        var generator = SplitMix64(seed: seed)
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
