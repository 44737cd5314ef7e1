import Foundation
import NeuralNetworks
import Tensors

/// Causal self-attention with separate query/key/value projections (GPT-2's fused `c_attn` is split on load).
final class GPTAttention: Module {
    let query: Linear, key: Linear, value: Linear
    let output: Linear
    let headCount: Int

    init(_ configuration: GPTConfiguration, generator: inout SeededGenerator) {
        let width = configuration.width
        headCount = configuration.headCount
        query = GPTModel.linear(width, width, configuration.bias, 0.02, &generator)
        key = GPTModel.linear(width, width, configuration.bias, 0.02, &generator)
        value = GPTModel.linear(width, width, configuration.bias, 0.02, &generator)
        // Scaled init of residual projections (GPT-2 paper): keeps the residual stream's variance from growing with depth.
        output = GPTModel.linear(width, width, configuration.bias, 0.02 / (2 * Float(configuration.layerCount)).squareRoot(), &generator)
    }

    /// x: (B, T, C) -> (B, T, C); segmentStarts: (B, T) first key of each query's packed sequence, or nil.
    func callAsFunction(_ x: Tensor, keyMask: [UInt8]?, segmentStarts: [Int32]?, cache: KVCache?, layer: Int) -> Tensor {
        let (batch, time, width) = (x.shape[0], x.shape[1], x.shape[2])
        func heads(_ projection: Linear) -> Tensor {
            projection(x).reshaped([batch, time, headCount, width / headCount]).permuted([0, 2, 1, 3])  // (B, H, T, D)
        }
        let (k, v) = (heads(key), heads(value))
        let attended: Tensor
        if let cache {
            cache.append(layer: layer, keys: k, values: v)
            attended = cache.attention(layer: layer, query: heads(query), keyMask: keyMask, segmentStarts: segmentStarts)
        } else {
            attended = Tensor.scaledDotProductAttention(query: heads(query), key: k, value: v, causal: true, keyMask: keyMask,
                                                        segmentStarts: segmentStarts)
        }
        return output(attended.permuted([0, 2, 1, 3]).reshaped([batch, time, width]))
    }
}

final class GPTBlock: Module {
    let attentionNorm: LayerNorm
    let attention: GPTAttention
    let mlpNorm: LayerNorm
    let up: Linear
    let down: Linear
    let exactGELU: Bool

    init(_ configuration: GPTConfiguration, generator: inout SeededGenerator) {
        let width = configuration.width
        attentionNorm = LayerNorm(size: width, epsilon: configuration.layerNormEpsilon, bias: configuration.bias)
        attention = GPTAttention(configuration, generator: &generator)
        mlpNorm = LayerNorm(size: width, epsilon: configuration.layerNormEpsilon, bias: configuration.bias)
        up = GPTModel.linear(width, 4 * width, configuration.bias, 0.02, &generator)
        down = GPTModel.linear(4 * width, width, configuration.bias, 0.02 / (2 * Float(configuration.layerCount)).squareRoot(), &generator)
        exactGELU = configuration.activation == "gelu"
    }

    /// x: (B, T, C) -> (B, T, C)
    func callAsFunction(_ x: Tensor, keyMask: [UInt8]?, segmentStarts: [Int32]?, cache: KVCache?, layer: Int) -> Tensor {
        let x = x + attention(attentionNorm(x), keyMask: keyMask, segmentStarts: segmentStarts, cache: cache, layer: layer)
        return x + down(up(mlpNorm(x)).gelu(approximate: !exactGELU))
    }
}

/// A GPT-2-style decoder-only transformer: learned positions, pre-LayerNorm blocks, tied output head.
public final class GPTModel: CausalLanguageModel {
    public let configuration: GPTConfiguration
    let tokenEmbedding: Embedding
    let positionEmbedding: Embedding
    let blocks: [GPTBlock]
    let finalNorm: LayerNorm
    /// Keep only each block's input for the backward pass and recompute the block there (TRL's
    /// `gradient_checkpointing`): activation memory of one block instead of all, for one more forward pass.
    public var gradientCheckpointing = false

    /// A randomly initialised model (normal(0, 0.02) weights, as GPT-2), from `generator`.
    public init(_ configuration: GPTConfiguration, generator: inout SeededGenerator) {
        self.configuration = configuration
        tokenEmbedding = Embedding(count: configuration.vocabularySize, size: configuration.width, standardDeviation: 0.02, generator: &generator)
        positionEmbedding = Embedding(count: configuration.contextLength, size: configuration.width, standardDeviation: 0.02, generator: &generator)
        var blocks: [GPTBlock] = []
        for _ in 0..<configuration.layerCount { blocks.append(GPTBlock(configuration, generator: &generator)) }
        self.blocks = blocks
        finalNorm = LayerNorm(size: configuration.width, epsilon: configuration.layerNormEpsilon, bias: configuration.bias)
    }

    public var vocabularySize: Int { configuration.vocabularySize }
    public var maximumSequenceLength: Int? { configuration.contextLength }
    public var layerCount: Int { configuration.layerCount }

    public func forward(_ input: ModelInput, cache: KVCache?) -> ModelOutput {
        let (batch, time) = (input.batch, input.time)
        let past = cache?.length ?? 0
        precondition(input.segmentStarts == nil || cache == nil, "packed rows (segmentStarts) run without a cache")
        precondition(input.extent(past: past) <= configuration.contextLength,
                     "sequence of \(input.extent(past: past)) exceeds n_positions \(configuration.contextLength)")
        let positionVectors = input.positions.map { positionEmbedding($0, shape: [batch, time]) }
            ?? positionEmbedding.weight.slice(axis: 0, past..<(past + time))  // (T, C), shared by the batch
        var x = tokenEmbedding(input.ids, shape: [batch, time]) + positionVectors  // (B, T, C)
        if let steering = input.steering { x = steering.apply(x, layer: 0) }
        var hiddenStates: [Tensor] = input.outputHiddenStates ? [x] : []
        for (layer, block) in blocks.enumerated() {
            if gradientCheckpointing && cache == nil {
                let (replay, mask, starts) = (DropoutReplay(block), input.attentionMask, input.segmentStarts)
                var recomputing = false
                x = Tensor.checkpoint(x, parameters: block.parameters()) { x in
                    defer { recomputing = true }
                    return recomputing ? replay.replaying { block(x, keyMask: mask, segmentStarts: starts, cache: nil, layer: layer) }
                                       : block(x, keyMask: mask, segmentStarts: starts, cache: nil, layer: layer)
                }
            } else {
                x = block(x, keyMask: input.attentionMask, segmentStarts: input.segmentStarts, cache: cache, layer: layer)
            }
            if let steering = input.steering { x = steering.apply(x, layer: layer + 1) }
            if input.outputHiddenStates { hiddenStates.append(x) }
        }
        let normalized = finalNorm(x)
        if input.outputHiddenStates { hiddenStates[hiddenStates.count - 1] = normalized }
        return ModelOutput(finalHidden: normalized, outputWeight: tokenEmbedding.weight, hiddenStates: hiddenStates)  // tied head
    }

    /// Logits for every position of B sequences of T tokens: ids (B·T, row-major) -> (B, T, V).
    public func callAsFunction(_ ids: [Int32], batch: Int, time: Int) -> Tensor {
        forward(ModelInput(ids: ids, batch: batch, time: time), cache: nil).logits
    }

    /// Parameters that AdamW should not decay: everything with fewer than two axes (norms, biases).
    public var parametersWithoutDecay: [Tensor] { parameters().filter { $0.rank < 2 } }

    static func linear(_ input: Int, _ output: Int, _ bias: Bool, _ standardDeviation: Float,
                       _ generator: inout SeededGenerator) -> Linear {
        let weight = Tensor.randomNormal([output, input], standardDeviation: standardDeviation, generator: &generator)
        weight.requiresGrad = true
        let biasTensor = bias ? Tensor.zeros([output]) : nil
        biasTensor?.requiresGrad = true
        return Linear(weight: weight, bias: biasTensor)
    }
}
