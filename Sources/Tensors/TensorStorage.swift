import Foundation

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
        pointer = BufferPool.shared.take(count: max(count, 1))
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

    deinit { BufferPool.shared.give(pointer, count: max(count, 1)) }
}

/// Reuses large buffers. A training step allocates the same activation and gradient sizes every time; returning
/// them to the system and faulting fresh pages back in cost ~6% of a step, so freed buffers of 256 KiB or more
/// wait here for the next request of the same size, up to a bounded total.
final class BufferPool: @unchecked Sendable {
    static let shared = BufferPool()
    /// Buffers smaller than this go straight to the allocator (it reuses small blocks well by itself).
    static let minimumPooledCount = 64 * 1024
    /// Most floats kept idle (1 GiB).
    static let capacity = 256 * 1024 * 1024

    private var free: [Int: [UnsafeMutablePointer<Float>]] = [:]
    private var idle = 0
    private let lock = NSLock()

    func take(count: Int) -> UnsafeMutablePointer<Float> {
        if count >= Self.minimumPooledCount {
            lock.lock()
            if let pointer = free[count]?.popLast() {
                idle -= count
                lock.unlock()
                return pointer
            }
            lock.unlock()
        }
        // Alignment to a cache line lets the SIMD kernels use aligned loads at row starts and avoids
        // false sharing between threads that write neighbouring tensors.
        let raw = UnsafeMutableRawPointer.allocate(byteCount: count * MemoryLayout<Float>.stride, alignment: 64)
        return raw.bindMemory(to: Float.self, capacity: count)
    }

    func give(_ pointer: UnsafeMutablePointer<Float>, count: Int) {
        if count >= Self.minimumPooledCount {
            lock.lock()
            if idle + count <= Self.capacity {
                free[count, default: []].append(pointer)
                idle += count
                lock.unlock()
                return
            }
            lock.unlock()
        }
        UnsafeMutableRawPointer(pointer).deallocate()
    }

    /// Returns every idle buffer to the system (e.g. between unrelated jobs).
    func drain() {
        lock.lock()
        defer { lock.unlock() }
        for pointers in free.values { for pointer in pointers { UnsafeMutableRawPointer(pointer).deallocate() } }
        free.removeAll()
        idle = 0
    }
}

/// The shape of a tensor: sizes of each axis, outermost first.
public typealias Shape = [Int]

extension Array where Element == Int {
    /// Number of elements of a tensor of this shape (1 for a scalar).
    @inlinable var elementCount: Int { reduce(1, *) }
}
