import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Read-only bytes with a stable address: a file memory-mapped when possible (otherwise read into an owned buffer),
/// or an owned copy of `Data`.
///
/// Mapping keeps multi-gigabyte checkpoints and datasets out of the heap and lets the kernel page them in on demand.
/// Readers go through raw pointers for speed; the bytes stay valid for the object's lifetime, so callers must not
/// let pointers escape it.
public final class MappedFile: @unchecked Sendable {
    /// Start of the file's bytes (a 1-byte dummy allocation for empty files).
    public let base: UnsafeRawPointer
    /// File size in bytes.
    public let count: Int
    /// Whether `base` is an `mmap` region (else a heap buffer we own).
    private let isMapped: Bool

    /// All bytes of the file.
    public var bytes: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: base, count: count) }

    /// Copies `data`.
    public init(data: Data) {
        (base, count) = Self.copy(data)
        isMapped = false
    }

    /// Maps `url` read-only, falling back to reading the whole file when mapping is unavailable.
    /// - Throws: ``RuntimeError`` naming the file when it cannot be opened or read.
    public init(url: URL) throws {
        let path = url.path
        let descriptor = open(path, O_RDONLY)
        if descriptor >= 0 {
            defer { close(descriptor) }
            var status = stat()
            if fstat(descriptor, &status) == 0, (status.st_mode & S_IFMT) == S_IFREG {
                let size = Int(status.st_size)
                if size > 0, let region = mmap(nil, size, PROT_READ, MAP_PRIVATE, descriptor, 0),
                    region != MAP_FAILED
                {
                    base = UnsafeRawPointer(region)
                    count = size
                    isMapped = true
                    return
                }
            }
        }
        // Fallback: read through Foundation (also the path for empty files and non-regular files).
        let data: Data
        do {
            data = try Data(contentsOf: url)
        } catch {
            throw RuntimeError(file: path, "cannot read: \(error.localizedDescription)")
        }
        (base, count) = Self.copy(data)
        isMapped = false
    }

    /// Says that the bytes in `range` (offsets into the file) will not be read again soon: the whole pages inside it
    /// leave this process's resident set. A mapped file's pages stay in the page cache and are read back, unchanged,
    /// on the next access, so this never changes what the bytes read; an owned copy is left as it is. Loading a
    /// checkpoint tensor by tensor and releasing each one after converting it keeps the peak at the model plus one
    /// tensor, instead of the model plus the whole file.
    public func releasePages(_ range: Range<Int>) {
        guard isMapped, range.lowerBound >= 0, range.upperBound <= count else { return }
        let page = Int(getpagesize())
        let lower = (range.lowerBound + page - 1) / page * page, upper = range.upperBound / page * page
        guard upper > lower else { return }
        _ = madvise(UnsafeMutableRawPointer(mutating: base + lower), upper - lower, MADV_DONTNEED)
    }

    /// An owned, 16-byte aligned copy of `data` (one byte for empty data, so `base` is never dangling).
    private static func copy(_ data: Data) -> (UnsafeRawPointer, Int) {
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: max(data.count, 1), alignment: 16)
        data.withUnsafeBytes { source in
            if let address = source.baseAddress { buffer.copyMemory(from: address, byteCount: source.count) }
        }
        return (UnsafeRawPointer(buffer), data.count)
    }

    deinit {
        if isMapped {
            munmap(UnsafeMutableRawPointer(mutating: base), count)
        } else {
            UnsafeMutableRawPointer(mutating: base).deallocate()
        }
    }
}
