import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Immutable compressed input with a stable address: a read-only `mmap` of a file, or an owned copy of `Data`.
///
/// The decoder reads through a raw pointer for speed, so the bytes must outlive it; this class owns them.
/// (SafeTensors has its own mapping type: the two targets are deliberately independent.)
final class InputBuffer: @unchecked Sendable {
    /// Start of the bytes (a 1-byte allocation when empty).
    let base: UnsafeRawPointer
    /// Number of bytes.
    let count: Int
    private let isMapped: Bool

    /// All bytes.
    var bytes: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: base, count: count) }

    /// Copies `data`.
    init(data: Data) {
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: max(data.count, 1), alignment: 16)
        data.withUnsafeBytes { source in
            if let address = source.baseAddress { buffer.copyMemory(from: address, byteCount: source.count) }
        }
        base = UnsafeRawPointer(buffer)
        count = data.count
        isMapped = false
    }

    /// Maps the file at `url` read-only (or reads it when it cannot be mapped).
    /// - Throws: ``GzipError`` with reason `.io` when the file cannot be read.
    init(url: URL) throws {
        let descriptor = open(url.path, O_RDONLY)
        if descriptor >= 0 {
            defer { close(descriptor) }
            var status = stat()
            if fstat(descriptor, &status) == 0, (status.st_mode & S_IFMT) == S_IFREG, status.st_size > 0,
                let region = mmap(nil, Int(status.st_size), PROT_READ, MAP_PRIVATE, descriptor, 0), region != MAP_FAILED
            {
                base = UnsafeRawPointer(region)
                count = Int(status.st_size)
                isMapped = true
                return
            }
        }
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw GzipError(file: url.path, offset: 0, reason: .io("cannot read: \(error.localizedDescription)"))
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
        if isMapped { munmap(UnsafeMutableRawPointer(mutating: base), count) } else { UnsafeMutableRawPointer(mutating: base).deallocate() }
    }
}
