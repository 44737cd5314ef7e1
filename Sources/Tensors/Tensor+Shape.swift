/// Shape manipulation: views, permutations, slicing, joining and indexing.
extension Tensor {
    /// The same elements seen with another shape (a view: no copy). One axis may be -1 (inferred).
    public func reshaped(_ newShape: Shape) -> Tensor {
        var resolved = newShape
        if let inferred = newShape.firstIndex(of: -1) {
            let known = newShape.enumerated().filter { $0.offset != inferred }.map(\.element).reduce(1, *)
            precondition(known > 0 && count % known == 0, "cannot reshape \(shape) to \(newShape)")
            resolved[inferred] = count / known
        }
        precondition(resolved.elementCount == count, "cannot reshape \(shape) (\(count) elements) to \(newShape)")
        if resolved == shape { return self }
        return Tensor(shape: resolved, storage: storage).record(Operation.reshape(from: shape), inputs: [self])
    }

    /// Alias of `reshaped`, for readers used to PyTorch's `view`.
    public func view(_ newShape: Shape) -> Tensor { reshaped(newShape) }

    /// Inserts an axis of size 1 at `axis`.
    public func unsqueezed(_ axis: Int) -> Tensor {
        var newShape = shape
        newShape.insert(1, at: axis < 0 ? axis + rank + 1 : axis)
        return reshaped(newShape)
    }

    /// Removes an axis of size 1.
    public func squeezed(_ axis: Int) -> Tensor {
        let axis = normalized(axis)
        precondition(shape[axis] == 1, "squeeze of axis \(axis) with size \(shape[axis]) in \(shape)")
        var newShape = shape
        newShape.remove(at: axis)
        return reshaped(newShape)
    }

    /// Resolves a negative axis (counted from the end).
    func normalized(_ axis: Int) -> Int {
        let resolved = axis < 0 ? axis + rank : axis
        precondition(resolved >= 0 && resolved < rank, "axis \(axis) out of range for shape \(shape)")
        return resolved
    }

    /// The axes reordered: result axis i is input axis `axes[i]` (copies the elements).
    public func permuted(_ axes: [Int]) -> Tensor {
        precondition(axes.sorted() == Array(0..<rank), "permutation \(axes) for shape \(shape)")
        if axes == Array(0..<rank) { return self }
        let newShape = axes.map { shape[$0] }
        let result = Tensor.make(newShape) { out in permuteCopy(storage.pointer, shape, axes, out) }
        return result.record(Operation.permute(axes), inputs: [self])
    }

    /// Swaps two axes (copies the elements).
    public func transposed(_ first: Int = -2, _ second: Int = -1) -> Tensor {
        var axes = Array(0..<rank)
        axes.swapAt(normalized(first), normalized(second))
        return permuted(axes)
    }

    /// Broadcasts to `newShape` (materialised). Gradients sum back over the stretched axes.
    public func expanded(to newShape: Shape) -> Tensor {
        precondition(broadcastShape(shape, newShape) == newShape, "cannot expand \(shape) to \(newShape)")
        if newShape == shape { return self }
        return Tensor.zeros(newShape) + self
    }

    /// Elements `range` along `axis` (copied).
    public func slice(axis: Int, _ range: Range<Int>) -> Tensor {
        let axis = normalized(axis)
        precondition(range.lowerBound >= 0 && range.upperBound <= shape[axis],
                     "slice \(range) of axis \(axis) with size \(shape[axis])")
        var newShape = shape
        newShape[axis] = range.count
        let outer = shape[..<axis].reduce(1, *), inner = shape[(axis + 1)...].reduce(1, *)
        let source = storage.pointer
        let result = Tensor.make(newShape) { out in
            let chunk = range.count * inner
            for o in 0..<outer {
                (out + o * chunk).update(from: source + (o * shape[axis] + range.lowerBound) * inner, count: chunk)
            }
        }
        return result.record(Operation.slice(axis: axis, start: range.lowerBound, inputShape: shape), inputs: [self])
    }

    /// Joins tensors along `axis`; all other sizes must agree.
    public static func concatenate(_ tensors: [Tensor], axis: Int) -> Tensor {
        precondition(!tensors.isEmpty, "concatenate needs at least one tensor")
        let first = tensors[0], axis = first.normalized(axis)
        for tensor in tensors {
            precondition(tensor.rank == first.rank && (0..<first.rank).allSatisfy { $0 == axis || tensor.shape[$0] == first.shape[$0] },
                         "concatenate along \(axis): \(tensor.shape) vs \(first.shape)")
        }
        var newShape = first.shape
        newShape[axis] = tensors.reduce(0) { $0 + $1.shape[axis] }
        let outer = first.shape[..<axis].reduce(1, *), inner = first.shape[(axis + 1)...].reduce(1, *)
        let result = Tensor.make(newShape) { out in
            var offset = 0
            for tensor in tensors {
                let chunk = tensor.shape[axis] * inner
                for o in 0..<outer {
                    (out + o * newShape[axis] * inner + offset).update(from: tensor.storage.pointer + o * chunk, count: chunk)
                }
                offset += chunk
            }
        }
        return record(result, Operation.concatenate(axis: axis, sizes: tensors.map { $0.shape[axis] }), inputs: tensors)
    }

    /// Rows of this tensor picked by `indices` along axis 0 (embedding lookup): shape indices.shape + shape[1...].
    public func gathered(rows indices: [Int32], indexShape: Shape? = nil) -> Tensor {
        let rowSize = shape[1...].reduce(1, *), rowCount = shape[0]
        let indexShape = indexShape ?? [indices.count]
        precondition(indexShape.elementCount == indices.count, "index shape \(indexShape) for \(indices.count) indices")
        let source = storage.pointer
        let result = Tensor.make(indexShape + shape[1...]) { out in
            for (i, index) in indices.enumerated() {
                precondition(index >= 0 && Int(index) < rowCount, "index \(index) out of range 0..<\(rowCount)")
                (out + i * rowSize).update(from: source + Int(index) * rowSize, count: rowSize)
            }
        }
        return result.record(Operation.gatherRows(indices, rowCount: rowCount), inputs: [self])
    }

    /// Elements where `mask` (broadcast to this shape; nonzero = true) is set are replaced by `value`.
    public func maskedFill(_ mask: Tensor, with value: Float) -> Tensor {
        Tensor.where(mask, Tensor(value).expanded(to: shape), self)
    }

    /// Elementwise choice: `a` where `condition` is nonzero, else `b` (all three broadcast together).
    public static func `where`(_ condition: Tensor, _ a: Tensor, _ b: Tensor) -> Tensor {
        let shape = broadcastShape(broadcastShape(condition.shape, a.shape), b.shape)
        let c = condition.expandedData(to: shape), x = a.expandedData(to: shape), y = b.expandedData(to: shape)
        let result = Tensor.make(shape) { out in
            for i in 0..<shape.elementCount { out[i] = c[i] != 0 ? x[i] : y[i] }
        }
        return record(result, Operation.select(condition: c, shape: shape), inputs: [a, b])
    }

    /// The elements broadcast to `shape`, as a plain array (no tape).
    func expandedData(to newShape: Shape) -> [Float] {
        if newShape == shape { return scalars }
        return withoutGradients { expanded(to: newShape).scalars }
    }
}

/// Copies `source` (shape `shape`) into `out` with axes reordered by `axes`.
func permuteCopy(_ source: UnsafePointer<Float>, _ shape: Shape, _ axes: [Int], _ out: UnsafeMutablePointer<Float>) {
    let rank = shape.count
    var sourceStrides = [Int](repeating: 1, count: rank)
    for axis in stride(from: rank - 2, through: 0, by: -1) { sourceStrides[axis] = sourceStrides[axis + 1] * shape[axis + 1] }
    let newShape = axes.map { shape[$0] }
    let strides = axes.map { sourceStrides[$0] }
    // Copy runs along the last output axis; contiguous when the last axis stays last.
    let inner = newShape[rank - 1], innerStride = strides[rank - 1]
    let outer = newShape.elementCount / max(inner, 1)
    var index = [Int](repeating: 0, count: rank)
    var offset = 0
    for row in 0..<outer {
        let destination = out + row * inner
        if innerStride == 1 {
            destination.update(from: source + offset, count: inner)
        } else {
            for j in 0..<inner { destination[j] = source[offset + j * innerStride] }
        }
        var axis = rank - 2
        while axis >= 0 {
            index[axis] += 1
            offset += strides[axis]
            if index[axis] < newShape[axis] { break }
            offset -= strides[axis] * newShape[axis]
            index[axis] = 0
            axis -= 1
        }
    }
}
