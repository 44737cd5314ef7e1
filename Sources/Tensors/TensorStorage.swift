/// A 64-byte-aligned buffer of Float32 values shared by tensors that are views of each other.
///
/// Tensors copy their storage before writing to it when it is shared (copy-on-write), so a view never
/// observes a write made through another tensor.
final class TensorStorage {
    let pointer: UnsafeMutablePointer<Float>
    let count: Int

    /// Uninitialised storage; callers must write every element before reading.
    init(uninitializedCount count: Int) {
        self.count = count
        // Alignment to a cache line lets the SIMD kernels use aligned loads at row starts and avoids
        // false sharing between threads that write neighbouring tensors.
        let raw = UnsafeMutableRawPointer.allocate(byteCount: max(count, 1) * MemoryLayout<Float>.stride,
                                                   alignment: 64)
        pointer = raw.bindMemory(to: Float.self, capacity: max(count, 1))
    }

    convenience init(repeating value: Float, count: Int) {
        self.init(uninitializedCount: count)
        pointer.initialize(repeating: value, count: count)
    }

    func copy() -> TensorStorage {
        let result = TensorStorage(uninitializedCount: count)
        result.pointer.update(from: pointer, count: count)
        return result
    }

    deinit { UnsafeMutableRawPointer(pointer).deallocate() }
}

/// The shape of a tensor: sizes of each axis, outermost first.
public typealias Shape = [Int]

extension Array where Element == Int {
    /// Number of elements of a tensor of this shape (1 for a scalar).
    @inlinable var elementCount: Int { reduce(1, *) }
}
