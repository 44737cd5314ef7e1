import Foundation
import NeuralNetworks
import Tensors

/// Grouped-query self-attention with rotary positions (Llama, Mistral, Qwen2).
final class LlamaAttention: Module {
    let query: Linear, key: Linear, value: Linear, output: Linear
    let headCount: Int, keyValueHeadCount: Int, headSize: Int
    let slidingWindow: Int?

    init(_ c: LlamaConfiguration, layers: LayerInitializer) {
        headCount = c.headCount
        keyValueHeadCount = c.resolvedKeyValueHeadCount
        headSize = c.resolvedHeadSize
        slidingWindow = c.effectiveSlidingWindow
        query = layers.linear(c.hiddenSize, headCount * headSize, bias: c.queryKeyValueBias)
        key = layers.linear(c.hiddenSize, keyValueHeadCount * headSize, bias: c.queryKeyValueBias)
        value = layers.linear(c.hiddenSize, keyValueHeadCount * headSize, bias: c.queryKeyValueBias)
        output = layers.linear(headCount * headSize, c.hiddenSize, bias: c.outputBias)
    }

    /// x: (B, T, C) -> (B, T, C); cos/sin: rotary tables of these T positions, (T, D/2) or (B, T, D/2).
    /// segmentStarts: (B, T) first key of each query's packed sequence, or nil.
    func callAsFunction(_ x: Tensor, cos: Tensor, sin: Tensor, keyMask: [UInt8]?, segmentStarts: [Int32]?, cache: KVCache?,
                        layer: Int) -> Tensor {
        let (batch, time) = (x.shape[0], x.shape[1])
        func heads(_ projection: Linear, _ count: Int) -> Tensor {
            projection(x).reshaped([batch, time, count, headSize]).permuted([0, 2, 1, 3])  // (B, H, T, D)
        }
        let q = heads(query, headCount).rotaryEmbedding(cos: cos, sin: sin)
        var k = heads(key, keyValueHeadCount).rotaryEmbedding(cos: cos, sin: sin)
        var v = heads(value, keyValueHeadCount)
        let attended: Tensor
        if let cache {
            cache.append(layer: layer, keys: k, values: v)
            if let window = slidingWindow, cache.length(layer: layer) > window {
                (k, v) = cache.tensors(layer: layer)
                attended = Self.windowedAttention(q, k, v, window: window, keyMask: keyMask, segmentStarts: segmentStarts)
            } else {
                attended = cache.attention(layer: layer, query: q, keyMask: keyMask, segmentStarts: segmentStarts)
            }
        } else if let window = slidingWindow, k.shape[2] > window {
            attended = Self.windowedAttention(q, k, v, window: window, keyMask: keyMask, segmentStarts: segmentStarts)
        } else {
            attended = Tensor.scaledDotProductAttention(query: q, key: k, value: v, causal: true, keyMask: keyMask,
                                                        segmentStarts: segmentStarts)
        }
        return output(attended.permuted([0, 2, 1, 3]).reshaped([batch, time, headCount * headSize]))
    }

    /// Causal attention limited to the last `window` keys (Mistral), composed from primitives: used only when
    /// the sequence is longer than the window.
    static func windowedAttention(_ q: Tensor, _ k: Tensor, _ v: Tensor, window: Int, keyMask: [UInt8]?,
                                  segmentStarts: [Int32]? = nil) -> Tensor {
        let (batch, heads, time, headSize) = (q.shape[0], q.shape[1], q.shape[2], q.shape[3])
        let (keyHeads, keyTime) = (k.shape[1], k.shape[2])
        let group = heads / keyHeads
        func repeated(_ t: Tensor) -> Tensor {
            group == 1 ? t : t.unsqueezed(2).expanded(to: [batch, keyHeads, group, keyTime, headSize]).reshaped([batch, heads, keyTime, headSize])
        }
        let scores = Tensor.matmul(q, repeated(k), transposeB: true) * (1 / Float(headSize).squareRoot())
        var blocked = [Float](repeating: 0, count: batch * time * keyTime)
        for b in 0..<batch {
            for t in 0..<time {
                let absolute = t + keyTime - time
                let first = segmentStarts.map { Int($0[b * time + t]) } ?? 0
                for s in 0..<keyTime where s > absolute || s <= absolute - window || s < first
                    || (keyMask.map { $0[b * keyTime + s] == 0 } ?? false) {
                    blocked[(b * time + t) * keyTime + s] = 1
                }
            }
        }
        // The lowest finite value rather than −∞ (as transformers does): a padding query that sees no key gets a
        // finite (unused) output instead of NaN, which would otherwise reach real tokens through 0 · NaN.
        let masked = scores.maskedFill(Tensor(shape: [batch, 1, time, keyTime], scalars: blocked), with: -.greatestFiniteMagnitude)
        return Tensor.matmul(masked.softmax(), repeated(v))
    }
}

/// Where a model's matrices get their first values: PyTorch's initialisation from a seeded generator, in the order
/// the layers are built, or none at all (memory untouched) when a checkpoint writes or replaces every one at once.
final class LayerInitializer {
    /// nil: leave the weights uninitialised.
    private(set) var generator: SeededGenerator?

    init(generator: SeededGenerator?) { self.generator = generator }

    func linear(_ inputSize: Int, _ outputSize: Int, bias: Bool) -> Linear {
        if var random = generator {
            defer { generator = random }
            return Linear(inputSize: inputSize, outputSize: outputSize, bias: bias, generator: &random)
        }
        let layer = Linear(weight: .uninitialized([outputSize, inputSize]), bias: bias ? .uninitialized([outputSize]) : nil)
        layer.weight.requiresGrad = true
        layer.bias?.requiresGrad = true
        return layer
    }

    func embedding(_ count: Int, _ size: Int, standardDeviation: Float) -> Embedding {
        if var random = generator {
            defer { generator = random }
            return Embedding(count: count, size: size, standardDeviation: standardDeviation, generator: &random)
        }
        let layer = Embedding(weight: .uninitialized([count, size]))
        layer.weight.requiresGrad = true
        return layer
    }
}

final class LlamaMLP: Module {
    let gate: Linear, up: Linear, down: Linear

    init(_ c: LlamaConfiguration, layers: LayerInitializer) {
        gate = layers.linear(c.hiddenSize, c.intermediateSize, bias: c.mlpBias)
        up = layers.linear(c.hiddenSize, c.intermediateSize, bias: c.mlpBias)
        down = layers.linear(c.intermediateSize, c.hiddenSize, bias: c.mlpBias)
    }

    func callAsFunction(_ x: Tensor) -> Tensor { down(gate(x).swiGLU(up(x))) }
}

final class LlamaBlock: Module {
    let attentionNorm: RMSNorm
    let attention: LlamaAttention
    let mlpNorm: RMSNorm
    let mlp: LlamaMLP

    init(_ c: LlamaConfiguration, layers: LayerInitializer) {
        attentionNorm = RMSNorm(size: c.hiddenSize, epsilon: c.rmsNormEpsilon)
        attention = LlamaAttention(c, layers: layers)
        mlpNorm = RMSNorm(size: c.hiddenSize, epsilon: c.rmsNormEpsilon)
        mlp = LlamaMLP(c, layers: layers)
    }
}

/// The Llama-family decoder: RMSNorm, rotary positions, SwiGLU MLP, grouped-query attention.
public final class LlamaModel: CausalLanguageModel {
    public let configuration: LlamaConfiguration
    let embedding: Embedding
    let blocks: [LlamaBlock]
    let finalNorm: RMSNorm
    /// nil when tied to the embedding.
    let head: Linear?
    private let inverseFrequencies: [Double]
    /// Keep only each block's input for the backward pass and recompute the block there (TRL's
    /// `gradient_checkpointing`): activation memory of one block instead of all, for one more forward pass.
    public var gradientCheckpointing = false

    public convenience init(_ configuration: LlamaConfiguration, generator: inout SeededGenerator) {
        let layers = LayerInitializer(generator: generator)
        self.init(configuration, layers: layers)
        if let advanced = layers.generator { generator = advanced }
    }

    /// Weights allocated but not set (their memory untouched), for a checkpoint that writes or replaces every one.
    convenience init(uninitialized configuration: LlamaConfiguration) {
        self.init(configuration, layers: LayerInitializer(generator: nil))
    }

    init(_ configuration: LlamaConfiguration, layers: LayerInitializer) {
        self.configuration = configuration
        embedding = layers.embedding(configuration.vocabularySize, configuration.hiddenSize, standardDeviation: 0.02)
        blocks = (0..<configuration.layerCount).map { _ in LlamaBlock(configuration, layers: layers) }
        finalNorm = RMSNorm(size: configuration.hiddenSize, epsilon: configuration.rmsNormEpsilon)
        head = configuration.tieWordEmbeddings ? nil : layers.linear(configuration.hiddenSize, configuration.vocabularySize, bias: false)
        inverseFrequencies = configuration.inverseFrequencies()
    }

    public var vocabularySize: Int { configuration.vocabularySize }
    /// `max_position_embeddings`: the longest sequence the model was trained for. Rotary positions would run past
    /// it, but the outputs are no longer the model's; vLLM's default `max_model_len` stops at it too.
    public var maximumSequenceLength: Int? { configuration.maximumPositionEmbeddings }
    public var layerCount: Int { configuration.layerCount }

    public func forward(_ input: ModelInput, cache: KVCache?) -> ModelOutput {
        let (batch, time) = (input.batch, input.time)
        let past = cache?.length ?? 0
        precondition(input.segmentStarts == nil || cache == nil, "packed rows (segmentStarts) run without a cache")
        precondition(input.extent(past: past) <= configuration.maximumPositionEmbeddings,
                     "sequence of \(input.extent(past: past)) exceeds max_position_embeddings \(configuration.maximumPositionEmbeddings)")
        let positions = input.positions ?? (0..<batch).flatMap { _ in (0..<time).map { Int32(past + $0) } }
        let (cos, sin) = rotaryTables(positions: positions, batch: batch, time: time, shared: input.positions == nil)
        var x = embedding(input.ids, shape: [batch, time])  // (B, T, C)
        if let steering = input.steering { x = steering.apply(x, layer: 0) }
        var hiddenStates: [Tensor] = input.outputHiddenStates ? [x] : []
        for (layer, block) in blocks.enumerated() {
            let (mask, starts) = (input.attentionMask, input.segmentStarts)
            func run(_ x: Tensor) -> Tensor {
                let x = x + block.attention(block.attentionNorm(x), cos: cos, sin: sin, keyMask: mask, segmentStarts: starts,
                                            cache: cache, layer: layer)
                return x + block.mlp(block.mlpNorm(x))
            }
            if gradientCheckpointing && cache == nil {
                let replay = DropoutReplay(block)
                var recomputing = false
                x = Tensor.checkpoint(x, parameters: block.parameters()) { x in
                    defer { recomputing = true }
                    return recomputing ? replay.replaying { run(x) } : run(x)
                }
            } else {
                x = run(x)
            }
            if let steering = input.steering { x = steering.apply(x, layer: layer + 1) }
            if input.outputHiddenStates { hiddenStates.append(x) }
        }
        let normalized = finalNorm(x)
        if input.outputHiddenStates { hiddenStates[hiddenStates.count - 1] = normalized }
        if let quantized = head.map({ $0.quantizedWeight }) ?? embedding.quantizedWeight {
            return ModelOutput(finalHidden: normalized, quantizedOutputWeight: quantized, hiddenStates: hiddenStates)
        }
        return ModelOutput(finalHidden: normalized, outputWeight: head?.weight ?? embedding.weight, hiddenStates: hiddenStates)
    }

    /// cos and sin of position × inverse frequency, (T, D/2) when every sequence shares positions, else (B, T, D/2).
    private func rotaryTables(positions: [Int32], batch: Int, time: Int, shared: Bool) -> (Tensor, Tensor) {
        let half = inverseFrequencies.count
        let rows = shared ? Array(positions.prefix(time)) : positions
        var cos = [Float](), sin = [Float]()
        cos.reserveCapacity(rows.count * half); sin.reserveCapacity(rows.count * half)
        for position in rows {
            for frequency in inverseFrequencies {
                // Angles in float32 as transformers computes them, then cos/sin.
                let angle = Float(Double(position)) * Float(frequency)
                cos.append(Foundation.cos(angle)); sin.append(Foundation.sin(angle))
            }
        }
        let shape = shared ? [time, half] : [batch, time, half]
        return (Tensor(shape: shape, scalars: cos), Tensor(shape: shape, scalars: sin))
    }
}
