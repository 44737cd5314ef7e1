import Foundation

/// A corrupt, truncated or unreadable gzip/DEFLATE stream, or an I/O failure.
///
/// Every decoding error names the input (a file path, or the name given to ``Gzip/decompress(_:name:)``) and the
/// byte offset in the *compressed* input where the problem was detected, so a damaged download can be located.
public struct GzipError: Error, Equatable, CustomStringConvertible, LocalizedError {
    /// What went wrong.
    public enum Reason: Equatable, Sendable {
        /// The input does not start with the gzip magic bytes 1f 8b.
        case notGzip
        /// The compression method byte is not 8 (DEFLATE).
        case unsupportedMethod(UInt8)
        /// Reserved header flag bits are set.
        case reservedFlags(UInt8)
        /// The header CRC-16 (FHCRC) does not match.
        case headerChecksumMismatch
        /// The input ends in the middle of a member.
        case truncated
        /// A block header uses the reserved block type 3.
        case invalidBlockType
        /// A stored block's LEN is not the complement of its NLEN.
        case invalidStoredLength
        /// A Huffman code description is invalid, or the data uses a code that is not defined.
        case invalidHuffmanCode(String)
        /// A back-reference points before the start of the output (`available` bytes so far in the member).
        case distanceTooFarBack(available: Int)
        /// The CRC-32 in the member trailer does not match the decompressed data.
        case checksumMismatch(expected: UInt32, actual: UInt32)
        /// ISIZE in the member trailer does not match the decompressed length (mod 2^32).
        case sizeMismatch(expected: UInt32, actual: UInt32)
        /// Bytes after the last member that are neither zero padding nor the start of another member.
        case trailingGarbage
        /// The file could not be read or written.
        case io(String)
        /// A line is not valid UTF-8 (``LineReader``); `line` is 1-based.
        case invalidUTF8(line: Int)
        /// A line is longer than ``InputLimits/maximumLineBytes`` (``LineReader``); `line` is 1-based.
        case lineTooLong(line: Int, limit: Int)
        /// The data decompresses to more than `limit` bytes (``InputLimits/decompressedByteLimit(compressedSize:)``).
        case expansionTooLarge(limit: Int, compressedSize: Int)
    }

    /// The input's name (usually its path).
    public let file: String
    /// Byte offset in the compressed input (0 for I/O errors).
    public let offset: Int
    /// What went wrong.
    public let reason: Reason

    /// Creates an error.
    public init(file: String, offset: Int, reason: Reason) {
        self.file = file
        self.offset = offset
        self.reason = reason
    }

    public var description: String {
        let detail: String
        switch reason {
        case .notGzip: detail = "not a gzip stream (expected magic bytes 1f 8b)"
        case .unsupportedMethod(let method): detail = "unsupported compression method \(method) (only 8, DEFLATE, exists)"
        case .reservedFlags(let flags): detail = "reserved header flag bits set (FLG=0x\(String(flags, radix: 16)))"
        case .headerChecksumMismatch: detail = "header CRC-16 mismatch; the header is corrupt"
        case .truncated: detail = "unexpected end of data; the file is truncated (incomplete download?)"
        case .invalidBlockType: detail = "invalid DEFLATE block type 3; the data is corrupt"
        case .invalidStoredLength: detail = "stored block length does not match its complement; the data is corrupt"
        case .invalidHuffmanCode(let what): detail = "invalid Huffman code: \(what); the data is corrupt"
        case let .distanceTooFarBack(available):
            detail = "back-reference reaches before the \(available) bytes of output so far; the data is corrupt"
        case let .checksumMismatch(expected, actual):
            detail = "CRC-32 mismatch (trailer 0x\(String(expected, radix: 16)), data 0x\(String(actual, radix: 16))); the data is corrupt"
        case let .sizeMismatch(expected, actual):
            detail = "size mismatch (trailer says \(expected) bytes, decoded \(actual)); the data is corrupt"
        case .trailingGarbage: detail = "trailing bytes after the last gzip member are not another member"
        case .io(let message): return "\(file): \(message)"
        case .invalidUTF8(let line): return "\(file):\(line): line is not valid UTF-8"
        case let .lineTooLong(line, limit):
            return "\(file):\(line): line is longer than \(InputLimits.describe(limit: limit)); if the file is "
                + "genuine, raise the limit with CHARTER_MAX_LINE_BYTES=<bytes>"
        case let .expansionTooLarge(limit, compressedSize):
            return "\(file): decompresses to more than \(InputLimits.describe(bytes: limit)) from \(InputLimits.describe(bytes: compressedSize)) "
                + "of gzip data (a gzip bomb?); if the file is genuine, raise the limit with CHARTER_MAX_GZIP_RATIO=<ratio> "
                + "(default \(InputLimits.defaultMaximumCompressionRatio); DEFLATE cannot exceed 1032), and CHARTER_MAX_GZIP_BYTES if you set it"
        }
        return "\(file): byte \(offset): \(detail)"
    }

    public var errorDescription: String? { description }
}
