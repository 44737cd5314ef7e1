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
///
/// Buffers of that size are mapped and unmapped directly (`mmap`/`munmap`), not taken from `malloc`: glibc serves
/// them from its heap once it has seen one freed (its mmap threshold rises to 32 MiB) and keeps that heap's pages when
/// they are freed, so a run whose shapes change from step to step (DPO batches padded to their longest sequence) held
/// the freed activations of every earlier step — 4.3–5.4 GB resident between the steps of a LoRA DPO run on
/// SmolLM2-135M that began them at 1 GB (issue 21). Unmapped, a buffer the pool does not keep leaves the process at
/// once. Within a training step (``TensorMemory/beginStep()``, called by the training loop), a request for a size the
/// pool lacks first returns every idle buffer of a size not yet requested in this step: buffers of an earlier batch's
/// shapes do not wait on top of the next batch's peak, while a run whose shapes repeat (every request a hit after the
/// first step) keeps all of its buffers — returning idle buffers at any miss made a fixed-shape training step map
/// and fault its buffers afresh every step (10× the page faults, 16% fewer tokens/s in `charter bench train`).
final class BufferPool: @unchecked Sendable {
    static let shared = BufferPool()
    /// Buffers smaller than this go straight to the allocator (it reuses small blocks well by itself).
    static let minimumPooledCount = 64 * 1024
    /// Most floats kept idle (1 GiB).
    static let capacity = 256 * 1024 * 1024

    private var free: [Int: [UnsafeMutablePointer<Float>]] = [:]
    private var idle = 0
    /// Pooled sizes requested since the step began (nil outside a training step: a miss returns nothing).
    private var requestedThisStep: Set<Int>?
    private let lock = NSLock()

    /// A new training step begins: sizes it does not request again are idle leftovers once it misses.
    func beginStep() {
        lock.lock()
        requestedThisStep = []
        lock.unlock()
    }

    func take(count: Int) -> UnsafeMutablePointer<Float> {
        guard count >= Self.minimumPooledCount else {
            // Alignment to a cache line lets the SIMD kernels use aligned loads at row starts and avoids
            // false sharing between threads that write neighbouring tensors (mapped buffers are page-aligned).
            let raw = UnsafeMutableRawPointer.allocate(byteCount: count * MemoryLayout<Float>.stride, alignment: 64)
            return raw.bindMemory(to: Float.self, capacity: count)
        }
        lock.lock()
        requestedThisStep?.insert(count)
        if let pointer = free[count]?.popLast() {
            if free[count]?.isEmpty == true { free[count] = nil }
            idle -= count
            lock.unlock()
            return pointer
        }
        // A size the pool does not hold: in a training step whose shapes changed (a batch of another length), idle
        // buffers of sizes this step has not asked for would only add to its peak.
        if let requested = requestedThisStep {
            for size in Array(free.keys) where !requested.contains(size) {
                for pointer in free.removeValue(forKey: size)! {
                    idle -= size
                    Self.unmap(pointer, count: size)
                }
            }
        }
        lock.unlock()
        let bytes = count * MemoryLayout<Float>.stride
        let mapped = mmap(nil, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)
        guard let mapped, mapped != MAP_FAILED else { fatalError("out of memory: could not map a tensor of \(bytes) bytes") }
        return mapped.bindMemory(to: Float.self, capacity: count)
    }

    func give(_ pointer: UnsafeMutablePointer<Float>, count: Int) {
        guard count >= Self.minimumPooledCount else { return UnsafeMutableRawPointer(pointer).deallocate() }
        lock.lock()
        if idle + count <= Self.capacity {
            free[count, default: []].append(pointer)
            idle += count
            lock.unlock()
            return
        }
        lock.unlock()
        Self.unmap(pointer, count: count)
    }

    private static func unmap(_ pointer: UnsafeMutablePointer<Float>, count: Int) {
        munmap(pointer, count * MemoryLayout<Float>.stride)
    }

    /// Idle buffers by size (floats), for tests.
    var idleBuffers: [Int: Int] {
        lock.lock()
        defer { lock.unlock() }
        return free.mapValues(\.count)
    }

    /// Returns every idle buffer to the system (e.g. between unrelated jobs).
    func drain() {
        lock.lock()
        defer { lock.unlock() }
        for (count, pointers) in free { for pointer in pointers { Self.unmap(pointer, count: count) } }
        free.removeAll()
        idle = 0
    }
}

/// The tensor engine's buffer reuse, as a training loop drives it.
public enum TensorMemory {
    /// Marks the start of a training step: when the step asks for a buffer size that no idle buffer has, idle buffers
    /// of sizes it has not asked for are returned to the system (shapes that changed since the last step).
    public static func beginStep() { BufferPool.shared.beginStep() }
}

/// The shape of a tensor: sizes of each axis, outermost first.
public typealias Shape = [Int]

extension Array where Element == Int {
    /// Number of elements of a tensor of this shape (1 for a scalar).
    @inlinable var elementCount: Int { reduce(1, *) }
}
