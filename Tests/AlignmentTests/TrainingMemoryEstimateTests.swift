import XCTest
@testable import Alignment
import LanguageModels
import Tensors

/// The memory estimate said before the first step: counted from the model's shapes, smaller with checkpointing and
/// LoRA, and advice when it does not fit.
final class TrainingMemoryEstimateTests: XCTestCase {
    func model() -> LlamaModel {
        var configuration = LlamaConfiguration()
        (configuration.vocabularySize, configuration.hiddenSize, configuration.intermediateSize) = (100, 32, 64)
        (configuration.layerCount, configuration.headCount, configuration.keyValueHeadCount) = (4, 4, 2)
        var generator = SeededGenerator(seed: 1)
        return LlamaModel(configuration, generator: &generator)
    }

    func testActivationsFollowTheBlockShapes() {
        let llama = model()
        let small = TrainingMemoryEstimate(model: llama, sequencesPerStep: 2, length: 64)
        let large = TrainingMemoryEstimate(model: llama, sequencesPerStep: 4, length: 64)
        // Per token and block: 8·C + 3·q + 5·kv + 3·I floats (C = q = 32, kv = 16, I = 64) = 624; 4 blocks kept plus one
        // for the backward pass and 2·C for the final hidden state and its gradient.
        let perToken = 624 * 5 + 2 * 32
        XCTAssertEqual(large.activationBytes - small.activationBytes, 2 * 64 * perToken * 4)
        XCTAssertEqual(small.weightBytes, llama.parameterCount * 4)
        XCTAssertEqual(small.optimizerBytes, llama.parameterCount * 12, "gradients and AdamW's two moments of every weight")

        llama.gradientCheckpointing = true
        let checkpointed = TrainingMemoryEstimate(model: llama, sequencesPerStep: 4, length: 64)
        XCTAssertEqual(large.activationBytes - checkpointed.activationBytes, 4 * 64 * (624 - 32) * 4 * 4,
                       "each block keeps only its input")
    }

    func testLoRAHasNoOptimizerStateForFrozenWeights() throws {
        let llama = model()
        var generator = SeededGenerator(seed: 2)
        try LoRA.apply(LoRAConfiguration(rank: 2, alpha: 4, targetModules: .names(["q_proj", "v_proj"])), to: llama, generator: &generator)
        let estimate = TrainingMemoryEstimate(model: llama, sequencesPerStep: 1, length: 8)
        XCTAssertEqual(estimate.optimizerBytes, llama.trainableParameters().reduce(0) { $0 + $1.count } * 12)
        XCTAssertLessThan(estimate.optimizerBytes, estimate.weightBytes / 10)
    }

    func testAdviceWhenItDoesNotFit() {
        let estimate = TrainingMemoryEstimate(model: model(), sequencesPerStep: 8, length: 1024)
        let fits = estimate.description(physicalBytes: 100 * estimate.totalBytes, checkpointing: false)
        XCTAssertTrue(fits.hasPrefix("memory: about ") && fits.contains("at batch 8, length 1024") && fits.contains("fits in"), fits)
        let tight = estimate.description(physicalBytes: estimate.totalBytes / 2, checkpointing: false)
        XCTAssertTrue(tight.contains("will not fit") && tight.contains("gradient_checkpointing: true"), tight)
        let checkpointed = estimate.description(physicalBytes: estimate.totalBytes / 2, checkpointing: true)
        XCTAssertFalse(checkpointed.contains("gradient_checkpointing"), "no advice to turn on what is on: \(checkpointed)")
    }
}
