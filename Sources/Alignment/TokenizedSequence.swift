import Datasets
import Foundation
import LanguageModels
import Tensors
import Tokenizers

/// Token ids with a mask of the tokens that are trained on (completion or assistant tokens).
public struct TokenizedSequence: Equatable, Sendable {
    public var ids: [Int32]
    /// true where the token is a training target.
    public var lossMask: [Bool]

    public init(ids: [Int32], lossMask: [Bool]) {
        precondition(ids.count == lossMask.count, "\(ids.count) ids with \(lossMask.count) mask values")
        self.ids = ids
        self.lossMask = lossMask
    }

    /// Keeps the first `length` tokens; returns whether anything was cut.
    @discardableResult
    public mutating func truncate(to length: Int) -> Bool {
        guard ids.count > length else { return false }
        ids.removeLast(ids.count - length)
        lossMask.removeLast(lossMask.count - length)
        return true
    }
}

/// Turns dataset text into token ids the way TRL does: standard text through the tokenizer, conversations
/// through the chat template (whose assistant mask marks the tokens to learn).
public struct ExampleEncoder: Sendable {
    public let tokenizer: Tokenizer
    /// Encodes a conversation: ids and which tokens are assistant output. `addGenerationPrompt` ends the text
    /// where the assistant's reply would begin.
    public var encodeConversation: (@Sendable (_ messages: [Message], _ addGenerationPrompt: Bool) throws -> (ids: [Int32], assistantMask: [Bool]))?

    /// Why there is no conversation encoder (e.g. an unrecognised template), reported on conversational data.
    public var chatTemplateProblem: String?

    public init(tokenizer: Tokenizer,
                encodeConversation: (@Sendable ([Message], Bool) throws -> (ids: [Int32], assistantMask: [Bool]))? = nil) {
        self.tokenizer = tokenizer
        self.encodeConversation = encodeConversation
    }

    public var endOfSequence: Int32? { tokenizer.eosTokenId.map(Int32.init) }
    /// The id used for padding: the tokenizer's pad token, else its eos, else 0 (never a training target).
    public var padding: Int32 { Int32(tokenizer.padTokenId ?? tokenizer.eosTokenId ?? 0) }

    public func encode(_ text: String, addSpecialTokens: Bool = true) -> [Int32] {
        tokenizer.encode(text, addSpecialTokens: addSpecialTokens).map(Int32.init)
    }

    func conversation(_ messages: [Message], addGenerationPrompt: Bool, line: Int) throws -> (ids: [Int32], assistantMask: [Bool]) {
        guard let encodeConversation else {
            throw TrainingError.data("line \(line): conversational data needs a chat template"
                                     + (chatTemplateProblem.map { " (\($0))" } ?? "") + "; choose one with --chat-template NAME")
        }
        return try encodeConversation(messages, addGenerationPrompt)
    }

    /// Appends eos (trained on) unless the sequence already ends with it.
    func appendingEndOfSequence(_ sequence: TokenizedSequence) -> TokenizedSequence {
        guard let eos = endOfSequence, sequence.ids.last != eos else { return sequence }
        return TokenizedSequence(ids: sequence.ids + [eos], lossMask: sequence.lossMask + [true])
    }
}

/// A right-padded batch of sequences with next-token targets (−100 where no loss is taken).
struct CausalBatch {
    let ids: [Int32]
    let targets: [Int32]
    let batch: Int
    let time: Int
    /// Number of real (non-padding) tokens per sequence.
    let lengths: [Int]

    static let ignoreIndex: Int32 = -100

    /// Pads `sequences` on the right; the target at t is the token at t + 1 when that token is in the loss mask.
    init(_ sequences: [TokenizedSequence], padding: Int32) {
        batch = sequences.count
        time = max(1, sequences.map(\.ids.count).max() ?? 1)
        lengths = sequences.map(\.ids.count)
        var ids: [Int32] = [], targets: [Int32] = []
        ids.reserveCapacity(batch * time); targets.reserveCapacity(batch * time)
        for sequence in sequences {
            let count = sequence.ids.count
            ids += sequence.ids + [Int32](repeating: padding, count: time - count)
            for t in 0..<time {
                targets.append(t + 1 < count && sequence.lossMask[t + 1] ? sequence.ids[t + 1] : Self.ignoreIndex)
            }
        }
        self.ids = ids
        self.targets = targets
    }

    /// Runs the model (its logits are never materialised: see `ModelOutput.targetLogProbabilities`). Padding is on
    /// the right, so causal attention never lets a real token see it.
    /// - Parameter maskingPadding: also hide padding keys from the padding positions, as transformers does with an
    ///   attention mask — only the logits at padding positions change (ORPO's `logits/*` metrics average them).
    func output(_ model: any CausalLanguageModel, maskingPadding: Bool = false) -> ModelOutput {
        var mask: [UInt8]?
        if maskingPadding {
            mask = lengths.flatMap { length in (0..<time).map { $0 < length ? UInt8(1) : 0 } }
        }
        return model.forward(ModelInput(ids: ids, batch: batch, time: time, attentionMask: mask), cache: nil)
    }

    /// Σ over each sequence's target tokens of log p(target) — (B), on the tape — the target counts, and with
    /// `statistics` the vocabulary statistics of every target position.
    func sequenceLogProbabilities(_ output: ModelOutput, statistics: Bool = false) -> (Tensor, [Int], Tensor.VocabularyStatistics?) {
        let (perToken, found) = output.targetLogProbabilities(targets, ignoreIndex: Self.ignoreIndex, statistics: statistics)  // (B, T)
        let counts = (0..<batch).map { b in (0..<time).filter { targets[b * time + $0] != Self.ignoreIndex }.count }
        return (perToken.sum(axis: 1), counts, found)
    }
}

extension ExampleEncoder {
    /// An encoder whose conversations go through `chatTemplate`.
    public init(tokenizer: Tokenizer, chatTemplate: ChatTemplate?) {
        self.init(tokenizer: tokenizer, encodeConversation: chatTemplate.map { template in
            { @Sendable messages, addGenerationPrompt in
                try template.encode(messages.map { ChatMessage(role: $0.role.rawValue, content: $0.content) },
                                    tokenizer: tokenizer, addGenerationPrompt: addGenerationPrompt)
            }
        })
    }

    /// The tokenizer of a model folder and its chat template (recognised from tokenizer_config.json or named).
    public static func load(directory: URL, chatTemplate name: String? = nil) throws -> ExampleEncoder {
        let tokenizer = try PretrainedModel.tokenizer(at: directory)
        if let name {
            return ExampleEncoder(tokenizer: tokenizer, chatTemplate: try ChatTemplate(named: name, bosToken: tokenizer.bosToken, eosToken: tokenizer.eosToken))
        }
        do {
            return ExampleEncoder(tokenizer: tokenizer, chatTemplate: try ChatTemplate(directory: directory))
        } catch {
            // Standard-text data needs no template: report why there is none only if a conversation comes.
            var encoder = ExampleEncoder(tokenizer: tokenizer)
            encoder.chatTemplateProblem = "\(error)"
            return encoder
        }
    }
}
