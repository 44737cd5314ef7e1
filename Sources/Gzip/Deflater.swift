import CZlib
import Foundation

/// A streaming raw DEFLATE (RFC 1951) encoder: zlib's `deflate` with a 32 KiB window.
///
/// Successive ``compress(_:isFinal:)`` calls continue one stream (matches reach back into earlier input);
/// the call with `isFinal` ends it. The gzip framing (header, CRC-32, size) is the caller's.
///
/// ```swift
/// let deflater = Deflater(level: .default)
/// bytes.withUnsafeBytes { deflater.compress($0, isFinal: true) }
/// let packed = deflater.takeOutput()
/// ```
public final class Deflater {
    /// How hard to compress.
    public enum Level: Sendable {
        /// No compression (stored blocks; zlib level 0).
        case stored
        /// Fastest compression (zlib level 1).
        case fast
        /// zlib's default trade-off (level 6, what `gzip` and Python's `gzip` module use).
        case `default`

        /// The zlib level number.
        var zlibLevel: Int32 {
            switch self {
            case .stored: 0
            case .fast: 1
            case .default: 6
            }
        }
    }

    /// The compression level.
    public let level: Level
    /// The z_stream has to stay at one address: zlib checks that its state points back at it.
    private let stream: UnsafeMutablePointer<z_stream>
    private var output = Data()
    private var ended = false
    private static let scratchSize = 1 << 16

    /// Creates an encoder.
    public init(level: Level = .default) {
        self.level = level
        stream = .allocate(capacity: 1)
        stream.initialize(to: z_stream())
        // windowBits -15: raw DEFLATE, 32 KiB window; memLevel 8 is zlib's default.
        let status = deflateInit2_(stream, level.zlibLevel, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY,
                                   ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size))
        precondition(status == Z_OK, "zlib deflateInit2 failed (\(status)): out of memory or an incompatible zlib")
    }

    deinit {
        deflateEnd(stream)
        stream.deinitialize(count: 1)
        stream.deallocate()
    }

    /// Compresses `input`; `isFinal` marks the last call (which may pass no bytes) and ends the stream.
    public func compress(_ input: UnsafeRawBufferPointer, isFinal: Bool) {
        precondition(!ended, "Deflater.compress after the final call")
        var scratch = [UInt8](repeating: 0, count: Self.scratchSize)
        var offset = 0
        scratch.withUnsafeMutableBufferPointer { buffer in
            guard let scratchBase = buffer.baseAddress else { return }
            while true {
                // zlib takes 32-bit lengths: feed at most 1 GiB at a time.
                let count = min(input.count - offset, 1 << 30)
                let isLastPiece = offset + count == input.count
                stream.pointee.next_in = UnsafeMutablePointer(mutating: input.baseAddress?.assumingMemoryBound(to: UInt8.self).advanced(by: offset))
                stream.pointee.avail_in = uInt(count)
                let flush = isFinal && isLastPiece ? Z_FINISH : Z_NO_FLUSH
                var status: Int32
                repeat {
                    stream.pointee.next_out = scratchBase
                    stream.pointee.avail_out = uInt(Self.scratchSize)
                    status = deflate(stream, flush)
                    // Z_BUF_ERROR only means no progress was possible; Z_STREAM_ERROR would be a bug here.
                    precondition(status != Z_STREAM_ERROR, "zlib deflate: inconsistent stream state")
                    output.append(scratchBase, count: Self.scratchSize - Int(stream.pointee.avail_out))
                } while stream.pointee.avail_out == 0 || (flush == Z_FINISH && status != Z_STREAM_END)
                offset += count
                if isLastPiece { break }
            }
        }
        if isFinal { ended = true }
    }

    /// Returns the compressed bytes produced so far and clears them.
    public func takeOutput() -> Data {
        defer { output.removeAll(keepingCapacity: true) }
        return output
    }
}
