import CZlib
import Runtime

/// A resumable raw DEFLATE (RFC 1951) decoder over an in-memory input: zlib's `inflate` with a 32 KiB window.
///
/// ``decode()`` fills one output chunk of at most `chunkSize` bytes and returns it; the chunk stays valid until
/// the next call. zlib keeps its own 32 KiB history, so arbitrarily large streams decode in constant memory.
/// At the end of a stream, ``position`` is the offset of the first input byte after it (where a gzip trailer
/// starts): zlib never takes more input bits than it needs.
final class Inflater {
    let input: MappedFile
    let name: String
    /// Offset of the next input byte zlib has not taken.
    private(set) var position: Int
    /// The final block has been decoded completely.
    private(set) var finished = false
    let chunkSize: Int
    private let output: UnsafeMutablePointer<UInt8>
    /// The z_stream has to stay at one address: zlib checks that its state points back at it.
    private let stream: UnsafeMutablePointer<z_stream>
    private var isInitialized = false

    /// Creates a decoder for the DEFLATE stream starting at byte `start` of `input`.
    /// - Parameter chunkSize: Output bytes produced per ``decode()`` call (at most).
    init(input: MappedFile, name: String, start: Int, chunkSize: Int = 1 << 18) {
        self.input = input
        self.name = name
        self.chunkSize = chunkSize
        position = start
        output = .allocate(capacity: chunkSize)
        stream = .allocate(capacity: 1)
        stream.initialize(to: z_stream())
    }

    deinit {
        if isInitialized { inflateEnd(stream) }
        stream.deinitialize(count: 1)
        stream.deallocate()
        output.deallocate()
    }

    /// Starts a new stream (e.g. the next gzip member) at byte `start`, with no history.
    func reset(start: Int) throws {
        position = start
        finished = false
        stream.pointee.next_in = nil
        stream.pointee.avail_in = 0
        let status: Int32
        if isInitialized {
            status = inflateReset(stream)
        } else {
            // windowBits -15: raw DEFLATE (the gzip framing is parsed by GzipDecoder), 32 KiB window.
            status = inflateInit2_(stream, -15, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size))
            isInitialized = status == Z_OK
        }
        guard status == Z_OK else { throw GzipError(file: name, offset: start, reason: .io("zlib inflateInit failed (\(status))")) }
    }

    /// Decodes up to `chunkSize` bytes; an empty result means the stream has ended (``finished``).
    /// - Throws: ``GzipError`` for corrupt or truncated DEFLATE data.
    func decode() throws -> UnsafeRawBufferPointer {
        guard !finished else { return UnsafeRawBufferPointer(start: output, count: 0) }
        precondition(isInitialized, "Inflater.decode before reset(start:)")
        stream.pointee.next_out = output
        stream.pointee.avail_out = uInt(chunkSize)
        while stream.pointee.avail_out > 0 {
            if stream.pointee.avail_in == 0 {
                guard position < input.count else { break }
                // zlib takes 32-bit lengths: offer at most 1 GiB at a time.
                stream.pointee.next_in = UnsafeMutablePointer(mutating: input.base.assumingMemoryBound(to: UInt8.self) + position)
                stream.pointee.avail_in = uInt(min(input.count - position, 1 << 30))
            }
            let offered = Int(stream.pointee.avail_in)
            let status = inflate(stream, Z_NO_FLUSH)
            position += offered - Int(stream.pointee.avail_in)
            if status == Z_STREAM_END {
                finished = true
                break
            }
            guard status == Z_OK || status == Z_BUF_ERROR else { throw error(status) }
        }
        let produced = chunkSize - Int(stream.pointee.avail_out)
        if produced == 0 && !finished {
            // All input taken, no output possible, stream not ended.
            throw GzipError(file: name, offset: input.count, reason: .truncated)
        }
        return UnsafeRawBufferPointer(start: output, count: produced)
    }

    /// The error for a failed `inflate` call, at the input byte holding the next unread bit.
    private func error(_ status: Int32) -> GzipError {
        // data_type's low 6 bits: bits zlib took from the input but has not used yet.
        let unusedBytes = (Int(stream.pointee.data_type & 63) + 7) / 8
        let offset = max(0, position - unusedBytes)
        guard status == Z_DATA_ERROR else {
            return GzipError(file: name, offset: offset, reason: .io("zlib inflate failed (\(status))"))
        }
        let message = stream.pointee.msg.map { String(cString: $0) } ?? "unknown error"
        let reason: GzipError.Reason
        switch message {
        case "invalid block type": reason = .invalidBlockType
        case "invalid stored block lengths": reason = .invalidStoredLength
        case "invalid distance too far back": reason = .distanceTooFarBack(available: Int(stream.pointee.total_out))
        // Every other DEFLATE data error zlib reports concerns a code table or a code.
        default: reason = .invalidHuffmanCode(message)
        }
        return GzipError(file: name, offset: offset, reason: reason)
    }
}
