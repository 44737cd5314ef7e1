import XCTest
@testable import LanguageModels
import NeuralNetworks
import Tensors

/// A tiny character-level transformer learns a small text: the loss falls steadily (every 10-step window lower
/// than the one before).
final class CharacterModelTrainingTests: XCTestCase {
    func testCharacterLevelGPTLossFallsSteadily() {
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
        for _ in 0..<60 {
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
        let windows = stride(from: 0, to: 60, by: 10).map { losses[$0..<($0 + 10)].reduce(0, +) / 10 }
        for (earlier, later) in zip(windows, windows.dropFirst()) {
            XCTAssertLessThan(later, earlier, "windowed losses should fall: \(windows)")
        }
        XCTAssertLessThan(windows.last!, windows.first! * 0.6, "\(windows)")
    }
}
