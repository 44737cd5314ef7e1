import NeuralNetworks
import Tensors

/// LoRA's low-rank update of a frozen linear layer (Hu et al. 2021): y = W·x + b + scaling · B·A·dropout(x).
///
/// A: (r, in), B: (out, r), as PEFT's `lora_A.weight` / `lora_B.weight`. When the adapter is disabled the
/// layer computes its base output exactly. GPT-2's fused `c_attn` is one PEFT module but three Charter layers
/// (query, key, value): their adapters share one A — exact, since B·A·x split by rows is [B_q·A·x; B_k·A·x; B_v·A·x] —
/// and one dropout mask, as PEFT applies them once to the fused input.
public final class LowRankAdapter: LinearAdapter {
    /// A, stored only by the first adapter of a shared group so that parameter lists (and optimizers) see it once.
    private let a: Tensor?
    /// B: (out, r)
    private let b: Tensor
    /// A·dropout(x), shared within a group.
    let input: LowRankInput
    /// The factor on B·A·x: alpha / r, or alpha / √r with rsLoRA.
    public let scaling: Float
    /// When false the layer computes only its base output (e.g. the reference model of DPO).
    public var isEnabled = true

    init(b: Tensor, input: LowRankInput, ownsA: Bool, scaling: Float) {
        precondition(b.rank == 2 && b.shape[1] == input.a.shape[0], "LoRA B \(b.shape) does not fit A \(input.a.shape)")
        self.a = ownsA ? input.a : nil
        self.b = b
        self.input = input
        self.scaling = scaling
    }

    /// PEFT's `lora_A.weight`, (r, in).
    public var loraA: Tensor { input.a }
    /// PEFT's `lora_B.weight` (for a fused module, this layer's rows of it), (out, r).
    public var loraB: Tensor { b }
    public var rank: Int { b.shape[1] }
    /// Whether `lora_dropout` masks the adapter's input (a rate above 0, in training; DPO's `disable_dropout` turns it off).
    public var appliesDropout: Bool { input.isTraining && input.dropoutRate > 0 }

    /// output: (…, out), input: (…, in) → (…, out)
    public func adapt(_ output: Tensor, input x: Tensor) -> Tensor {
        guard isEnabled else { return output }
        let projected = input(x) * scaling  // (…, r)
        return output + Tensor.matmul(projected, b, transposeB: true)
    }

    /// scaling · B·A, (out, in): the change this adapter makes to the base weight.
    public func weightDelta() -> Tensor {
        withoutGradients { Tensor.matmul(b, input.a) * scaling }
    }
}

/// A·dropout(x) for one PEFT module, shared by the adapters of its Charter layers.
///
/// Within a group of several layers (the q/k/v of a fused `c_attn`) the projection of an input is computed once and
/// reused by the others, so they also share the dropout mask; it is released after every layer has used it.
final class LowRankInput {
    let a: Tensor
    let dropoutRate: Float
    /// Dropout is applied only while training.
    var isTraining = true
    /// Draws the dropout masks (internal so `DropoutReplay` can replay them in a checkpointed block).
    var generator: SeededGenerator
    private let groupSize: Int
    private var cached: (input: Tensor, projection: Tensor, uses: Int)?

    init(a: Tensor, dropoutRate: Float, groupSize: Int, generator: SeededGenerator) {
        self.a = a
        self.dropoutRate = dropoutRate
        self.groupSize = groupSize
        self.generator = generator
    }

    /// x: (…, in) → (…, r)
    func callAsFunction(_ x: Tensor) -> Tensor {
        if let cached, cached.input === x {
            self.cached = cached.uses + 1 >= groupSize ? nil : (x, cached.projection, cached.uses + 1)
            return cached.projection
        }
        var dropped = x
        if isTraining && dropoutRate > 0 {
            // Inverted dropout as torch.nn.Dropout: keep with probability 1 − rate, scale kept values by 1/(1 − rate).
            dropped = x * Tensor.dropoutMask(x.shape, keep: 1 - dropoutRate, generator: &generator)
        }
        let projection = Tensor.matmul(dropped, a, transposeB: true)
        cached = groupSize > 1 ? (x, projection, 1) : nil
        return projection
    }
}
