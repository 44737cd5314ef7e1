import CKernels

/// Reductions along axes, and the softmax family.
extension Tensor {
    /// Sum of every element (rank 0).
    public func sum() -> Tensor { reshaped([count]).sum(axes: [0]) }

    /// Mean of every element (rank 0).
    public func mean() -> Tensor { sum() * (1 / Float(Swift.max(count, 1))) }

    /// Sums over `axes`; with `keepDimensions` the reduced axes stay with size 1.
    public func sum(axes: [Int], keepDimensions: Bool = false) -> Tensor {
        let axes = Set(axes.map(normalized))
        var kept = shape
        for axis in axes { kept[axis] = 1 }
        let result = Tensor.make(kept) { out in sumReduce(storage.pointer, shape, axes, out) }
        let final = keepDimensions ? result : result.reshapedWithoutTape(shape.enumerated().filter { !axes.contains($0.offset) }.map(\.element))
        return final.record(Operation.sum(axes: axes, inputShape: shape), inputs: [self])
    }

    public func sum(axis: Int, keepDimensions: Bool = false) -> Tensor { sum(axes: [axis], keepDimensions: keepDimensions) }

    public func mean(axes: [Int], keepDimensions: Bool = false) -> Tensor {
        let reduced = axes.map { shape[normalized($0)] }.reduce(1, *)
        return sum(axes: axes, keepDimensions: keepDimensions) * (1 / Float(Swift.max(reduced, 1)))
    }

    public func mean(axis: Int, keepDimensions: Bool = false) -> Tensor { mean(axes: [axis], keepDimensions: keepDimensions) }

    /// Sums this gradient down to `target` (the inverse of broadcasting `target` up to this shape).
    func summed(toShape target: Shape) -> Tensor {
        if target == shape { return self }
        let offset = rank - target.count
        var axes: [Int] = Array(0..<offset)
        for (axis, size) in target.enumerated() where size == 1 && shape[axis + offset] != 1 { axes.append(axis + offset) }
        return sum(axes: axes, keepDimensions: true).reshaped(target)
    }

    /// The largest element along `axis`; the gradient flows to the first maximal element.
    public func max(axis: Int, keepDimensions: Bool = false) -> Tensor {
        let axis = normalized(axis)
        let (outer, size, inner) = split(at: axis)
        var kept = shape; kept[axis] = 1
        var winners = [Int32](repeating: 0, count: outer * inner)
        let x = storage.pointer
        let result = Tensor.make(kept) { out in
            for o in 0..<outer {
                for i in 0..<inner {
                    var best = -Float.infinity, bestIndex = 0
                    for s in 0..<size {
                        let value = x[(o * size + s) * inner + i]
                        if value > best || (s == 0) || value.isNaN { best = value; bestIndex = s; if value.isNaN { break } }
                    }
                    out[o * inner + i] = best
                    winners[o * inner + i] = Int32(bestIndex)
                }
            }
        }
        var outShape = kept
        if !keepDimensions { outShape.remove(at: axis) }
        return result.reshapedWithoutTape(outShape).record(Operation.max(axis: axis, winners: winners, inputShape: shape), inputs: [self])
    }

    /// Indices of the largest element along `axis` (first on ties).
    public func argmax(axis: Int) -> [Int] {
        let axis = normalized(axis)
        let (outer, size, inner) = split(at: axis)
        let x = storage.pointer
        var result = [Int](repeating: 0, count: outer * inner)
        for o in 0..<outer {
            for i in 0..<inner {
                var best = -Float.infinity, bestIndex = 0
                for s in 0..<size where x[(o * size + s) * inner + i] > best || s == 0 {
                    best = x[(o * size + s) * inner + i]; bestIndex = s
                }
                result[o * inner + i] = bestIndex
            }
        }
        return result
    }

    /// log Σ exp along `axis`, computed stably.
    public func logSumExp(axis: Int = -1, keepDimensions: Bool = false) -> Tensor {
        let axis = normalized(axis)
        if axis != rank - 1 {
            return movedToLast(axis).logSumExp(axis: -1, keepDimensions: false)
                .keepingDimension(axis, keepDimensions)
        }
        let cols = shape[rank - 1], rows = count / Swift.max(cols, 1)
        var outShape = shape; outShape.removeLast()
        let result = Tensor.make(outShape) { out in ck_logsumexp_rows(Int64(rows), Int64(cols), storage.pointer, out) }
        result.record(Operation.logSumExp(output: result.detached()), inputs: [self])
        return keepDimensions ? result.unsqueezed(-1) : result
    }

    /// Softmax along `axis` (default: the last).
    public func softmax(axis: Int = -1) -> Tensor {
        let axis = normalized(axis)
        if axis != rank - 1 { return movedToLast(axis).softmax(axis: -1).movedFromLast(axis) }
        let cols = shape[rank - 1], rows = count / Swift.max(cols, 1)
        let result = Tensor.make(shape) { out in ck_softmax_forward(Int64(rows), Int64(cols), storage.pointer, out) }
        return result.record(Operation.softmax(output: result.detached()), inputs: [self])
    }

    /// Log-softmax along `axis` (default: the last).
    public func logSoftmax(axis: Int = -1) -> Tensor {
        let axis = normalized(axis)
        if axis != rank - 1 { return movedToLast(axis).logSoftmax(axis: -1).movedFromLast(axis) }
        let cols = shape[rank - 1], rows = count / Swift.max(cols, 1)
        let result = Tensor.make(shape) { out in ck_log_softmax_forward(Int64(rows), Int64(cols), storage.pointer, out) }
        return result.record(Operation.logSoftmax(output: result.detached()), inputs: [self])
    }

    /// (outer, size, inner) element counts around `axis`.
    func split(at axis: Int) -> (Int, Int, Int) {
        (shape[..<axis].reduce(1, *), shape[axis], shape[(axis + 1)...].reduce(1, *))
    }

    func reshapedWithoutTape(_ newShape: Shape) -> Tensor { Tensor(shape: newShape, storage: storage) }

    private func movedToLast(_ axis: Int) -> Tensor {
        var axes = Array(0..<rank); axes.remove(at: axis); axes.append(axis)
        return permuted(axes)
    }

    private func movedFromLast(_ axis: Int) -> Tensor {
        var axes = Array(0..<(rank - 1)); axes.insert(rank - 1, at: axis)
        return permuted(axes)
    }

    private func keepingDimension(_ axis: Int, _ keep: Bool) -> Tensor { keep ? unsqueezed(axis) : self }
}

/// Sums `source` (shape `shape`) over `axes` into `out` (shape with those axes set to 1).
func sumReduce(_ source: UnsafePointer<Float>, _ shape: Shape, _ axes: Set<Int>, _ out: UnsafeMutablePointer<Float>) {
    // Merge runs of adjacent axes that are all reduced or all kept, then reduce one run at a time.
    var groups: [(size: Int, reduced: Bool)] = []
    for (axis, size) in shape.enumerated() {
        let reduced = axes.contains(axis)
        if let last = groups.last, last.reduced == reduced { groups[groups.count - 1].size *= size } else { groups.append((size, reduced)) }
    }
    var current = UnsafeMutablePointer<Float>(mutating: source)
    var currentShape = groups.map(\.size)
    var temporaries: [UnsafeMutablePointer<Float>] = []
    defer { temporaries.forEach { $0.deallocate() } }
    for index in stride(from: groups.count - 1, through: 0, by: -1) where groups[index].reduced {
        let outer = currentShape[..<index].reduce(1, *), size = currentShape[index]
        let inner = currentShape[(index + 1)...].reduce(1, *)
        let destination = UnsafeMutablePointer<Float>.allocate(capacity: Swift.max(outer * inner, 1))
        temporaries.append(destination)
        for o in 0..<outer {
            let row = destination + o * inner
            if inner == 1 {
                // A contiguous run: sum with several accumulators (pairwise-like accuracy, vectorisable).
                var acc = (Float(0), Float(0), Float(0), Float(0))
                let base = current + o * size
                var s = 0
                while s + 4 <= size { acc.0 += base[s]; acc.1 += base[s + 1]; acc.2 += base[s + 2]; acc.3 += base[s + 3]; s += 4 }
                var total = (acc.0 + acc.1) + (acc.2 + acc.3)
                while s < size { total += base[s]; s += 1 }
                row[0] = total
            } else {
                row.update(from: current + o * size * inner, count: inner)
                for s in 1..<Swift.max(size, 1) {
                    let base = current + (o * size + s) * inner
                    for i in 0..<inner { row[i] += base[i] }
                }
                if size == 0 { row.update(repeating: 0, count: inner) }
            }
        }
        current = destination
        currentShape[index] = 1
    }
    out.update(from: current, count: currentShape.reduce(1, *))
}
