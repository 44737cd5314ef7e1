import Foundation

/// Everything that can go wrong reading a GGUF file.
///
/// GGUF files are untrusted input: a truncated file, a count or length that runs past the end, an unknown type id or
/// a tensor whose size overflows is one of these errors, naming the file, the field and its byte offset — never a
/// crash, an out-of-bounds read or an allocation sized from a count that was not checked against the file.
public enum GGUFError: Error, Equatable, CustomStringConvertible, LocalizedError {
    /// The file could not be opened, mapped or read.
    case unreadable(file: String, reason: String)
    /// The first four bytes are not "GGUF".
    case notGGUF(file: String)
    /// A GGUF version this reader does not read (v1 used 32-bit counts; v2 and v3 are read).
    case unsupportedVersion(file: String, version: UInt32)
    /// A field is malformed: `field` names it (`metadata "general.alignment"`, `tensor "blk.0.attn_q.weight" type`),
    /// `offset` is its byte offset in the file.
    case invalidField(file: String, field: String, offset: Int, reason: String)
    /// No tensor of that name.
    case tensorNotFound(file: String, tensor: String)
    /// A metadata key the caller needs is absent or has another type.
    case missingMetadata(file: String, key: String, expected: String)
    /// The tensor's type has no dequantiser here (e.g. IQ2_XXS).
    case unsupportedTensorType(file: String, tensor: String, type: String)

    public var description: String {
        switch self {
        case let .unreadable(file, reason):
            return "\(file): cannot read GGUF file: \(reason)"
        case let .notGGUF(file):
            return "\(file): not a GGUF file (it does not start with the bytes \"GGUF\")"
        case let .unsupportedVersion(file, version):
            return "\(file): GGUF version \(version) is not supported (versions 2 and 3 are); re-convert it with a current llama.cpp"
        case let .invalidField(file, field, offset, reason):
            return "\(file): \(field) at byte \(offset): \(reason); the file is truncated or corrupt"
        case let .tensorNotFound(file, tensor):
            return "\(file): no tensor named \"\(tensor)\""
        case let .missingMetadata(file, key, expected):
            return "\(file): metadata \"\(key)\" is missing or not \(expected)"
        case let .unsupportedTensorType(file, tensor, type):
            return "\(file): tensor \"\(tensor)\" has type \(type), which Charter cannot dequantise (supported: "
                + GGMLType.supported.map(\.name).joined(separator: ", ") + "); re-quantise the model to one of these"
        }
    }

    public var errorDescription: String? { description }
}
