import CKernels
import Foundation

/// A dense, row-major, Float32 tensor of any rank that can record how it was computed.
///
/// Tensors are reference types like PyTorch's, so that a parameter keeps its identity (and its `grad`)
/// while an optimizer updates it. Their storage is copy-on-write: `reshaped` returns a view sharing the
/// storage, and any in-place write first copies a storage that other tensors still share.
///
/// A tensor whose `requiresGrad` is true, or that was computed from one while gradient recording is on
/// (see `withoutGradients`), carries a node of the tape; `backward()` walks that tape in reverse.
public final class Tensor {
    /// Sizes of each axis, outermost first. `[]` is a scalar.
    public let shape: Shape
    var storage: TensorStorage
    /// When true, `backward()` accumulates this tensor's gradient into `grad`.
    public var requiresGrad: Bool {
        didSet { if requiresGrad { precondition(node == nil, "requiresGrad can only be set on a leaf tensor") } }
    }
    /// The accumulated gradient of the last `backward()` with respect to this tensor (leaves only).
    public var grad: Tensor?
    /// How this tensor was computed, when it was recorded on the tape.
    var node: TapeNode?

    init(shape: Shape, storage: TensorStorage) {
        precondition(storage.count >= shape.elementCount, "storage of \(storage.count) for shape \(shape)")
        precondition(shape.allSatisfy { $0 >= 0 }, "negative size in shape \(shape)")
        self.shape = shape
        self.storage = storage
        self.requiresGrad = false
    }

    /// A tensor holding `scalars` in row-major order.
    public convenience init(shape: Shape, scalars: [Float]) {
        precondition(scalars.count == shape.elementCount,
                     "\(scalars.count) scalars do not fill shape \(shape) (\(shape.elementCount) elements)")
        let storage = TensorStorage(uninitializedCount: scalars.count)
        scalars.withUnsafeBufferPointer { storage.pointer.update(from: $0.baseAddress!, count: scalars.count) }
        self.init(shape: shape, storage: storage)
    }

    /// A rank-0 tensor.
    public convenience init(_ scalar: Float) { self.init(shape: [], scalars: [scalar]) }

    /// A tensor of `shape` whose elements are written by `body` (every element must be written).
    static func make(_ shape: Shape, _ body: (UnsafeMutablePointer<Float>) -> Void) -> Tensor {
        let storage = TensorStorage(uninitializedCount: shape.elementCount)
        body(storage.pointer)
        return Tensor(shape: shape, storage: storage)
    }

    public var rank: Int { shape.count }
    public var count: Int { shape.elementCount }

    /// The elements in row-major order.
    public var scalars: [Float] { Array(UnsafeBufferPointer(start: storage.pointer, count: count)) }

    /// The only element of a one-element tensor.
    public var item: Float {
        precondition(count == 1, "item needs a one-element tensor, shape is \(shape)")
        return storage.pointer[0]
    }

    /// Reads the elements without copying them.
    public func withUnsafeBufferPointer<R>(_ body: (UnsafeBufferPointer<Float>) throws -> R) rethrows -> R {
        try body(UnsafeBufferPointer(start: storage.pointer, count: count))
    }

    /// Writes the elements in place, copying the storage first if another tensor shares it.
    /// Not recorded on the tape: use it for optimizer updates and initialisation, never inside a graph.
    public func withUnsafeMutableBufferPointer<R>(_ body: (UnsafeMutableBufferPointer<Float>) throws -> R) rethrows -> R {
        if !isKnownUniquelyReferenced(&storage) { storage = storage.copy() }
        return try body(UnsafeMutableBufferPointer(start: storage.pointer, count: count))
    }

    /// Replaces the elements with those of `other` (same shape), in place.
    public func assign(_ other: Tensor) {
        precondition(other.shape == shape, "assign: shape \(other.shape) into \(shape)")
        withUnsafeMutableBufferPointer { $0.baseAddress!.update(from: other.storage.pointer, count: count) }
    }

    /// The element at a multi-dimensional index (slow; for tests and small tensors).
    public subscript(indices: Int...) -> Float {
        precondition(indices.count == rank, "index \(indices) for shape \(shape)")
        var offset = 0
        for (axis, index) in indices.enumerated() {
            precondition(index >= 0 && index < shape[axis], "index \(indices) out of range for \(shape)")
            offset = offset * shape[axis] + index
        }
        return storage.pointer[offset]
    }

    /// The same values, cut off from the tape (the storage is shared copy-on-write).
    public func detached() -> Tensor { Tensor(shape: shape, storage: storage) }

    /// A copy with its own storage.
    public func copied() -> Tensor { Tensor(shape: shape, storage: storage.copy()) }
}

extension Tensor: CustomStringConvertible {
    public var description: String {
        let preview = scalars.prefix(8).map { "\($0)" }.joined(separator: ", ")
        return "Tensor(shape: \(shape), [\(preview)\(count > 8 ? ", …" : "")])"
    }
}

/// Numbers of threads used by Charter's kernels (also set by the CHARTER_THREADS environment variable).
public enum ComputeThreads {
    public static var count: Int {
        get { Int(ck_get_num_threads()) }
        set { ck_set_num_threads(Int32(newValue)) }
    }
}

/// The machine the kernels run on: the active kernel path and the CPU's model name (for reports: every number
/// says which path and CPU produced it).
public struct MachineDescription: Codable, Equatable, Sendable {
    /// "avx512", "avx2", "portable" or "neon" (CHARTER_KERNEL_PATH forces one).
    public var kernelPath: String
    /// /proc/cpuinfo's "model name" (Linux), or "unknown".
    public var cpu: String
    public var threads: Int

    public static var current: MachineDescription {
        let path = String(cString: ck_path_name(ck_active_path()))
        var cpu = "unknown"
        if let info = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
           let line = info.split(separator: "\n").first(where: { $0.hasPrefix("model name") }), let colon = line.firstIndex(of: ":") {
            cpu = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        return MachineDescription(kernelPath: path, cpu: cpu, threads: ComputeThreads.count)
    }
}
