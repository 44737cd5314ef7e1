import Foundation

/// Everything that can go wrong reading or writing a safetensors checkpoint.
///
/// Checkpoints are untrusted input: every malformed header, offset or shape is reported as one of these
/// errors (never a crash or an out-of-bounds read). Each message names the file and, where it applies, the tensor
/// and header field, and says what to do.
public enum SafeTensorsError: Error, Equatable, CustomStringConvertible, LocalizedError {
    /// The file could not be opened, mapped or read.
    case unreadable(file: String, reason: String)
    /// The file is shorter than the 8-byte header-length prefix.
    case tooSmall(file: String, size: Int)
    /// The declared header length exceeds the 100 MiB limit.
    case headerTooLarge(file: String, length: UInt64, limit: Int)
    /// The declared header length runs past the end of the file.
    case headerPastEnd(file: String, length: UInt64, fileSize: Int)
    /// The header is not valid UTF-8 JSON, or not a JSON object. `offset` is the byte offset in the file.
    case invalidHeader(file: String, offset: Int, reason: String)
    /// One tensor entry (or `__metadata__`) is malformed; `field` is the offending header field.
    case invalidEntry(file: String, tensor: String, field: String, reason: String)
    /// Two tensors claim overlapping bytes of the data section.
    case overlappingTensors(file: String, tensor: String, other: String)
    /// Bytes of the data section belong to no tensor (safetensors requires the data section to be fully covered).
    case uncoveredData(file: String, from: Int, to: Int)
    /// The tensor exists but its dtype cannot be converted (e.g. F8 types).
    case unsupportedDType(file: String, tensor: String, dtype: String)
    /// A model weight stored as integers or booleans (``SafeTensorsFile/weights(_:)``).
    case notFloatingPoint(file: String, tensor: String, dtype: String)
    /// No tensor of that name in the file (or checkpoint).
    case tensorNotFound(file: String, tensor: String)
    /// A tensor name was added twice to a writer, or uses the reserved `__metadata__` key.
    case invalidName(tensor: String, reason: String)
    /// Writing the output failed.
    case writeFailed(file: String, reason: String)
    /// `model.safetensors.index.json` is malformed.
    case invalidIndex(file: String, reason: String)
    /// The index maps a tensor to a shard that does not exist.
    case missingShard(index: String, tensor: String, shard: String)
    /// The index maps a tensor to a shard that does not contain it.
    case tensorMissingFromShard(index: String, tensor: String, shard: String)

    public var description: String {
        switch self {
        case let .unreadable(file, reason):
            return "\(file): cannot read safetensors file: \(reason)"
        case let .tooSmall(file, size):
            return "\(file): file is \(size) bytes, too small to be a safetensors file (needs an 8-byte header length); "
                + "the download may be incomplete"
        case let .headerTooLarge(file, length, limit):
            return "\(file): header length \(length) exceeds the \(limit)-byte limit; the file is corrupt or not safetensors"
        case let .headerPastEnd(file, length, fileSize):
            return "\(file): header length \(length) runs past the end of the \(fileSize)-byte file; "
                + "the file is truncated or not safetensors"
        case let .invalidHeader(file, offset, reason):
            return "\(file): invalid header at byte \(offset): \(reason)"
        case let .invalidEntry(file, tensor, field, reason):
            return "\(file): tensor \"\(tensor)\": field \"\(field)\": \(reason)"
        case let .overlappingTensors(file, tensor, other):
            return "\(file): tensor \"\(tensor)\" overlaps tensor \"\(other)\" in the data section; the header is corrupt"
        case let .uncoveredData(file, from, to):
            return "\(file): data bytes \(from)..<\(to) belong to no tensor; the header is corrupt or the file has trailing bytes"
        case let .unsupportedDType(file, tensor, dtype):
            return "\(file): tensor \"\(tensor)\" has unsupported dtype \(dtype); convert the checkpoint to F32, F16 or BF16"
        case let .notFloatingPoint(file, tensor, dtype):
            return "\(file): tensor \"\(tensor)\" has dtype \(dtype), but a model weight must be floating-point (F32, F16, BF16 "
                + "or F64); integer tensors hold packed quantized weights (GPTQ, AWQ, bitsandbytes) or indices, not weight values. "
                + "Use an unquantized checkpoint"
        case let .tensorNotFound(file, tensor):
            return "\(file): no tensor named \"\(tensor)\""
        case let .invalidName(tensor, reason):
            return "tensor \"\(tensor)\": \(reason)"
        case let .writeFailed(file, reason):
            return "\(file): cannot write safetensors output: \(reason)"
        case let .invalidIndex(file, reason):
            return "\(file): invalid sharded-checkpoint index: \(reason)"
        case let .missingShard(index, tensor, shard):
            return "\(index): tensor \"\(tensor)\" is mapped to \"\(shard)\", which does not exist; the download is incomplete"
        case let .tensorMissingFromShard(index, tensor, shard):
            return "\(index): tensor \"\(tensor)\" is mapped to \"\(shard)\", which does not contain it"
        }
    }

    public var errorDescription: String? { description }
}
