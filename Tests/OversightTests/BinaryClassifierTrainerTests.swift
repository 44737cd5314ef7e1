import Foundation
import LanguageModels
import Tensors
import XCTest
@testable import Oversight

/// The classifier trainer's logits and losses on a tiny random Llama.
final class BinaryClassifierTrainerTests: XCTestCase {
    func classifier() -> SequenceClassifier {
        var configuration = LlamaConfiguration()
        (configuration.vocabularySize, configuration.hiddenSize, configuration.intermediateSize) = (20, 8, 16)
        (configuration.layerCount, configuration.headCount, configuration.keyValueHeadCount) = (1, 2, 2)
        configuration.maximumPositionEmbeddings = 32
        var generator = SeededGenerator(seed: 3)
        return SequenceClassifier(body: LlamaModel(configuration, generator: &generator), padTokenId: 0, standardDeviation: 0.5, generator: &generator)
    }

    func testPairLogitIsTheDifferenceOfTheTwoScoresWhateverThePadding() {
        let model = classifier()
        let a: [Int32] = [3, 4, 5], b: [Int32] = [6, 7, 8, 9, 10], c: [Int32] = [11]
        let single = BinaryClassifierTrainer.probabilities(model, [BinaryItem(first: a, target: 1), BinaryItem(first: b, target: 0), BinaryItem(first: c, target: 0)])
        let scores = single.map { Float(log(Double($0) / (1 - Double($0)))) }  // back to logits
        let pairs = withoutGradients {
            BinaryClassifierTrainer.logits(model, [BinaryItem(first: a, second: b, target: 1), BinaryItem(first: c, second: a, target: 0)], padding: 0).scalars
        }
        XCTAssertEqual(pairs[0], scores[0] - scores[1], accuracy: 1e-4)
        XCTAssertEqual(pairs[1], scores[2] - scores[0], accuracy: 1e-4)
        XCTAssertNotEqual(scores[0], scores[1], "a random head tells sequences apart")
    }

    func testConfidenceObjectiveWarmsUpAlphaOverTheRunAndTrainingFitsTheTargets() throws {
        let model = classifier()
        let items: [BinaryItem] = (0..<16).map { (index: Int) -> BinaryItem in
            let target: Float = index % 8 < 4 ? 0.9 : 0.1
            return BinaryItem(first: [Int32(1 + index % 8), Int32(9 + index % 3)], target: target)
        }
        let trainer = BinaryClassifierTrainer(model: model, items: items, objective: .auxiliaryConfidence(maximumAlpha: 0.5, warmupFraction: 0.5), totalSteps: 4)
        var generator = SeededGenerator(seed: 1)
        var alphas: [Double] = []
        for _ in 0..<4 { alphas.append(try trainer.loss(examples: Array(0..<16), generator: &generator).metrics["alpha"] ?? -1) }
        XCTAssertEqual(alphas, [0, 0.25, 0.5, 0.5])
        XCTAssertEqual(trainer.counters["steps"], 4)

        // Cross-entropy training on the soft targets moves every prediction towards its target's side.
        let fit = BinaryClassifierTrainer(model: model, items: items, objective: .crossEntropy, totalSteps: 60)
        let before = try fit.loss(examples: Array(0..<16), generator: &generator).loss.scalars[0]
        let parameters = fit.trainableParameters
        for _ in 0..<60 {
            parameters.forEach { $0.grad = nil }
            let loss = try fit.loss(examples: Array(0..<16), generator: &generator).loss
            loss.backward()
            for parameter in parameters { if let grad = parameter.grad { parameter.assign(parameter - grad * 0.5) } }
        }
        let after = try fit.loss(examples: Array(0..<16), generator: &generator).loss.scalars[0]
        XCTAssertLessThan(after, before - 0.1, "the loss falls: \(before) → \(after)")
        let probabilities = BinaryClassifierTrainer.probabilities(model, items)
        let agreeing = zip(probabilities, items).filter { (probability: Float, item: BinaryItem) in (probability > 0.5) == (item.target > 0.5) }
        XCTAssertEqual(agreeing.count, items.count)
    }
}
