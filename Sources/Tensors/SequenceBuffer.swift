import CKernels

/// One attention layer's keys or values for the positions seen so far, with room to grow: (B, H, capacity, D)
/// storage whose first ``length`` positions of each head are filled. Appending a decoding step writes that step's
/// positions in place, so a step costs one position's copy instead of the whole history's, and decoding allocates
/// nothing per step (a cache that grew by concatenation made a new (B, H, S, D) tensor per layer and step, each of a
/// size never requested again). Inference only: nothing here is recorded for gradients.
public final class SequenceBuffer {
    /// How the positions are stored: float32, or IEEE half floats (`f16`, llama.cpp's default KV cache: half the memory
    /// and half the bytes each decoding step reads; values are rounded to nearest even when appended and read back
    /// exactly).
    public enum Precision: String, CaseIterable, Sendable {
        case float32 = "f32"
        case float16 = "f16"
    }

    public let batch: Int, heads: Int, headSize: Int
    public var precision: Precision {
        if case .float16 = storage { return .float16 }
        return .float32
    }
    /// Filled positions.
    public private(set) var length = 0
    /// Positions the storage holds per head.
    public private(set) var capacity: Int
    private var storage: Storage

    /// The positions of every (sequence, head) row, `capacity` apart: float32 or half floats.
    private enum Storage {
        case float32(TensorStorage)
        case float16(HalfStorage)

        init(_ precision: Precision, count: Int) {
            switch precision {
            case .float32: self = .float32(TensorStorage(uninitializedCount: count))
            case .float16: self = .float16(HalfStorage(count: count))
            }
        }
    }

    /// An empty buffer with room for `capacity` positions.
    public convenience init(batch: Int, heads: Int, headSize: Int, capacity: Int, precision: Precision = .float32) {
        precondition(batch > 0 && heads > 0 && headSize > 0 && capacity >= 0, "sequence buffer (\(batch), \(heads), \(capacity), \(headSize))")
        self.init(batch: batch, heads: heads, headSize: headSize, capacity: capacity,
                  storage: Storage(precision, count: batch * heads * capacity * headSize))
    }

    private init(batch: Int, heads: Int, headSize: Int, capacity: Int, storage: Storage) {
        (self.batch, self.heads, self.headSize, self.capacity, self.storage) = (batch, heads, headSize, capacity, storage)
    }

    /// A full buffer holding `tensor` (B, H, S, D): in float32 it shares the tensor's storage (the next
    /// ``append(_:reserving:)`` moves to a larger storage and leaves `tensor` as it was); in half precision it holds
    /// the tensor's values rounded.
    public convenience init(_ tensor: Tensor, precision: Precision = .float32) {
        precondition(tensor.rank == 4, "a sequence buffer holds (B, H, S, D) tensors, got \(tensor.shape)")
        let (batch, heads, time, headSize) = (tensor.shape[0], tensor.shape[1], tensor.shape[2], tensor.shape[3])
        switch precision {
        case .float32:
            self.init(batch: batch, heads: heads, headSize: headSize, capacity: time, storage: .float32(tensor.storage))
            length = time
        case .float16:
            self.init(batch: batch, heads: heads, headSize: headSize, capacity: time, precision: .float16)
            append(tensor)
        }
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
                let from = source.baseAddress! + row * time * headSize, offset = (row * capacity + length) * headSize
                switch storage {
                case .float32(let floats): (floats.pointer + offset).update(from: from, count: time * headSize)
                case .float16(let halves): ck_floats_to_halves(Int64(time * headSize), from, halves.pointer + offset)
                }
            }
        }
        length = needed
    }

    private func move(toCapacity newCapacity: Int) {
        let moved = Storage(precision, count: batch * heads * newCapacity * headSize)
        for row in 0..<(batch * heads) {
            Self.copy(length * headSize, from: storage, at: row * capacity * headSize, to: moved, at: row * newCapacity * headSize)
        }
        (storage, capacity) = (moved, newCapacity)
    }

    /// Copies `count` values between two storages of the same precision.
    private static func copy(_ count: Int, from source: Storage, at sourceOffset: Int, to target: Storage, at targetOffset: Int) {
        switch (source, target) {
        case (.float32(let from), .float32(let to)): (to.pointer + targetOffset).update(from: from.pointer + sourceOffset, count: count)
        case (.float16(let from), .float16(let to)): (to.pointer + targetOffset).update(from: from.pointer + sourceOffset, count: count)
        default: preconditionFailure("copying between sequence buffers of different precisions")
        }
    }

    /// The first `positions` (default: all filled) positions of `rows` (default: every sequence) as a float32
    /// (rows, H, positions, D) tensor: the storage itself when that is all of a float32 buffer, else a copy.
    public func tensor(rows: Range<Int>? = nil, positions: Int? = nil) -> Tensor {
        let rows = rows ?? 0..<batch, positions = positions ?? length
        precondition(rows.lowerBound >= 0 && rows.upperBound <= batch && (0...length).contains(positions),
                     "rows \(rows), \(positions) positions of a sequence buffer of (\(batch), \(heads), \(length), \(headSize))")
        if case .float32(let floats) = storage, rows == 0..<batch && positions == capacity {
            return Tensor(shape: [batch, heads, positions, headSize], storage: floats)
        }
        return Tensor.make([rows.count, heads, positions, headSize]) { y in
            for (index, row) in (rows.lowerBound * heads..<rows.upperBound * heads).enumerated() {
                let target = y + index * positions * headSize, offset = row * capacity * headSize
                switch storage {
                case .float32(let floats): target.update(from: floats.pointer + offset, count: positions * headSize)
                case .float16(let halves): ck_halves_to_floats(Int64(positions * headSize), halves.pointer + offset, target)
                }
            }
        }
    }

    /// A buffer of the sequences at `indices` (batch rows, in that order), with the same capacity and precision.
    public func selecting(rows indices: [Int]) -> SequenceBuffer {
        let selected = SequenceBuffer(batch: indices.count, heads: heads, headSize: headSize, capacity: capacity, precision: precision)
        for (index, row) in indices.enumerated() {
            precondition((0..<batch).contains(row), "row \(row) of a batch of \(batch)")
            Self.copy(heads * capacity * headSize, from: storage, at: row * heads * capacity * headSize,
                      to: selected.storage, at: index * heads * capacity * headSize)
        }
        selected.length = length
        return selected
    }

    /// One batch of single-sequence buffers (each of batch 1, all with these heads, head size and precision), each
    /// sequence right-aligned to `length` positions: row b holds `buffers[b]`'s positions at
    /// `length − buffers[b].length ..< length` and zeros before them (left padding that a mask hides; zeros rather than
    /// uninitialised memory, because attention still multiplies a masked value by its zero probability).
    public static func stacking(rightAligned buffers: [SequenceBuffer], length: Int, capacity: Int) -> SequenceBuffer {
        precondition(!buffers.isEmpty && capacity >= length, "stacking \(buffers.count) sequence buffers to \(length) of \(capacity) positions")
        let first = buffers[0]
        let stacked = SequenceBuffer(batch: buffers.count, heads: first.heads, headSize: first.headSize, capacity: capacity,
                                     precision: first.precision)
        let (heads, headSize) = (first.heads, first.headSize)
        for (row, buffer) in buffers.enumerated() {
            precondition(buffer.batch == 1 && buffer.heads == heads && buffer.headSize == headSize && buffer.precision == first.precision
                         && buffer.length <= length,
                         "sequence buffer (\(buffer.batch), \(buffer.heads), \(buffer.length), \(buffer.headSize)) in a stack of (\(heads), \(length), \(headSize))")
            let padding = length - buffer.length
            for head in 0..<heads {
                let target = ((row * heads + head) * capacity) * headSize
                switch stacked.storage {
                case .float32(let floats): (floats.pointer + target).update(repeating: 0, count: padding * headSize)
                case .float16(let halves): (halves.pointer + target).update(repeating: 0, count: padding * headSize)
                }
                copy(buffer.length * headSize, from: buffer.storage, at: head * buffer.capacity * headSize,
                     to: stacked.storage, at: target + padding * headSize)
            }
        }
        stacked.length = length
        return stacked
    }

    /// Runs `body` with the keys of this buffer and the values of `values` (same shape and precision) as the C
    /// attention kernels read them.
    fileprivate func withAttentionPointers<R>(values: SequenceBuffer, _ body: (Pointers) -> R) -> R {
        switch (storage, values.storage) {
        case (.float32(let k), .float32(let v)): return body(.float32(UnsafePointer(k.pointer), UnsafePointer(v.pointer)))
        case (.float16(let k), .float16(let v)): return body(.float16(UnsafePointer(k.pointer), UnsafePointer(v.pointer)))
        default: preconditionFailure("keys in \(precision.rawValue) and values in \(values.precision.rawValue)")
        }
    }

    fileprivate enum Pointers {
        case float32(UnsafePointer<Float>, UnsafePointer<Float>)
        case float16(UnsafePointer<UInt16>, UnsafePointer<UInt16>)
    }
}

/// Half floats of a ``SequenceBuffer``, freed with it.
private final class HalfStorage {
    let pointer: UnsafeMutablePointer<UInt16>

    init(count: Int) { pointer = .allocate(capacity: max(count, 1)) }

    deinit { pointer.deallocate() }
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
        let (B, H, Hkv, T, S, C, D) = (Int64(batch), Int64(queryHeads), Int64(key.heads), Int64(time), Int64(keyTime), Int64(key.capacity), Int64(headSize))
        let scale = 1 / Float(headSize).squareRoot()
        return Tensor.make(query.shape) { out in
            key.withAttentionPointers(values: value) { pointers in
                switch pointers {
                case .float32(let k, let v):
                    ck_attention_forward_strided(B, H, Hkv, T, S, C, D, query.storage.pointer, k, v, scale, causal ? 1 : 0, keyMask, segmentStarts, out, &lse)
                case .float16(let k, let v):
                    ck_attention_forward_strided_half(B, H, Hkv, T, S, C, D, query.storage.pointer, k, v, scale, causal ? 1 : 0, keyMask, segmentStarts,
                                                      out, &lse)
                }
            }
        }
    }
}
