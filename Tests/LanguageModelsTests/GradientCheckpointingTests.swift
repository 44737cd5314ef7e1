import XCTest
@testable import LanguageModels
import Tensors

/// `gradient_checkpointing`: recomputing each block in the backward pass gives the same loss and the same gradients
/// as keeping its activations — for full fine-tuning and for LoRA with dropout (whose masks must be replayed).
final class GradientCheckpointingTests: XCTestCase {
    let ids = SmallModels.ids  // (B 2, T 6)
    var targets: [Int32] { ids.enumerated().map { $0.offset % 6 == 5 ? -100 : ids[$0.offset + 1] } }

    /// Loss and every trainable parameter's gradient, for two steps (the second must see dropout continue where the
    /// first step's forward passes left it, with or without recomputation).
    func lossesAndGradients(_ model: any CausalLanguageModel, checkpointing: Bool) -> [[Float]] {
        model.gradientCheckpointing = checkpointing
        var results: [[Float]] = []
        for _ in 0..<2 {
            model.zeroGradients()
            let output = model.forward(ModelInput(ids: ids, batch: 2, time: 6), cache: nil)
            let loss = output.targetLogProbabilities(targets).0.sum() * -0.1
            loss.backward()
            results.append([loss.item])
            results += model.trainableParameters().map { $0.grad?.scalars ?? [] }
        }
        return results
    }

    func assertSame(_ a: [[Float]], _ b: [[Float]], _ name: String) {
        XCTAssertEqual(a.count, b.count, name)
        for (index, (x, y)) in zip(a, b).enumerated() {
            XCTAssertEqual(x.count, y.count, "\(name) entry \(index)")
            XCTAssertFalse(x.isEmpty, "\(name) entry \(index): no gradient")
            let worst = zip(x, y).map { abs($0 - $1) / max(abs($1), 1e-3) }.max() ?? 0
            XCTAssertLessThan(worst, 1e-4, "\(name) entry \(index)")
        }
    }

    func testFullFineTuningGradientsAreUnchanged() {
        for model in [SmallModels.llama(), SmallModels.gpt()] as [any CausalLanguageModel] {
            let kept = lossesAndGradients(model, checkpointing: false)
            let recomputed = lossesAndGradients(model, checkpointing: true)
            assertSame(recomputed, kept, "\(type(of: model))")
        }
    }

    func testLoRAWithDropoutReplaysTheMasks() throws {
        for makeModel in [{ SmallModels.llama() }, { SmallModels.gpt() }] as [() -> any CausalLanguageModel] {
            var models: [any CausalLanguageModel] = []
            for _ in 0..<2 {
                let model = makeModel()
                var generator = SeededGenerator(seed: 3)
                var configuration = LoRAConfiguration(rank: 2, alpha: 4, dropout: 0.3, targetModules: .allLinear)
                configuration.initialWeights = .random  // B ≠ 0, so every adapter's gradient is non-zero
                try LoRA.apply(configuration, to: model, generator: &generator)
                models.append(model)
            }
            let kept = lossesAndGradients(models[0], checkpointing: false)
            let recomputed = lossesAndGradients(models[1], checkpointing: true)
            assertSame(recomputed, kept, "LoRA \(type(of: models[0]))")
            XCTAssertNotEqual(kept[0], kept[kept.count / 2], "dropout draws new masks in the second step")
        }
    }
}
