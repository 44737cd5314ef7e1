import NeuralNetworks
import Tensors

/// A decoder-only language model: token ids in, next-token logits out, with an optional KV cache.
///
/// Every architecture (Llama family, GPT-2) implements this, and everything above it — generation,
/// log-probabilities, trainers, value and reward heads — uses only this protocol.
public protocol CausalLanguageModel: Module {
    var vocabularySize: Int { get }
    /// Longest sequence the model supports — config.json's `n_positions` or `max_position_embeddings` (nil: no
    /// limit). `forward` stops at it with a precondition; user-facing paths check first (`checkContext`).
    var maximumSequenceLength: Int? { get }
    /// Number of transformer blocks (hidden states has one more entry: the embeddings).
    var layerCount: Int { get }
    /// Recompute each block in the backward pass instead of keeping its activations (TRL's `gradient_checkpointing`).
    var gradientCheckpointing: Bool { get set }
    /// Runs the model on `input`, appending its keys and values to `cache` when given.
    func forward(_ input: ModelInput, cache: KVCache?) -> ModelOutput
}

/// A batch of token sequences, right-aligned with the cache (B sequences of T new tokens each).
public struct ModelInput {
    /// B·T token ids, row-major.
    public var ids: [Int32]
    public var batch: Int
    public var time: Int
    /// (B, S) attention mask over all keys — the cached ones followed by these T — nonzero = real token.
    /// nil: every key is real.
    public var attentionMask: [UInt8]?
    /// (B, T) position of each new token; nil: cache length + 0..<T for every sequence.
    public var positions: [Int32]?
    /// (B, T) for packed rows (no cache): the index in its row of the first token of each token's sequence.
    /// Attention never crosses into an earlier sequence (with `positions` restarting at 0 at each start, a
    /// packed row computes what its sequences compute one by one). nil: every row is one sequence.
    public var segmentStarts: [Int32]?
    /// Return the hidden state after every block (and the embeddings) in `ModelOutput.hiddenStates`.
    public var outputHiddenStates: Bool
    /// Edits of the residual stream along a direction at chosen hidden states (nil: none).
    public var steering: ActivationSteering?

    public init(ids: [Int32], batch: Int, time: Int, attentionMask: [UInt8]? = nil, positions: [Int32]? = nil,
                segmentStarts: [Int32]? = nil, outputHiddenStates: Bool = false, steering: ActivationSteering? = nil) {
        precondition(ids.count == batch * time, "\(ids.count) ids for batch \(batch) × time \(time)")
        if let segmentStarts { precondition(segmentStarts.count == batch * time, "\(segmentStarts.count) segment starts for batch \(batch) × time \(time)") }
        self.ids = ids
        self.batch = batch
        self.time = time
        self.attentionMask = attentionMask
        self.positions = positions
        self.segmentStarts = segmentStarts
        self.outputHiddenStates = outputHiddenStates
        self.steering = steering
    }

    /// Positions as HF computes them from a left-padded mask: the count of real tokens before each one
    /// (padding gets position 1, a value that is never attended).
    public static func positions(fromMask mask: [UInt8], batch: Int, keyLength: Int, time: Int) -> [Int32] {
        var positions: [Int32] = []
        for b in 0..<batch {
            var running: Int32 = -1
            var row: [Int32] = []
            for s in 0..<keyLength {
                if mask[b * keyLength + s] != 0 { running += 1 }
                row.append(mask[b * keyLength + s] != 0 ? running : 1)
            }
            positions += row.suffix(time)
        }
        return positions
    }

    /// The longest sequence this input reaches: the cache plus T new tokens, or one past the largest position.
    func extent(past: Int) -> Int {
        guard let positions, let largest = positions.max() else { return past + time }
        return max(Int(largest) + 1, segmentStarts == nil ? past + time : 0)
    }
}

public struct ModelOutput {
    /// (B, T, C) after the final norm: what the output projection turns into logits.
    public var finalHidden: Tensor
    /// (B, T, C) after the embeddings and after each block (the last one before the final norm), when requested.
    public var hiddenStates: [Tensor]
    private let projection: Projection

    private enum Projection {
        case dense(Tensor)
        case quantized(QuantizedMatrix)
    }

    public init(finalHidden: Tensor, outputWeight: Tensor, hiddenStates: [Tensor]) {
        self.finalHidden = finalHidden
        self.projection = .dense(outputWeight)
        self.hiddenStates = hiddenStates
    }

    /// The output of a model whose output projection is kept quantized (inference).
    public init(finalHidden: Tensor, quantizedOutputWeight: QuantizedMatrix, hiddenStates: [Tensor]) {
        self.finalHidden = finalHidden
        self.projection = .quantized(quantizedOutputWeight)
        self.hiddenStates = hiddenStates
    }

    /// (V, C) output projection (the embedding table when tied); a quantized one is decoded to float32 on each use
    /// (`logits` multiplies it as it is).
    public var outputWeight: Tensor {
        switch projection {
        case .dense(let weight): weight
        case .quantized(let matrix): matrix.dequantized()
        }
    }

    /// The output projection when the model keeps it quantized, else nil.
    public var quantizedOutputWeight: QuantizedMatrix? {
        if case .quantized(let matrix) = projection { return matrix }
        return nil
    }

    /// (B, T, V), computed on each use: training losses use `targetLogProbabilities`, which never holds them all.
    public var logits: Tensor {
        switch projection {
        case .dense(let weight): Tensor.matmul(finalHidden, weight, transposeB: true)
        case .quantized(let matrix): Tensor.matmul(finalHidden, quantized: matrix)
        }
    }

    /// (B, 1, V): the logits of each sequence's last position only — all that picking the next token reads, a T-th of
    /// `logits`' work after a prefill of T tokens.
    public var lastPositionLogits: Tensor {
        let time = finalHidden.shape[1]
        let last = ModelOutput(finalHidden: time == 1 ? finalHidden : finalHidden.slice(axis: 1, (time - 1)..<time), projection: projection)
        return last.logits
    }

    private init(finalHidden: Tensor, projection: Projection) {
        self.finalHidden = finalHidden
        self.projection = projection
        self.hiddenStates = []
    }

    /// log softmax(logitScale · logits)[target] per position (B, T), 0 where the target is `ignoreIndex`, on the tape,
    /// computed in chunks of rows without materialising the (B, T, V) logits (see `Tensor.projectedLogProbabilities`).
    public func targetLogProbabilities(_ targets: [Int32], ignoreIndex: Int32 = -100, logitScale: Float = 1,
                                       statistics: Bool = false) -> (Tensor, Tensor.VocabularyStatistics?) {
        Tensor.projectedLogProbabilities(hidden: finalHidden, weight: outputWeight, targets: targets, ignoreIndex: ignoreIndex,
                                         logitScale: logitScale, statistics: statistics)
    }

    /// Mean of the logits over the vocabulary at every position (B·T values), without computing the logits:
    /// mean_v (h · w_v) = h · mean_v(w_v).
    public func meanLogits() -> [Double] {
        withoutGradients {
            let columns = outputWeight.shape[1], vocabulary = outputWeight.shape[0]
            var meanRow = [Double](repeating: 0, count: columns)
            outputWeight.withUnsafeBufferPointer { w in
                for v in 0..<vocabulary { for c in 0..<columns { meanRow[c] += Double(w[v * columns + c]) } }
            }
            return finalHidden.withUnsafeBufferPointer { h in
                (0..<(h.count / columns)).map { row in
                    var sum = 0.0
                    for c in 0..<columns { sum += Double(h[row * columns + c]) * meanRow[c] }
                    return sum / Double(vocabulary)
                }
            }
        }
    }
}

/// Keys and values of every layer for the tokens seen so far, so each new token costs one position's work. Each
/// layer's are a ``SequenceBuffer`` with room to grow: a decoding step writes its position in place.
public final class KVCache {
    /// Per layer: (B, Hkv, S, D) filled.
    var keys: [SequenceBuffer?]
    var values: [SequenceBuffer?]
    /// Positions to make room for when a layer's buffers first grow (e.g. the prompt plus the new tokens), so that
    /// decoding never moves them; 0: grow by doubling.
    public var reservedPositions = 0
    /// How the keys and values are stored (`--kv-cache`): float32, or half floats as llama.cpp stores them by default.
    public let precision: SequenceBuffer.Precision

    public init(layerCount: Int, precision: SequenceBuffer.Precision = .float32) {
        keys = Array(repeating: nil, count: layerCount)
        values = Array(repeating: nil, count: layerCount)
        self.precision = precision
    }

    /// A cache holding `keys` and `values` (per layer, (B, Hkv, S, D)): in float32 sharing their storage until it
    /// grows, in half precision their values rounded.
    init(keys: [Tensor], values: [Tensor], precision: SequenceBuffer.Precision = .float32) {
        precondition(keys.count == values.count, "\(keys.count) key layers, \(values.count) value layers")
        self.keys = keys.map { SequenceBuffer($0, precision: precision) }
        self.values = values.map { SequenceBuffer($0, precision: precision) }
        self.precision = precision
    }

    /// One batch of single-sequence caches (filled, same layers and precision), each sequence right-aligned to the
    /// longest with zeros before it (``SequenceBuffer/stacking(rightAligned:length:capacity:)``): a left-padded batch
    /// whose mask hides the padding. `capacity`: positions to make room for, as ``reservedPositions``.
    init(stacking caches: [KVCache], capacity: Int) {
        let length = caches.map(\.length).max() ?? 0
        let layerCount = caches[0].keys.count
        precondition(caches.allSatisfy { $0.keys.count == layerCount && $0.precision == caches[0].precision && $0.keys.allSatisfy { $0 != nil } },
                     "stacking KV caches of different layers or precisions, or unfilled ones")
        func stack(_ buffers: [SequenceBuffer]) -> SequenceBuffer {
            SequenceBuffer.stacking(rightAligned: buffers, length: length, capacity: max(capacity, length))
        }
        keys = (0..<layerCount).map { layer in stack(caches.map { $0.keys[layer]! }) }
        values = (0..<layerCount).map { layer in stack(caches.map { $0.values[layer]! }) }
        precision = caches[0].precision
        reservedPositions = capacity
    }

    /// Number of cached positions.
    public var length: Int { keys.first??.length ?? 0 }

    /// Cached positions of `layer` (during a forward pass the layers before it are one step ahead).
    func length(layer: Int) -> Int { keys[layer]?.length ?? 0 }

    /// Appends this step's keys and values (B, Hkv, T, D) for `layer`.
    func append(layer: Int, keys newKeys: Tensor, values newValues: Tensor) {
        func buffer(_ existing: SequenceBuffer?, _ x: Tensor) -> SequenceBuffer {
            let buffer = existing ?? SequenceBuffer(batch: x.shape[0], heads: x.shape[1], headSize: x.shape[3], capacity: 0, precision: precision)
            buffer.append(x, reserving: reservedPositions)
            return buffer
        }
        keys[layer] = buffer(keys[layer], newKeys)
        values[layer] = buffer(values[layer], newValues)
    }

    /// Attention of `query` over every cached position of `layer` (after ``append(layer:keys:values:)``), reading the
    /// buffers in place.
    func attention(layer: Int, query: Tensor, keyMask: [UInt8]?, segmentStarts: [Int32]?) -> Tensor {
        guard let key = keys[layer], let value = values[layer] else { preconditionFailure("attention before layer \(layer)'s keys were cached") }
        return Tensor.scaledDotProductAttention(query: query, key: key, value: value, causal: true, keyMask: keyMask, segmentStarts: segmentStarts)
    }

    /// `layer`'s cached keys and values as (B, Hkv, S, D) tensors (copies unless a buffer is exactly full).
    func tensors(layer: Int) -> (keys: Tensor, values: Tensor) {
        guard let key = keys[layer], let value = values[layer] else { preconditionFailure("layer \(layer) has no cached keys") }
        return (key.tensor(), value.tensor())
    }

    /// Keeps only the sequences at `indices` (beam or batch pruning).
    public func select(batchIndices indices: [Int]) {
        keys = keys.map { $0?.selecting(rows: indices) }
        values = values.map { $0?.selecting(rows: indices) }
    }
}
