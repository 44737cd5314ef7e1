import XCTest
import NeuralNetworks
import Tensors

final class TrainingBehaviourTests: XCTestCase {
    /// A 2-4-1 MLP learns XOR, which no linear model can fit.
    func testMLPLearnsXOR() {
        var generator = SeededGenerator(seed: 7)
        let hidden = Linear(inputSize: 2, outputSize: 8, generator: &generator)
        let output = Linear(inputSize: 8, outputSize: 1, generator: &generator)
        let x = Tensor(shape: [4, 2], scalars: [0, 0, 0, 1, 1, 0, 1, 1])
        let y = Tensor(shape: [4, 1], scalars: [0, 1, 1, 0])
        let parameters = hidden.parameters() + output.parameters()
        let optimizer = AdamW(parameters: parameters, learningRate: 0.05, weightDecay: 0)
        var loss: Float = .infinity
        for _ in 0..<400 {
            optimizer.zeroGradients()
            let prediction = output(hidden(x).tanh()).sigmoid()
            let mse = (prediction - y).squared().mean()
            mse.backward()
            optimizer.step()
            loss = mse.item
        }
        XCTAssertLessThan(loss, 0.01)
        let prediction = withoutGradients { output(hidden(x).tanh()).sigmoid().scalars }
        XCTAssertEqual(prediction.map { $0 > 0.5 }, [false, true, true, false])
    }

    /// Accumulating gradients over two half-batches (loss scaled by ½ each) equals one full batch.
    func testGradientAccumulationEqualsFullBatch() {
        var generator = SeededGenerator(seed: 3)
        let layer = Linear(inputSize: 3, outputSize: 2, generator: &generator)
        let x = Tensor.randomNormal([4, 3], generator: &generator)
        let targets: [Int32] = [0, 1, 1, 0]
        layer(x).crossEntropy(targets: targets).backward()
        let full = layer.parameters().map { $0.grad!.scalars }
        layer.zeroGradients()
        for half in [0..<2, 2..<4] {
            (layer(x.slice(axis: 0, half)).crossEntropy(targets: Array(targets[half])) * 0.5).backward()
        }
        for (accumulated, expected) in zip(layer.parameters().map { $0.grad!.scalars }, full) {
            for (a, e) in zip(accumulated, expected) { XCTAssertEqual(a, e, accuracy: 1e-6) }
        }
    }

    func testParametersAreFoundByReflection() {
        var generator = SeededGenerator(seed: 1)
        final class Block: Module {
            let norm = LayerNorm(size: 4)
            let layers: [Linear]
            let frozen: Tensor
            init(generator: inout SeededGenerator) {
                layers = [Linear(inputSize: 4, outputSize: 4, generator: &generator),
                          Linear(inputSize: 4, outputSize: 2, bias: false, generator: &generator)]
                frozen = Tensor.zeros([3])
            }
        }
        let block = Block(generator: &generator)
        XCTAssertEqual(block.namedParameters().map(\.name),
                       ["norm.weight", "norm.bias", "layers.0.weight", "layers.0.bias", "layers.1.weight", "frozen"])
        XCTAssertEqual(block.trainableParameters().count, 5)
        XCTAssertEqual(block.parameterCount, 4 + 4 + 16 + 4 + 8 + 3)
    }
}
