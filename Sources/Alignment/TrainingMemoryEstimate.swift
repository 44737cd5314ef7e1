import LanguageModels
import Runtime
import Tensors

/// About how much memory training a model will take, said before the first step ("about 5.2 GB at batch 8, length
/// 1024; fits in this machine's 24.0 GB"), so a run that cannot fit says so instead of swapping for an hour.
///
/// weights + gradients and AdamW's two moments of the trainable parameters + the activations the tape keeps for the
/// backward pass (per token and decoder block: the tensors a Llama or GPT block records, counted from the model's
/// shapes) + one block's worth for the backward pass's transients. With gradient checkpointing a block keeps only its
/// input, and one block is recomputed at a time. The output projection is applied in row chunks (see
/// `Tensor.projectedLogProbabilities`), so the (B, T, V) logits never exist. Checked against measured peak RSS in
/// the README's benchmark section (SmolLM2-135M, several batch shapes).
public struct TrainingMemoryEstimate: Sendable {
    public var weightBytes: Int
    /// Gradients and AdamW state (two moments) of the trainable parameters.
    public var optimizerBytes: Int
    public var activationBytes: Int
    public var batch: Int
    public var length: Int

    /// Buffers the runtime keeps besides tensors (tokenizer, data, code, the allocator's pool of freed buffers).
    static let overheadBytes = 300_000_000

    public var totalBytes: Int { weightBytes + optimizerBytes + activationBytes + Self.overheadBytes }

    /// - Parameters:
    ///   - sequencesPerStep: sequences in one forward pass (batch size; DPO's pairs count twice).
    ///   - length: tokens per sequence (max_length, or the padded length).
    public init(model: any CausalLanguageModel, sequencesPerStep: Int, length: Int) {
        let parameters = model.parameters()
        let trainable = parameters.filter(\.requiresGrad).reduce(0) { $0 + $1.count }
        weightBytes = parameters.reduce(0) { $0 + $1.count } * 4
        optimizerBytes = trainable * 3 * 4
        batch = sequencesPerStep
        self.length = length
        let tokens = sequencesPerStep * length
        let shape = Self.blockShape(model)
        // Recorded per token and block (floats): two norms, attention output before and after its head
        // permutation, output projection, two residual sums and the MLP's down projection (8 × C); queries
        // (projection, permuted, rotated: 3 × q); keys and values (projection, permuted; keys also rotated: 5 × kv);
        // the MLP's gate, up and gated product (3 × I); each LoRA adapter adds its delta and the sum (2 × out).
        let perBlock = 8 * shape.hidden + 3 * shape.query + 5 * shape.keyValue + 3 * shape.intermediate
            + Self.adapterFloats(model) / max(model.layerCount, 1)
        let kept = model.gradientCheckpointing ? shape.hidden * model.layerCount : perBlock * model.layerCount
        // One block more for the backward pass (its gradients, or its recomputation), the final hidden state and
        // its gradient, and the output projection's logit chunks.
        activationBytes = (tokens * (kept + perBlock + 2 * shape.hidden) + 2 * (1 << 24)) * 4
    }

    /// "about 5.2 GB at batch 8, length 1024 (weights 0.5, optimizer 0.0, activations 4.4); fits in this machine's
    /// 24.0 GB" — or what to change when it does not.
    public func description(physicalBytes: Int = ProcessMemory.physicalBytes, checkpointing: Bool) -> String {
        func gb(_ bytes: Int) -> String { String(format: "%.1f", Double(bytes) / 1e9) }
        var text = "memory: about \(gb(totalBytes)) GB at batch \(batch), length \(length) (weights \(gb(weightBytes)), "
            + "gradients and optimizer \(gb(optimizerBytes)), activations \(gb(activationBytes)))"
        if totalBytes <= physicalBytes * 9 / 10 {
            text += "; fits in this machine's \(gb(physicalBytes)) GB"
        } else {
            var advice: [String] = []
            if !checkpointing { advice.append("gradient_checkpointing: true") }
            if batch > 1 { advice.append("a smaller per_device_train_batch_size with gradient_accumulation_steps") }
            advice.append("a shorter max_length")
            text += "; will not fit in this machine's \(gb(physicalBytes)) GB — try " + advice.joined(separator: ", or ")
        }
        return text
    }

    /// The widths one decoder block records per token.
    static func blockShape(_ model: any CausalLanguageModel) -> (hidden: Int, query: Int, keyValue: Int, intermediate: Int) {
        if let llama = model as? LlamaModel {
            let c = llama.configuration
            return (c.hiddenSize, c.headCount * c.resolvedHeadSize, c.resolvedKeyValueHeadCount * c.resolvedHeadSize, c.intermediateSize)
        }
        if let gpt = model as? GPTModel {
            let width = gpt.configuration.width
            return (width, width, width, 4 * width)
        }
        // An unknown architecture: the hidden size from the output projection, a 4× MLP.
        let hidden = model.parameters().first(where: { $0.rank == 2 })?.shape[1] ?? 0
        return (hidden, hidden, hidden, 4 * hidden)
    }

    /// Floats per token the LoRA adapters of the whole model record (delta and sum of each adapted output).
    static func adapterFloats(_ model: any CausalLanguageModel) -> Int {
        LoRA.adapters(in: model).reduce(0) { $0 + 2 * $1.loraB.shape[0] }
    }
}
