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

    /// The tape keeps an input only when a gradient rule reads it (issue 21: a LoRA step kept every intermediate result
    /// until the backward pass — the inputs of the frozen products, both sides of each residual sum, the sources of
    /// the head permutations — about twice the memory its rules read).
    func testTapeKeepsOnlyTheInputsItsRulesRead() {
        let x = randomTensor([4, 3], seed: 1)
        x.requiresGrad = true
        let frozen = randomTensor([3, 2], seed: 2), trained = randomTensor([3, 2], seed: 3)
        trained.requiresGrad = true
        weak var frozenInput: Tensor?, sumInput: Tensor?, trainedInput: Tensor?
        let loss: Tensor = {
            let scaled = x * 2  // read by no rule: freed once the forward pass is done with it
            frozenInput = scaled
            let product = Tensor.matmul(scaled, frozen)  // ∂scaled reads only the frozen weight
            sumInput = product
            let shifted = (product + 1).tanh()  // the sum's rule reads nothing; tanh's reads its output
            let kept = x * 3  // read by the trained product's weight gradient
            trainedInput = kept
            return (shifted + Tensor.matmul(kept, trained)).sum()
        }()
        XCTAssertNil(frozenInput, "the input of a frozen weight's product is not kept")
        XCTAssertNil(sumInput, "a sum's inputs are not kept")
        XCTAssertNotNil(trainedInput, "a trained weight's product keeps its input")
        XCTAssertEqual(loss.tapeBytes(excluding: [frozen, trained]), (12 + 8) * 4, "only x·3 and tanh's output")

        loss.backward()
        XCTAssertNotNil(x.grad)
        XCTAssertNotNil(trained.grad)
        checkGradients([x.copied(), trained.copied()]) { inputs in
            (Tensor.matmul(inputs[0] * 2, frozen) + 1).tanh() + Tensor.matmul(inputs[0] * 3, inputs[1])
        }
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
