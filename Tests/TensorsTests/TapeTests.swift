import XCTest
@testable import Tensors

/// The tape's semantics: what is recorded, how gradients accumulate, and determinism.
final class TapeTests: XCTestCase {
    func testNoGradientScopeRecordsNothing() {
        let x = randomTensor([3], seed: 1)
        x.requiresGrad = true
        let y = withoutGradients { (x * 2).exp() }
        XCTAssertNil(y.node)
        XCTAssertFalse(y.isTracked)
        let z = (x * 2).exp()
        XCTAssertNotNil(z.node)
    }

    func testTensorUsedTwiceAccumulatesBothPaths() {
        let x = Tensor(shape: [2], scalars: [1.5, -2])
        x.requiresGrad = true
        (x * x + x).sum().backward()  // d/dx (x² + x) = 2x + 1
        XCTAssertEqual(x.grad!.scalars, [4, -3])
    }

    func testBackwardTwiceAddsIntoGrad() {
        let x = Tensor(shape: [2], scalars: [1, 2])
        x.requiresGrad = true
        (x * 3).sum().backward()
        (x * 3).sum().backward()
        XCTAssertEqual(x.grad!.scalars, [6, 6])
    }

    func testGraphIsReleasedAfterBackward() {
        let x = Tensor(shape: [2], scalars: [1, 2])
        x.requiresGrad = true
        let y = (x * 3).exp().sum()
        y.backward()
        XCTAssertNil(y.node, "the tape is freed once used")
        let z = (x * 3).exp().sum()
        z.backward(retainGraph: true)
        XCTAssertNotNil(z.node)
    }

    func testConstantsGetNoGradient() {
        let x = Tensor(shape: [2], scalars: [1, 2]), c = Tensor(shape: [2], scalars: [5, 7])
        x.requiresGrad = true
        (x * c).sum().backward()
        XCTAssertNil(c.grad)
        XCTAssertEqual(x.grad!.scalars, [5, 7])
    }

    func testViewsAreCopyOnWrite() {
        let x = Tensor(shape: [2, 2], scalars: [1, 2, 3, 4])
        let view = x.reshaped([4])
        x.withUnsafeMutableBufferPointer { $0[0] = 100 }
        XCTAssertEqual(view.scalars, [1, 2, 3, 4], "a write through one tensor is not seen by its views")
        XCTAssertEqual(x.scalars, [100, 2, 3, 4])
    }

    func testSeededCreationIsDeterministic() {
        var a = SeededGenerator(seed: 42), b = SeededGenerator(seed: 42), c = SeededGenerator(seed: 43)
        let x = Tensor.randomNormal([100], generator: &a), y = Tensor.randomNormal([100], generator: &b)
        XCTAssertEqual(x.scalars, y.scalars)
        XCTAssertNotEqual(x.scalars, Tensor.randomNormal([100], generator: &c).scalars)
        let mean = x.scalars.reduce(0, +) / 100
        XCTAssertLessThan(Swift.abs(mean), 0.3)
        let uniform = Tensor.randomUniform([1000], lower: -1, upper: 2, generator: &a).scalars
        XCTAssertTrue(uniform.allSatisfy { $0 >= -1 && $0 < 2 })
    }
}
