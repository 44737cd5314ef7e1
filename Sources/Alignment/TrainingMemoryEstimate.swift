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
        let perBlock = Self.keptFloats(model, shape: shape)
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

    /// Floats per token that one decoder block keeps for the backward pass: only what a gradient rule reads (see
    /// `TapeNode`). Always: the block's input and the attention norm's output (the norm's and the q/k/v products'
    /// rules), the rotated queries and keys, the permuted values and the attention output (attention's rule), the
    /// residual sum before the MLP, the MLP's gate and up projections (SwiGLU's rule): 3 × C + 2 × q + 2 × kv + 2 × I.
    /// A product whose weight is trained (or adapted) also keeps its input: the attention output after its head
    /// permutation for o_proj (q), the MLP norm's output for gate/up (C), the gated product for down_proj (I). Each
    /// LoRA adapter keeps its (…, r) projection, and with dropout its mask and masked input.
    static func keptFloats(_ model: any CausalLanguageModel, shape: (hidden: Int, query: Int, keyValue: Int, intermediate: Int)) -> Int {
        var floats = 3 * shape.hidden + 2 * shape.query + 2 * shape.keyValue + 2 * shape.intermediate
        let adapters = LoRA.adapters(in: model)
        let adapterParameters = Set(adapters.flatMap { [ObjectIdentifier($0.loraB), ObjectIdentifier($0.loraA)] })
        let baseTrained = model.parameters().contains { $0.requiresGrad && $0.rank == 2 && !adapterParameters.contains(ObjectIdentifier($0)) }
        if baseTrained {
            floats += shape.query + shape.hidden + shape.intermediate
        } else {
            let names = LoRA.adaptedModuleNames(of: model)
            func adapted(_ suffixes: String...) -> Bool { names.contains { name in suffixes.contains { name.hasSuffix($0) } } }
            if adapted("o_proj") { floats += shape.query }
            if adapted("gate_proj", "up_proj") { floats += shape.hidden }
            if adapted("down_proj") { floats += shape.intermediate }
        }
        let adapterFloats = adapters.reduce(0) { $0 + $1.rank + ($1.appliesDropout ? 2 * $1.loraA.shape[1] : 0) }
        return floats + adapterFloats / max(model.layerCount, 1)
    }
}
