import Foundation

/// A Hugging Face tokenizer loaded from a `tokenizer.json` file, encoding and decoding exactly
/// like the Rust `tokenizers` library.
///
/// The pipeline is HF's: added tokens are cut out of the text, the rest is normalized,
/// pre-tokenized into pieces, each piece is encoded by the BPE model, and a post-processor adds
/// special tokens. A `truncation` or `padding` section in the file is applied as HF applies it.
/// Decoding maps ids back to token strings and runs the decoder chain.
///
/// ```swift
/// let tokenizer = try Tokenizer(directory: URL(fileURLWithPath: "models/llama-3"))
/// let ids = tokenizer.encode("Hello world")          // [128000, 9906, 1917]
/// let text = tokenizer.decode(ids, skipSpecialTokens: true)
/// ```
///
/// A `Tokenizer` is safe to use from several threads; the BPE cache is locked.
public final class Tokenizer: @unchecked Sendable {
    let normalizer: Normalizer?
    let preTokenizer: PreTokenizer?
    let model: BPEModel
    let addedVocabulary: AddedVocabulary
    let postProcessor: PostProcessor?
    let decoder: TokenDecoder?
    let truncation: Truncation?
    let padding: Padding?

    /// Beginning-of-sequence token (from `tokenizer_config.json` or `special_tokens_map.json`, else the template's first special token).
    public let bosToken: String?
    /// End-of-sequence token (from `tokenizer_config.json` or `special_tokens_map.json`, else the template's last special token).
    public let eosToken: String?
    /// Padding token (from `tokenizer_config.json` or `special_tokens_map.json`).
    public let padToken: String?
    /// Unknown token (from `tokenizer_config.json` or `special_tokens_map.json`, else the model's `unk_token`).
    public let unknownToken: String?

    init(normalizer: Normalizer?, preTokenizer: PreTokenizer?, model: BPEModel, addedTokens: [AddedToken],
         postProcessor: PostProcessor?, decoder: TokenDecoder?, truncation: Truncation?, padding: Padding?,
         specialTokens: SpecialTokenNames) {
        self.truncation = truncation
        self.padding = padding
        self.normalizer = normalizer
        self.preTokenizer = preTokenizer
        self.model = model
        self.addedVocabulary = AddedVocabulary(tokens: addedTokens, normalizer: normalizer)
        self.postProcessor = postProcessor
        self.decoder = decoder
        bosToken = specialTokens.bos
        eosToken = specialTokens.eos
        padToken = specialTokens.pad
        unknownToken = specialTokens.unk
    }

    // MARK: - Vocabulary

    /// Number of distinct ids: the model vocabulary plus added tokens outside it
    /// (HF `get_vocab_size(with_added_tokens=True)`).
    public var vocabularySize: Int {
        model.vocabulary.count + addedVocabulary.tokens.filter { model.tokensById[$0.id] == nil }.count
    }

    /// The largest id `encode` can produce — of the model vocabulary, the added tokens, the post-processor's special
    /// tokens and the padding id — with its token text (nil for an empty vocabulary). A model whose embedding has
    /// no row for it would fail on the first text that contains the token.
    public var largestTokenId: (id: Int, token: String)? {
        let candidates = [model.tokensById.keys.max(), addedVocabulary.tokens.map(\.id).max(),
                          postProcessor?.specialIds.max(), padding?.padId].compactMap { $0 }
        guard let id = candidates.max() else { return nil }
        return (id, idToToken(id) ?? "<id \(id) of the post_processor or padding>")
    }

    /// The added tokens of the file, in file order.
    public var addedTokens: [AddedToken] { addedVocabulary.tokens }

    /// The id of a token string (added tokens first, then the model vocabulary); byte-exact.
    public func tokenToId(_ token: String) -> Int? {
        addedVocabulary.idsByContent[TokenKey(token)] ?? model.tokenId(token)
    }

    /// The token string of an id, or nil when the id is unknown.
    public func idToToken(_ id: Int) -> String? {
        addedVocabulary.tokensById[id]?.content ?? model.tokensById[id]
    }

    /// Id of `bosToken`, if it is in the vocabulary.
    public var bosTokenId: Int? { bosToken.flatMap(tokenToId) }
    /// Id of `eosToken`, if it is in the vocabulary.
    public var eosTokenId: Int? { eosToken.flatMap(tokenToId) }
    /// Id of `padToken`, if it is in the vocabulary.
    public var padTokenId: Int? { padToken.flatMap(tokenToId) }
    /// Id of `unknownToken`, if it is in the vocabulary.
    public var unknownTokenId: Int? { unknownToken.flatMap(tokenToId) }

    // MARK: - Encoding and decoding

    /// Encodes text to token ids.
    /// - Parameters:
    ///   - text: any string; special-token text such as `<|im_start|>` becomes its id.
    ///   - addSpecialTokens: apply the post-processor (e.g. Llama's leading `<s>`), like HF's default.
    /// - Returns: the same ids as HF `tokenizer.encode(text, add_special_tokens=…).ids`.
    public func encode(_ text: String, addSpecialTokens: Bool = true) -> [Int] {
        var ids: [Int] = []
        ids.reserveCapacity(text.utf8.count / 3 + 2)
        for segment in addedVocabulary.segments(of: text, normalizer: normalizer) {
            switch segment {
            case let .token(id):
                ids.append(id)
            case let .text(piece, isAtInputStart):
                let start = PreToken(text: piece, isAtInputStart: isAtInputStart)
                let pieces = preTokenizer?([start]) ?? [start]
                for preToken in pieces { model.encode(preToken, into: &ids) }
            }
        }
        if let truncation = truncation {
            ids = truncation(ids, reserving: addSpecialTokens ? postProcessor?.addedCount ?? 0 : 0)
        }
        if addSpecialTokens, let postProcessor = postProcessor { ids = postProcessor(ids) }
        if let padding = padding { ids = padding(ids) }
        return ids
    }

    /// Decodes token ids to text.
    /// - Parameters:
    ///   - ids: token ids; unknown ids are skipped.
    ///   - skipSpecialTokens: drop added tokens marked special (`<s>`, `<|im_end|>`).
    /// - Returns: the same text as HF `tokenizer.decode(ids, skip_special_tokens=…)`.
    public func decode(_ ids: [Int], skipSpecialTokens: Bool = false) -> String {
        var tokens: [String] = []
        tokens.reserveCapacity(ids.count)
        for id in ids {
            if let added = addedVocabulary.tokensById[id] {
                if skipSpecialTokens && added.isSpecial { continue }
                tokens.append(added.content)
            } else if let token = model.tokensById[id] {
                tokens.append(token)
            }
        }
        guard let decoder = decoder else { return tokens.joined(separator: " ") }
        return decoder(tokens).joined()
    }
}
