import Foundation
import JSON

extension BPETrainer {
    /// The HF `tokenizer.json` document for a trained byte-level BPE: ByteLevel pre-tokenizer,
    /// post-processor and decoder; special tokens as added tokens; merges as `[left, right]`.
    static func tokenizerJSON(_ result: Result, specialTokenCount: Int) -> JSONValue {
        typealias Member = JSONValue.Member
        let addedTokens: [JSONValue] = result.tokens.prefix(specialTokenCount).enumerated().map { id, token in
            .object([
                Member("id", .number(JSONNumber(id))), Member("content", .string(token)), Member("single_word", .bool(false)),
                Member("lstrip", .bool(false)), Member("rstrip", .bool(false)), Member("normalized", .bool(false)),
                Member("special", .bool(true)),
            ])
        }
        let byteLevel: [Member] = [
            Member("type", .string("ByteLevel")), Member("add_prefix_space", .bool(false)), Member("trim_offsets", .bool(true)),
            Member("use_regex", .bool(true)),
        ]
        let vocabulary = result.tokens.enumerated().map { Member($1, .number(JSONNumber($0))) }
        let merges = result.merges.map { JSONValue.array([.string(result.tokens[$0.left]), .string(result.tokens[$0.right])]) }
        let model: [Member] = [
            Member("type", .string("BPE")), Member("dropout", .null), Member("unk_token", .null),
            Member("continuing_subword_prefix", .null), Member("end_of_word_suffix", .null), Member("fuse_unk", .bool(false)),
            Member("byte_fallback", .bool(false)), Member("ignore_merges", .bool(false)), Member("vocab", .object(vocabulary)),
            Member("merges", .array(merges)),
        ]
        return .object([
            Member("version", .string("1.0")), Member("truncation", .null), Member("padding", .null),
            Member("added_tokens", .array(addedTokens)), Member("normalizer", .null), Member("pre_tokenizer", .object(byteLevel)),
            Member("post_processor", .object(byteLevel)), Member("decoder", .object(byteLevel)), Member("model", .object(model)),
        ])
    }
}
