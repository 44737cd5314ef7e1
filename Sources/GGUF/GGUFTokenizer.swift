import JSON
import Tokenizers

/// The tokenizer a GGUF file describes in its metadata, as the `tokenizer.json` and `tokenizer_config.json` that
/// transformers builds from it (`integrations/gguf/gguf_tokenizer_mapping.py`), so that Charter's one tokenizer
/// loader reads it and `charter convert` writes it.
///
/// - `tokenizer.ggml.model` "gpt2": byte-level BPE from `tokens` and `merges` (tokens outside the byte alphabet are
///   respelled in it); text split by the regex `tokenizer.ggml.pre` names, else GPT-2's.
/// - "llama": SentencePiece as BPE with byte fallback (`LlamaTokenizer`): merges from the file, else recovered from
///   the vocabulary ranked by `scores`; Metaspace with a prefix space; `<s>` added unless `add_bos_token` is false.
/// Tokens typed CONTROL (3) become special added tokens, USER_DEFINED (4) plain added tokens.
public struct GGUFTokenizer {
    /// tokenizer.json.
    public let tokenizerJSON: JSONValue
    /// tokenizer_config.json: special tokens, `add_bos_token`/`add_eos_token` and `chat_template`.
    public let configurationJSON: JSONValue

    /// Token types (`llama_token_type`).
    enum TokenType: Int { case normal = 1, unknown = 2, control = 3, userDefined = 4, unused = 5, byte = 6 }

    /// Builds both files from `file`'s metadata.
    /// - Throws: ``GGUFError`` naming the metadata key that is missing, mistyped or out of range.
    public init(_ file: GGUFFile) throws {
        let path = file.url.path
        func strings(_ key: String) throws -> [String]? {
            guard let value = file[key] else { return nil }
            guard let array = value.arrayValue else { throw GGUFError.missingMetadata(file: path, key: key, expected: "an array of strings") }
            return try array.map {
                guard let text = $0.stringValue else { throw GGUFError.missingMetadata(file: path, key: key, expected: "an array of strings") }
                return text
            }
        }
        func numbers(_ key: String) throws -> [Double]? {
            guard let value = file[key] else { return nil }
            guard let array = value.arrayValue else { throw GGUFError.missingMetadata(file: path, key: key, expected: "an array of numbers") }
            return try array.map {
                guard let number = $0.doubleValue else { throw GGUFError.missingMetadata(file: path, key: key, expected: "an array of numbers") }
                return number
            }
        }
        guard let model = file["tokenizer.ggml.model"]?.stringValue else {
            throw GGUFError.missingMetadata(file: path, key: "tokenizer.ggml.model", expected: "a string (gpt2 or llama)")
        }
        guard let tokens = try strings("tokenizer.ggml.tokens"), !tokens.isEmpty else {
            throw GGUFError.missingMetadata(file: path, key: "tokenizer.ggml.tokens", expected: "a non-empty array of strings")
        }
        let types = try numbers("tokenizer.ggml.token_type").map { $0.map { TokenType(rawValue: Int($0)) } }
        if let types, types.count != tokens.count {
            throw GGUFError.missingMetadata(file: path, key: "tokenizer.ggml.token_type", expected: "one type per token (\(tokens.count))")
        }
        let merges = try strings("tokenizer.ggml.merges")
        func special(_ key: String) throws -> String? {
            guard let value = file["tokenizer.ggml.\(key)"] else { return nil }
            guard let id = value.intValue, tokens.indices.contains(id) else {
                throw GGUFError.missingMetadata(file: path, key: "tokenizer.ggml.\(key)", expected: "a token id below \(tokens.count)")
            }
            return tokens[id]
        }
        let bos = try special("bos_token_id"), eos = try special("eos_token_id")
        let unknown = try special("unknown_token_id"), padding = try special("padding_token_id")

        var modelJSON: JSONValue
        var spelled = tokens
        let byteLevel: Bool
        switch model {
        case "gpt2":
            byteLevel = true
            let alphabet = Set(ByteLevelAlphabet.scalars)
            spelled = tokens.map { token in token.unicodeScalars.allSatisfy(alphabet.contains) ? token : ByteLevelAlphabet.encode(token) }
            guard let merges else {
                throw GGUFError.missingMetadata(file: path, key: "tokenizer.ggml.merges", expected: "an array of strings for a gpt2 (BPE) vocabulary")
            }
            modelJSON = Self.bpe(vocabulary: spelled, merges: try Self.pairs(merges, path: path), byteFallback: false)
        case "llama":
            byteLevel = false
            let pairs: [(String, String)]
            if let merges {
                pairs = try Self.pairs(merges, path: path)
            } else {
                guard let scores = try numbers("tokenizer.ggml.scores"), scores.count == tokens.count else {
                    throw GGUFError.missingMetadata(file: path, key: "tokenizer.ggml.scores", expected: "one score per token (\(tokens.count))")
                }
                pairs = Self.recoveredMerges(tokens: tokens, scores: scores)
            }
            modelJSON = Self.bpe(vocabulary: tokens, merges: pairs, byteFallback: true)
        default:
            throw GGUFError.missingMetadata(file: path, key: "tokenizer.ggml.model", expected: "gpt2 or llama (found \"\(model)\")")
        }

        // Added tokens: CONTROL as special (skipping byte-level ones outside the byte alphabet, which llama.cpp
        // mislabels), USER_DEFINED as plain; both in id order.
        let alphabet = Set(ByteLevelAlphabet.scalars)
        var added: [JSONValue] = []
        for (id, token) in tokens.enumerated() {
            guard let type = types?[id] else { continue }
            let isSpecial: Bool
            if type == .control, !byteLevel || token.unicodeScalars.allSatisfy(alphabet.contains) {
                isSpecial = true
            } else if type == .userDefined {
                isSpecial = false
            } else {
                continue
            }
            added.append(["id": .integer(id), "content": .string(token), "single_word": false, "lstrip": false, "rstrip": false,
                          "normalized": false, "special": .bool(isSpecial)])
        }

        let addBOS = file["tokenizer.ggml.add_bos_token"]?.boolValue ?? (model == "llama")
        let addEOS = file["tokenizer.ggml.add_eos_token"]?.boolValue ?? false
        let preTokenizer: JSONValue, decoder: JSONValue
        if byteLevel, let pre = file["tokenizer.ggml.pre"]?.stringValue, Self.unimplementedSplits.contains(pre) {
            // transformers splits these with regexes Charter's pre-tokenizer does not run; GPT-2's would give other ids.
            throw GGUFError.missingMetadata(file: path, key: "tokenizer.ggml.pre",
                                            expected: "a pre-tokenizer Charter implements (\"\(pre)\" is not; supported: gpt2's default, "
                                                + Self.splitPatterns.keys.sorted().joined(separator: ", ") + ")")
        }
        if byteLevel {
            if let pre = file["tokenizer.ggml.pre"]?.stringValue, let split = Self.splitPatterns[pre] {
                preTokenizer = ["type": "Sequence", "pretokenizers": [
                    ["type": "Split", "pattern": ["Regex": .string(split)], "behavior": "Isolated", "invert": false],
                    ["type": "ByteLevel", "add_prefix_space": false, "trim_offsets": true, "use_regex": false],
                ]]
            } else {
                preTokenizer = ["type": "ByteLevel", "add_prefix_space": false, "trim_offsets": true, "use_regex": true]
            }
            decoder = ["type": "ByteLevel", "add_prefix_space": true, "trim_offsets": true, "use_regex": true]
        } else {
            preTokenizer = ["type": "Metaspace", "replacement": "\u{2581}", "prepend_scheme": "first", "split": false]
            decoder = ["type": "Sequence", "decoders": [
                ["type": "Replace", "pattern": ["String": "\u{2581}"], "content": " "], ["type": "ByteFallback"], ["type": "Fuse"],
                ["type": "Strip", "content": " ", "start": 1, "stop": 0],
            ]]
        }
        tokenizerJSON = [
            "version": "1.0", "truncation": nil, "padding": nil, "added_tokens": .array(added), "normalizer": nil,
            "pre_tokenizer": preTokenizer,
            "post_processor": Self.template(bos: addBOS ? bos.map { ($0, tokens.firstIndex(of: $0) ?? 0) } : nil,
                                            eos: addEOS ? eos.map { ($0, tokens.firstIndex(of: $0) ?? 0) } : nil),
            "decoder": decoder, "model": modelJSON,
        ]
        var configuration: [JSON.JSONValue.Member] = [
            .init("add_bos_token", .bool(addBOS)), .init("add_eos_token", .bool(addEOS)),
            .init("bos_token", bos.map(JSONValue.string) ?? nil), .init("eos_token", eos.map(JSONValue.string) ?? nil),
            .init("unk_token", unknown.map(JSONValue.string) ?? nil), .init("pad_token", padding.map(JSONValue.string) ?? nil),
            .init("tokenizer_class", "PreTrainedTokenizerFast"),
        ]
        if let template = file["tokenizer.chat_template"]?.stringValue { configuration.append(.init("chat_template", .string(template))) }
        configurationJSON = .object(configuration)
    }

    /// "a b" merge strings as pairs.
    static func pairs(_ merges: [String], path: String) throws -> [(String, String)] {
        try merges.enumerated().map { index, merge in
            let parts = merge.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: false)
            guard parts.count == 2 else {
                throw GGUFError.missingMetadata(file: path, key: "tokenizer.ggml.merges[\(index)]", expected: "two tokens separated by a space")
            }
            return (String(parts[0]), String(parts[1]))
        }
    }

    /// A BPE model object as the `tokenizers` library serialises it.
    static func bpe(vocabulary: [String], merges: [(String, String)], byteFallback: Bool) -> JSONValue {
        // A token spelled twice keeps its last id, as Python's `{token: index for ...}` does.
        var seen: [String: Int] = [:]
        for (id, token) in vocabulary.enumerated() { seen[token] = id }
        let vocab = JSONValue.object(vocabulary.enumerated().compactMap { id, token in
            seen[token] == id ? JSONValue.Member(token, .integer(id)) : nil
        })
        return [
            "type": "BPE", "dropout": nil, "unk_token": nil,
            "continuing_subword_prefix": byteFallback ? nil : "", "end_of_word_suffix": byteFallback ? nil : "",
            "fuse_unk": .bool(byteFallback), "byte_fallback": .bool(byteFallback), "ignore_merges": false,
            "vocab": vocab, "merges": .array(merges.map { [.string($0.0), .string($0.1)] }),
        ]
    }

    /// TemplateProcessing adding `bos` before and `eos` after each sequence.
    static func template(bos: (String, Int)?, eos: (String, Int)?) -> JSONValue {
        func sequence(_ id: String, _ typeID: Int) -> [JSONValue] {
            var items: [JSONValue] = []
            if let bos { items.append(["SpecialToken": ["id": .string(bos.0), "type_id": .integer(typeID)]]) }
            items.append(["Sequence": ["id": .string(id), "type_id": .integer(typeID)]])
            if let eos { items.append(["SpecialToken": ["id": .string(eos.0), "type_id": .integer(typeID)]]) }
            return items
        }
        var specials: [JSONValue.Member] = []
        for (token, id) in [bos, eos].compactMap({ $0 }) where !specials.contains(where: { $0.key == token }) {
            specials.append(.init(token, ["id": .string(token), "ids": [.integer(id)], "tokens": [.string(token)]]))
        }
        return ["type": "TemplateProcessing", "single": .array(sequence("A", 0)), "pair": .array(sequence("A", 0) + sequence("B", 1)),
                "special_tokens": .object(specials)]
    }

    /// Merges implied by a SentencePiece vocabulary (transformers' `generate_merges(vocab, scores)`): every split of
    /// every token into two tokens of the vocabulary, best-scored token first, then shorter left and right parts.
    static func recoveredMerges(tokens: [String], scores: [Double]) -> [(String, String)] {
        var ids: [String: Int] = [:]
        for (id, token) in tokens.enumerated() { ids[token] = id }
        // Python's dict(zip(tokens, scores)) keeps the first position and the last score of a repeated token.
        var score: [String: Double] = [:]
        var order: [String] = []
        for token in tokens where score[token] == nil {
            score[token] = 0
            order.append(token)
        }
        for (token, value) in zip(tokens, scores) { score[token] = value }
        var candidates: [(left: String, right: String, score: Double, leftLength: Int, rightLength: Int, rank: Int)] = []
        for token in order {
            // Python slices strings by code point, so cuts fall between Unicode scalars (not Swift's characters).
            let characters = Array(token.unicodeScalars)
            var local: [(left: String, right: String, leftID: Int, rightID: Int)] = []
            for cut in characters.indices.dropFirst() {
                let left = String(String.UnicodeScalarView(characters[..<cut])), right = String(String.UnicodeScalarView(characters[cut...]))
                if let leftID = ids[left], let rightID = ids[right] { local.append((left, right, leftID, rightID)) }
            }
            local.sort { ($0.leftID, $0.rightID) < ($1.leftID, $1.rightID) }
            for pair in local {
                candidates.append((pair.left, pair.right, score[token] ?? 0, pair.left.unicodeScalars.count,
                                   pair.right.unicodeScalars.count, candidates.count))
            }
        }
        // Python sorts descending by (score, len(left), len(right)), stably.
        candidates.sort { a, b in
            if a.score != b.score { return a.score > b.score }
            if a.leftLength != b.leftLength { return a.leftLength > b.leftLength }
            if a.rightLength != b.rightLength { return a.rightLength > b.rightLength }
            return a.rank < b.rank
        }
        return candidates.map { ($0.left, $0.right) }
    }

    /// `tokenizer.ggml.pre` values transformers splits with regexes not implemented here (Tekken's, GPT-4o's, Qwen3.5's).
    static let unimplementedSplits: Set<String> = ["tekken", "gpt-4o", "llama4", "kanana2", "talkie", "minimax-m2", "qwen35"]

    /// transformers' `GGUF_PRE_TOKENIZER_SPLITS`: the regex each `tokenizer.ggml.pre` splits text with.
    static let splitPatterns: [String: String] = {
        let llama3 = #"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"#
        let qwen2 = #"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"#
        var table: [String: String] = [:]
        for name in ["llama3", "llama-v3", "llama-bpe", "falcon3", "falcon-h1", "pixtral", "midm-2.0", "lfm2", "jina-v5-nano", "dbrx", "smaug-bpe"] {
            table[name] = llama3
        }
        for name in ["qwen2", "deepseek-r1-qwen", "kormo", "f2llmv2", "megrez"] { table[name] = qwen2 }
        return table
    }()
}
