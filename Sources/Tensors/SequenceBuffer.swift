import CKernels

/// One attention layer's keys or values for the positions seen so far, with room to grow: (B, H, capacity, D)
/// storage whose first ``length`` positions of each head are filled. Appending a decoding step writes that step's
/// positions in place, so a step costs one position's copy instead of the whole history's, and decoding allocates
/// nothing per step (a cache that grew by concatenation made a new (B, H, S, D) tensor per layer and step, each of a
/// size never requested again). Inference only: nothing here is recorded for gradients.
public final class SequenceBuffer {
    public let batch: Int, heads: Int, headSize: Int
    /// Filled positions.
    public private(set) var length = 0
    /// Positions the storage holds per head.
    public private(set) var capacity: Int
    private var storage: TensorStorage

    /// An empty buffer with room for `capacity` positions.
    public init(batch: Int, heads: Int, headSize: Int, capacity: Int) {
        precondition(batch > 0 && heads > 0 && headSize > 0 && capacity >= 0, "sequence buffer (\(batch), \(heads), \(capacity), \(headSize))")
        (self.batch, self.heads, self.headSize, self.capacity) = (batch, heads, headSize, capacity)
        storage = TensorStorage(uninitializedCount: batch * heads * capacity * headSize)
    }

    /// A full buffer holding `tensor` (B, H, S, D), sharing its storage: the next ``append(_:reserving:)`` moves to a
    /// larger storage and leaves `tensor` as it was.
    public init(_ tensor: Tensor) {
        precondition(tensor.rank == 4, "a sequence buffer holds (B, H, S, D) tensors, got \(tensor.shape)")
        (batch, heads, length, headSize) = (tensor.shape[0], tensor.shape[1], tensor.shape[2], tensor.shape[3])
        capacity = length
        storage = tensor.storage
    }

    /// Appends `x` (B, H, T, D) after the filled positions, growing the storage when it is full: to `reserving`
    /// positions when that is enough, else to twice what it held (at least what is needed).
    public func append(_ x: Tensor, reserving: Int = 0) {
        precondition(x.rank == 4 && x.shape[0] == batch && x.shape[1] == heads && x.shape[3] == headSize,
                     "appending \(x.shape) to a sequence buffer of (\(batch), \(heads), \(length), \(headSize))")
        let time = x.shape[2], needed = length + time
        if needed > capacity {
            move(toCapacity: reserving >= needed ? reserving : max(needed, 2 * capacity))
        }
        x.withUnsafeBufferPointer { source in
            for row in 0..<(batch * heads) {
                (storage.pointer + (row * capacity + length) * headSize)
                    .update(from: source.baseAddress! + row * time * headSize, count: time * headSize)
            }
        }
        length = needed
    }

    private func move(toCapacity newCapacity: Int) {
        let moved = TensorStorage(uninitializedCount: batch * heads * newCapacity * headSize)
        for row in 0..<(batch * heads) {
            (moved.pointer + row * newCapacity * headSize).update(from: storage.pointer + row * capacity * headSize, count: length * headSize)
        }
        (storage, capacity) = (moved, newCapacity)
    }

    /// The first `positions` (default: all filled) positions of `rows` (default: every sequence) as a
    /// (rows, H, positions, D) tensor: the storage itself when that is all of it, else a copy.
    public func tensor(rows: Range<Int>? = nil, positions: Int? = nil) -> Tensor {
        let rows = rows ?? 0..<batch, positions = positions ?? length
        precondition(rows.lowerBound >= 0 && rows.upperBound <= batch && (0...length).contains(positions),
                     "rows \(rows), \(positions) positions of a sequence buffer of (\(batch), \(heads), \(length), \(headSize))")
        if rows == 0..<batch && positions == capacity { return Tensor(shape: [batch, heads, positions, headSize], storage: storage) }
        return Tensor.make([rows.count, heads, positions, headSize]) { y in
            for (index, row) in (rows.lowerBound * heads..<rows.upperBound * heads).enumerated() {
                (y + index * positions * headSize).update(from: storage.pointer + row * capacity * headSize, count: positions * headSize)
            }
        }
    }

    /// A buffer of the sequences at `indices` (batch rows, in that order), with the same capacity.
    public func selecting(rows indices: [Int]) -> SequenceBuffer {
        let selected = SequenceBuffer(batch: indices.count, heads: heads, headSize: headSize, capacity: capacity)
        for (index, row) in indices.enumerated() {
            precondition((0..<batch).contains(row), "row \(row) of a batch of \(batch)")
            (selected.storage.pointer + index * heads * capacity * headSize)
                .update(from: storage.pointer + row * heads * capacity * headSize, count: heads * capacity * headSize)
        }
        selected.length = length
        return selected
    }

    fileprivate var pointer: UnsafePointer<Float> { UnsafePointer(storage.pointer) }
}

extension Tensor {
    /// ``scaledDotProductAttention(query:key:value:causal:keyMask:segmentStarts:scale:)`` over the filled positions of
    /// a KV cache's buffers, read in place: the same arithmetic in the same order, so the same bits. With gradients
    /// recorded for `query` it falls back to the recorded attention on copies of the buffers.
    public static func scaledDotProductAttention(query: Tensor, key: SequenceBuffer, value: SequenceBuffer, causal: Bool,
                                                 keyMask: [UInt8]? = nil, segmentStarts: [Int32]? = nil) -> Tensor {
        if GradientMode.isEnabled && query.isTracked {
            return scaledDotProductAttention(query: query, key: key.tensor(), value: value.tensor(), causal: causal, keyMask: keyMask,
                                             segmentStarts: segmentStarts)
        }
        precondition(query.rank == 4, "attention expects a (B,H,T,D) query, got \(query.shape)")
        let (batch, queryHeads, time, headSize) = (query.shape[0], query.shape[1], query.shape[2], query.shape[3])
        precondition(key.batch == batch && value.batch == batch && key.headSize == headSize && value.headSize == headSize
                     && key.heads == value.heads && key.length == value.length && key.capacity == value.capacity
                     && queryHeads % key.heads == 0,
                     "attention heads: q \(query.shape), cached k (\(key.batch), \(key.heads), \(key.length), \(key.headSize))")
        let keyTime = key.length
        if let keyMask { precondition(keyMask.count == batch * keyTime, "keyMask of \(keyMask.count) for (B, S) = (\(batch), \(keyTime))") }
        if let segmentStarts {
            precondition(segmentStarts.count == batch * time, "segmentStarts of \(segmentStarts.count) for (B, T) = (\(batch), \(time))")
        }
        var lse = [Float](repeating: 0, count: batch * queryHeads * time)
        return Tensor.make(query.shape) { out in
            ck_attention_forward_strided(Int64(batch), Int64(queryHeads), Int64(key.heads), Int64(time), Int64(keyTime), Int64(key.capacity),
                                         Int64(headSize), query.storage.pointer, key.pointer, value.pointer, 1 / Float(headSize).squareRoot(),
                                         causal ? 1 : 0, keyMask, segmentStarts, out, &lse)
        }
    }
}
