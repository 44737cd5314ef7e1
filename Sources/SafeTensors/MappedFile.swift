import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The read-only bytes of a file: memory-mapped when possible, otherwise read into an owned buffer.
///
/// Mapping keeps multi-gigabyte checkpoints out of the heap and lets the kernel page weights in on demand.
/// The bytes stay valid for the object's lifetime; callers must not let pointers escape it.
final class MappedFile: @unchecked Sendable {
    /// Start of the file's bytes (a 1-byte dummy allocation for empty files).
    let base: UnsafeRawPointer
    /// File size in bytes.
    let count: Int
    /// Whether `base` is an `mmap` region (else a heap buffer we own).
    private let isMapped: Bool

    /// All bytes of the file.
    var bytes: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: base, count: count) }

    /// Maps `url` read-only, falling back to reading the whole file when mapping is unavailable.
    /// - Throws: ``SafeTensorsError/unreadable(file:reason:)`` when the file cannot be opened or read.
    init(url: URL) throws {
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
            throw SafeTensorsError.unreadable(file: path, reason: error.localizedDescription)
        }
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: max(data.count, 1), alignment: 16)
        data.withUnsafeBytes { source in
            if let address = source.baseAddress { buffer.copyMemory(from: address, byteCount: source.count) }
        }
        base = UnsafeRawPointer(buffer)
        count = data.count
        isMapped = false
    }

    deinit {
        if isMapped {
            munmap(UnsafeMutableRawPointer(mutating: base), count)
        } else {
            UnsafeMutableRawPointer(mutating: base).deallocate()
        }
    }
}
