import Foundation
import Runtime
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Streams a gzip file to disk, atomically: bytes go to a temporary file next to the destination, which
/// ``finish()`` renames into place. A writer dropped without `finish()` leaves no partial output behind.
///
/// ```swift
/// let writer = try GzipWriter(url: outputURL)
/// for line in lines { try writer.write(line + "\n") }
/// try writer.finish()
/// ```
public final class GzipWriter {
    /// The destination.
    public let url: URL
    private let temporaryURL: URL
    private let handle: FileHandle
    private let deflater: Deflater
    private var crc = CRC32()
    private var size: UInt32 = 0
    private var buffer: [UInt8] = []
    private let blockSize = 1 << 20
    private var finished = false

    /// Opens a writer.
    /// - Parameters:
    ///   - url: Destination file (replaced on ``finish()``).
    ///   - level: Compression level (by default zlib's level 6, as `gzip`).
    /// - Throws: ``GzipError`` with reason `.io` when the temporary file cannot be created.
    public init(url: URL, level: Deflater.Level = .default) throws {
        self.url = url
        do {
            (temporaryURL, handle) = try AtomicFile.createTemporary(for: url)
        } catch {
            throw GzipError(file: url.path, offset: 0, reason: .io("\(error)"))
        }
        deflater = Deflater(level: level)
        try write(raw: Data(Gzip.memberHeader(fileName: nil)))
    }

    deinit {
        if !finished {
            try? handle.close()
            try? FileManager.default.removeItem(at: temporaryURL)
        }
    }

    /// Appends uncompressed bytes.
    public func write(_ data: Data) throws {
        precondition(!finished, "GzipWriter.write after finish()")
        buffer.append(contentsOf: data)
        if buffer.count >= blockSize { try flushBlock(isFinal: false) }
    }

    /// Appends the UTF-8 bytes of `text`.
    public func write(_ text: String) throws {
        try write(Data(text.utf8))
    }

    /// Writes the last block and trailer, then renames the file into place.
    /// - Throws: ``GzipError`` with reason `.io`.
    public func finish() throws {
        guard !finished else { return }
        try flushBlock(isFinal: true)
        try write(raw: Data(Gzip.trailer(crc: crc.value, size: size)))
        do {
            try handle.synchronize()
            try handle.close()
        } catch {
            throw GzipError(file: url.path, offset: 0, reason: .io("cannot write: \(error.localizedDescription)"))
        }
        finished = true
        do {
            try AtomicFile.moveIntoPlace(temporaryURL, to: url)
        } catch {
            throw GzipError(file: url.path, offset: 0, reason: .io("\(error)"))
        }
    }

    private func flushBlock(isFinal: Bool) throws {
        buffer.withUnsafeBytes { bytes in
            crc.update(bytes)
            deflater.compress(bytes, isFinal: isFinal)
        }
        size &+= UInt32(truncatingIfNeeded: buffer.count)
        buffer.removeAll(keepingCapacity: true)
        try write(raw: deflater.takeOutput())
    }

    private func write(raw: Data) throws {
        do { try handle.write(contentsOf: raw) } catch {
            throw GzipError(file: url.path, offset: 0, reason: .io("cannot write: \(error.localizedDescription)"))
        }
    }
}
