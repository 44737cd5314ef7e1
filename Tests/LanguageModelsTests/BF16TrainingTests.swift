import XCTest
@testable import LanguageModels
import NeuralNetworks
import Tensors

/// bf16 mixed precision trains like fp32: the same tiny character GPT, same seed and batches, 40 steps in each
/// mode; the loss curves stay within a few percent of each other and both fall. (The 200-step check on the
/// benchmark's shape is in the README: `charter bench train --bf16 --steps 200 --losses FILE`.)
final class BF16TrainingTests: XCTestCase {
    override func tearDown() {
        MatmulPrecision.current = .float32
        super.tearDown()
    }

    func losses(_ precision: MatmulPrecision, steps: Int) -> [Float] {
        MatmulPrecision.current = precision
        defer { MatmulPrecision.current = .float32 }
        let text = (0..<40).map { "the \(["cat", "dog", "owl"][$0 % 3]) sat on the \(["mat", "log", "hill", "rug"][$0 % 4]). " }.joined()
        let alphabet = Array(Set(text)).sorted()
        let index = Dictionary(uniqueKeysWithValues: alphabet.enumerated().map { ($1, Int32($0)) })
        let ids = text.map { index[$0]! }
        var configuration = GPTConfiguration()
        configuration.vocabularySize = alphabet.count
        configuration.contextLength = 32
        configuration.layerCount = 2
        configuration.headCount = 2
        configuration.width = 32
        configuration.activation = "gelu"
        var generator = SeededGenerator(seed: 4)
        let model = GPTModel(configuration, generator: &generator)
        let optimizer = AdamW(parameters: model.trainableParameters(), learningRate: 3e-3, beta1: 0.9, beta2: 0.95,
                              weightDecay: 0.01, noDecay: model.parametersWithoutDecay)
        var losses: [Float] = []
        let (batch, time) = (8, 32)
        for _ in 0..<steps {
            var inputs: [Int32] = [], targets: [Int32] = []
            for _ in 0..<batch {
                let start = Int(generator.next() % UInt64(ids.count - time - 1))
                inputs += ids[start..<(start + time)]
                targets += ids[(start + 1)...(start + time)]
            }
            let loss = model(inputs, batch: batch, time: time).crossEntropy(targets: targets)
            loss.backward()
            clipGradientNorm(optimizer.parameters, maxNorm: 1)
            optimizer.step()
            optimizer.zeroGradients()
            losses.append(loss.item)
        }
        return losses
    }

    func testBF16LossTracksFloat32() {
        let steps = 40
        let fp32 = losses(.float32, steps: steps), bf16 = losses(.bfloat16, steps: steps)
        XCTAssertNotEqual(fp32, bf16, "the bf16 mode must change the arithmetic")
        let relative = zip(fp32, bf16).map { abs($0 - $1) / $0 }
        XCTAssertLessThan(relative.max()!, 0.03, "per-step relative difference: \(relative)")
        XCTAssertLessThan(bf16.suffix(10).reduce(0, +), 0.7 * bf16.prefix(10).reduce(0, +), "bf16 losses: \(bf16)")
    }
}
