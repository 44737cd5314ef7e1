import XCTest
@testable import Alignment
import LanguageModels
@testable import Tensors

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
        // Per token and block, every weight trained: 4·C + 3·q + 2·kv + 3·I floats (C = q = 32, kv = 16, I = 64) = 448;
        // 4 blocks kept plus one for the backward pass and 2·C for the final hidden state and its gradient.
        let perToken = 448 * 5 + 2 * 32
        XCTAssertEqual(large.activationBytes - small.activationBytes, 2 * 64 * perToken * 4)
        XCTAssertEqual(small.weightBytes, llama.parameterCount * 4)
        XCTAssertEqual(small.optimizerBytes, llama.parameterCount * 12, "gradients and AdamW's two moments of every weight")

        llama.gradientCheckpointing = true
        let checkpointed = TrainingMemoryEstimate(model: llama, sequencesPerStep: 4, length: 64)
        XCTAssertEqual(large.activationBytes - checkpointed.activationBytes, 4 * 64 * (448 - 32) * 4 * 4,
                       "each block keeps only its input")
    }

    /// The estimate counts what the tape really keeps: after a forward pass to the per-token log-probabilities, the
    /// tape holds `keptFloats` per token and block, the final norm's input and output, and the rotary tables — for
    /// full fine-tuning and for LoRA, whose frozen products keep no input (issue 21: a LoRA DPO step kept 2× this).
    func testKeptActivationsAreWhatTheTapeHolds() throws {
        let (batch, time) = (2, 16), hidden = 32, rotaryTables = 2 * 16 * 4  // cos and sin: (T, headSize / 2)
        let ids = (0..<(batch * time)).map { Int32($0 * 7 % 100) }
        func tapeBytes(_ llama: LlamaModel) -> Int {
            let output = llama.forward(ModelInput(ids: ids, batch: batch, time: time), cache: nil)
            let loss = output.targetLogProbabilities(ids).0.sum()
            return loss.tapeBytes(excluding: llama.parameters())
        }
        let full = model()
        let fullKept = TrainingMemoryEstimate.keptFloats(full, shape: TrainingMemoryEstimate.blockShape(full))
        XCTAssertEqual(fullKept, 4 * 32 + 3 * 32 + 2 * 16 + 3 * 64)
        XCTAssertEqual(tapeBytes(full), (batch * time * (4 * fullKept + 2 * hidden) + rotaryTables) * 4)

        let lora = model()
        var generator = SeededGenerator(seed: 2)
        try LoRA.apply(LoRAConfiguration(rank: 2, alpha: 4, targetModules: .names(["q_proj", "v_proj"])), to: lora, generator: &generator)
        let loraKept = TrainingMemoryEstimate.keptFloats(lora, shape: TrainingMemoryEstimate.blockShape(lora))
        XCTAssertEqual(loraKept, 3 * 32 + 2 * 32 + 2 * 16 + 2 * 64 + 2 * 2, "no input of a frozen product; each adapter's r")
        // The frozen embedding's output is no one's gradient: the first block's input is not kept.
        XCTAssertEqual(tapeBytes(lora), (batch * time * (4 * loraKept - hidden + 2 * hidden) + rotaryTables) * 4)
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
