import Foundation
import XCTest
import NeuralNetworks
import Tensors

final class OptimizerTests: XCTestCase {
    /// AdamW's update for one parameter, written out in Double from the paper's algorithm.
    func testAdamWMatchesTheAlgorithm() {
        let parameter = Tensor(shape: [3], scalars: [0.5, -1, 2])
        parameter.requiresGrad = true
        let optimizer = AdamW(parameters: [parameter], learningRate: 0.1, beta1: 0.9, beta2: 0.99, epsilon: 1e-8, weightDecay: 0.1)
        var p: [Double] = [0.5, -1, 2], m = [0.0, 0, 0], v = [0.0, 0, 0]
        for step in 1...3 {
            let gradient: [Float] = [Float(step) * 0.3, -0.2, 0.05]
            parameter.grad = Tensor(shape: [3], scalars: gradient)
            optimizer.step()
            for i in 0..<3 {
                let g = Double(gradient[i])
                m[i] = 0.9 * m[i] + 0.1 * g
                v[i] = 0.99 * v[i] + 0.01 * g * g
                p[i] -= 0.1 * 0.1 * p[i]
                let mHat = m[i] / (1 - Foundation.pow(0.9, Double(step))), vHat = v[i] / (1 - Foundation.pow(0.99, Double(step)))
                p[i] -= 0.1 * mHat / (vHat.squareRoot() + 1e-8)
            }
        }
        for (actual, expected) in zip(parameter.scalars, p) { XCTAssertEqual(Double(actual), expected, accuracy: 1e-5) }
    }

    func testSGDWithMomentum() {
        let parameter = Tensor(shape: [1], scalars: [1])
        let optimizer = SGD(parameters: [parameter], learningRate: 0.5, momentum: 0.9)
        parameter.grad = Tensor(shape: [1], scalars: [1]); optimizer.step()   // b = 1, p = 0.5
        parameter.grad = Tensor(shape: [1], scalars: [1]); optimizer.step()   // b = 1.9, p = -0.45
        XCTAssertEqual(parameter.scalars[0], -0.45, accuracy: 1e-6)
    }

    /// Ten steps equal five steps, a save and restore into fresh objects, and five more — bit for bit.
    func testSaveAndRestoreResumesBitIdentically() throws {
        func makeModel() -> (Linear, AdamW) {
            var generator = SeededGenerator(seed: 11)
            let model = Linear(inputSize: 5, outputSize: 3, generator: &generator)
            return (model, AdamW(parameters: model.parameters(), learningRate: 0.01, weightDecay: 0.05))
        }
        var data = SeededGenerator(seed: 5)
        let batches = (0..<10).map { _ in Tensor.randomNormal([4, 5], generator: &data) }
        func train(_ model: Linear, _ optimizer: AdamW, _ steps: Range<Int>) {
            for step in steps {
                optimizer.zeroGradients()
                model(batches[step]).crossEntropy(targets: [0, 1, 2, 1]).backward()
                clipGradientNorm(optimizer.parameters, maxNorm: 0.5)
                optimizer.learningRate = LearningRateSchedule(peak: 0.01, warmupSteps: 2, totalSteps: 10, decay: .cosine).learningRate(at: step)
                optimizer.step()
            }
        }
        let (straight, straightOptimizer) = makeModel()
        train(straight, straightOptimizer, 0..<10)

        let (first, firstOptimizer) = makeModel()
        train(first, firstOptimizer, 0..<5)
        let savedState = try JSONEncoder().encode(firstOptimizer.state())
        let savedWeights = first.parameters().map(\.scalars)

        let (resumed, resumedOptimizer) = makeModel()
        for (parameter, values) in zip(resumed.parameters(), savedWeights) { parameter.assign(Tensor(shape: parameter.shape, scalars: values)) }
        try resumedOptimizer.load(JSONDecoder().decode(OptimizerState.self, from: savedState))
        train(resumed, resumedOptimizer, 5..<10)
        XCTAssertEqual(resumed.parameters().map(\.scalars), straight.parameters().map(\.scalars))
        XCTAssertEqual(resumedOptimizer.state(), straightOptimizer.state())
    }

    func testLoadingMismatchedStateThrows() {
        let optimizer = AdamW(parameters: [Tensor.zeros([3])])
        let other = AdamW(parameters: [Tensor.zeros([4])]).state()
        XCTAssertThrowsError(try optimizer.load(other))
        XCTAssertThrowsError(try optimizer.load(SGD(parameters: [Tensor.zeros([3])], learningRate: 1).state()))
    }

    func testSchedulesMatchTransformers() {
        let linear = LearningRateSchedule(peak: 1, warmupSteps: 10, totalSteps: 110, decay: .linear)
        XCTAssertEqual(linear.learningRate(at: 0), 0)
        XCTAssertEqual(linear.learningRate(at: 5), 0.5)
        XCTAssertEqual(linear.learningRate(at: 10), 1)
        XCTAssertEqual(linear.learningRate(at: 60), 0.5)
        XCTAssertEqual(linear.learningRate(at: 110), 0)
        let cosine = LearningRateSchedule(peak: 2, warmupSteps: 0, totalSteps: 100, decay: .cosine)
        XCTAssertEqual(cosine.learningRate(at: 0), 2)
        XCTAssertEqual(cosine.learningRate(at: 50), 1, accuracy: 1e-6)
        XCTAssertEqual(cosine.learningRate(at: 100), 0, accuracy: 1e-6)
        XCTAssertEqual(LearningRateSchedule(peak: 3).learningRate(at: 1000), 3)
    }

    func testClipGradientNorm() {
        let a = Tensor.zeros([2]), b = Tensor.zeros([1])
        a.grad = Tensor(shape: [2], scalars: [3, 0]); b.grad = Tensor(shape: [1], scalars: [4])
        let norm = clipGradientNorm([a, b], maxNorm: 1)
        XCTAssertEqual(norm, 5)
        XCTAssertEqual(a.grad!.scalars[0], 0.6, accuracy: 1e-5)
        XCTAssertEqual(b.grad!.scalars[0], 0.8, accuracy: 1e-5)
        XCTAssertEqual(clipGradientNorm([a, b], maxNorm: 10), 1, accuracy: 1e-5)
        XCTAssertEqual(a.grad!.scalars[0], 0.6, accuracy: 1e-5, "below the maximum nothing changes")
    }
}
