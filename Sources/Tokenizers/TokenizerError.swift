/// An error raised while loading, parsing or training a tokenizer.
///
/// Every case names *where* the problem is (a file, or a JSON path such as
/// `pre_tokenizer.pretokenizers[1].type`) and its description says what to do about it.
public enum TokenizerError: Error, Equatable, CustomStringConvertible {
    /// A file could not be read.
    case unreadableFile(path: String, reason: String)
    /// A model folder has no tokenizer.json.
    case noTokenizer(directory: String)
    /// The bytes are not valid JSON (truncated, corrupted, wrong encoding).
    case malformedJSON(source: String, offset: Int, reason: String)
    /// A required field is absent.
    case missingField(path: String)
    /// A field holds a value of the wrong JSON type.
    case wrongType(path: String, expected: String, found: String)
    /// A component (normalizer, pre-tokenizer, model, …) this library does not implement.
    case unsupported(path: String, value: String, supported: [String])
    /// A field has the right type but an unusable value (unknown token in a merge, bad regex, …).
    case invalidValue(path: String, reason: String)
    /// A key of `tokenizer_config.json` or `special_tokens_map.json` (`file`) has an unusable value
    /// (`key` nil: the whole document).
    case invalidConfiguration(file: String, key: String?, reason: String)
    /// Training could not proceed with the given settings.
    case invalidTrainingConfiguration(reason: String)

    public var description: String {
        switch self {
        case let .unreadableFile(path, reason):
            let trimmed = reason.hasSuffix(".") ? String(reason.dropLast()) : reason
            return "Cannot read '\(path)': \(trimmed). Check the path and its permissions."
        case let .noTokenizer(directory):
            return "\(directory) has no tokenizer.json. Copy the tokenizer files (tokenizer.json, tokenizer_config.json, "
                + "special_tokens_map.json) of the model it was made from into it; a folder with only a SentencePiece "
                + "tokenizer.model gets a tokenizer.json from transformers' AutoTokenizer.from_pretrained(folder).save_pretrained(folder)."
        case let .malformedJSON(source, offset, reason):
            return "\(source) is not valid JSON (byte \(offset): \(reason)). "
                + "The file may be truncated or corrupted; download it again."
        case let .missingField(path):
            return "Missing required field '\(path)' in tokenizer.json."
        case let .wrongType(path, expected, found):
            return "Field '\(path)' should be \(expected) but is \(found)."
        case let .unsupported(path, value, supported):
            return "\(path) = \"\(value)\" is not supported. Supported: \(supported.joined(separator: ", "))."
        case let .invalidValue(path, reason):
            return "Invalid value at '\(path)': \(reason)."
        case let .invalidConfiguration(file, key, reason):
            let place = key.map { "'\($0)' in \(file)" } ?? file
            return "Invalid \(place): \(reason). Fix or remove it (transformers reads the same keys)."
        case let .invalidTrainingConfiguration(reason):
            return "Cannot train tokenizer: \(reason)."
        }
    }
}
