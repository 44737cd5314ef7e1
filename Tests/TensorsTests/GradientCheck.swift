import XCTest
@testable import Tensors

/// Finite-difference gradient checking in Float32.
///
/// The objective is L = Σ f(inputs) ⊙ R for a fixed random R, so every output element matters. Central
/// differences with step h have O(h²) truncation and O(ε/h) rounding error; h = 1e-2 on O(1) inputs keeps both
/// near 1e-4 relative, hence the tolerance of 2e-2 of the gradient's scale (a wrong rule is off by O(1)).
func checkGradients(_ inputs: [Tensor], step: Float = 1e-2, tolerance: Float = 2e-2, seed: UInt64 = 99,
                    file: StaticString = #filePath, line: UInt = #line, _ function: ([Tensor]) -> Tensor) {
    for input in inputs { input.requiresGrad = true; input.grad = nil }
    var generator = SeededGenerator(seed: seed)
    let probe = function(inputs)
    let weights = Tensor.randomNormal(probe.shape, generator: &generator)
    (probe * weights).sum().backward()
    func objective() -> Double {
        withoutGradients { Double((function(inputs) * weights).sum().item) }
    }
    for (index, input) in inputs.enumerated() {
        guard let analytic = input.grad?.scalars else {
            XCTFail("input \(index) received no gradient", file: file, line: line); continue
        }
        let scale = max(analytic.map { Swift.abs($0) }.max() ?? 0, 1e-3)
        for element in 0..<input.count {
            let original = input.scalars[element]
            input.withUnsafeMutableBufferPointer { $0[element] = original + step }
            let plus = objective()
            input.withUnsafeMutableBufferPointer { $0[element] = original - step }
            let minus = objective()
            input.withUnsafeMutableBufferPointer { $0[element] = original }
            let numeric = Float((plus - minus) / Double(2 * step))
            if Swift.abs(numeric - analytic[element]) > tolerance * scale {
                XCTFail("input \(index) element \(element): analytic \(analytic[element]) vs numeric \(numeric) (scale \(scale))",
                        file: file, line: line)
                return
            }
        }
    }
}

/// Asserts two tensors have the same shape and close elements (relative to the larger magnitude).
func assertClose(_ actual: Tensor, _ expected: Tensor, tolerance: Float = 1e-5, _ message: String = "",
                 file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertEqual(actual.shape, expected.shape, "shape \(message)", file: file, line: line)
    guard actual.shape == expected.shape else { return }
    assertClose(actual.scalars, expected.scalars, tolerance: tolerance, message, file: file, line: line)
}

func assertClose(_ actual: [Float], _ expected: [Float], tolerance: Float = 1e-5, _ message: String = "",
                 file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertEqual(actual.count, expected.count, "count \(message)", file: file, line: line)
    for (index, (a, e)) in zip(actual, expected).enumerated() {
        let bound = tolerance * max(1, Swift.abs(e))
        if !(Swift.abs(a - e) <= bound) {
            XCTFail("\(message) element \(index): \(a) vs expected \(e)", file: file, line: line)
            return
        }
    }
}

/// A seeded random tensor.
func randomTensor(_ shape: Shape, seed: UInt64, scale: Float = 1, offset: Float = 0) -> Tensor {
    var generator = SeededGenerator(seed: seed)
    return Tensor.randomNormal(shape, mean: offset, standardDeviation: scale, generator: &generator)
}
