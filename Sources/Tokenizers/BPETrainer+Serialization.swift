import Foundation

extension BPETrainer {
    /// The HF `tokenizer.json` document for a trained byte-level BPE: ByteLevel pre-tokenizer,
    /// post-processor and decoder; special tokens as added tokens; merges as `[left, right]`.
    static func tokenizerJSON(_ result: Result, specialTokenCount: Int) -> JSONValue {
        let addedTokens: [JSONValue] = result.tokens.prefix(specialTokenCount).enumerated().map { id, token in
            .object([
                ("id", .number(Double(id))), ("content", .string(token)), ("single_word", .bool(false)),
                ("lstrip", .bool(false)), ("rstrip", .bool(false)), ("normalized", .bool(false)),
                ("special", .bool(true)),
            ])
        }
        let byteLevel: [(key: String, value: JSONValue)] = [
            ("type", .string("ByteLevel")), ("add_prefix_space", .bool(false)), ("trim_offsets", .bool(true)),
            ("use_regex", .bool(true)),
        ]
        let vocabulary = result.tokens.enumerated().map { (key: $1, value: JSONValue.number(Double($0))) }
        let merges = result.merges.map { JSONValue.array([.string(result.tokens[$0.left]), .string(result.tokens[$0.right])]) }
        let model: [(key: String, value: JSONValue)] = [
            ("type", .string("BPE")), ("dropout", .null), ("unk_token", .null), ("continuing_subword_prefix", .null),
            ("end_of_word_suffix", .null), ("fuse_unk", .bool(false)), ("byte_fallback", .bool(false)),
            ("ignore_merges", .bool(false)), ("vocab", .object(vocabulary)), ("merges", .array(merges)),
        ]
        return .object([
            ("version", .string("1.0")), ("truncation", .null), ("padding", .null),
            ("added_tokens", .array(addedTokens)), ("normalizer", .null), ("pre_tokenizer", .object(byteLevel)),
            ("post_processor", .object(byteLevel)), ("decoder", .object(byteLevel)), ("model", .object(model)),
        ])
    }
}
