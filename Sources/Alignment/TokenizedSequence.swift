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
    /// Lengths of the sequences packed into this row, in order (TRL's `seq_lengths`): each attends only to itself
    /// and its positions start at 0. nil: the row is one sequence.
    public var sequenceLengths: [Int]?

    public init(ids: [Int32], lossMask: [Bool], sequenceLengths: [Int]? = nil) {
        precondition(ids.count == lossMask.count, "\(ids.count) ids with \(lossMask.count) mask values")
        if let sequenceLengths {
            precondition(sequenceLengths.reduce(0, +) == ids.count, "sequence lengths \(sequenceLengths) for \(ids.count) ids")
        }
        self.ids = ids
        self.lossMask = lossMask
        self.sequenceLengths = sequenceLengths
    }

    /// The lengths of the row's sequences: `sequenceLengths`, or the whole row.
    var segmentLengths: [Int] { sequenceLengths ?? [ids.count] }

    /// Tokens that are next-token targets: trained tokens that are not the first of their sequence.
    var targetCount: Int {
        var count = 0, start = 0
        for length in segmentLengths {
            if length > 1 { count += lossMask[(start + 1)..<(start + length)].filter { $0 }.count }
            start += length
        }
        return count
    }

    /// Keeps the first `length` tokens; returns whether anything was cut.
    @discardableResult
    public mutating func truncate(to length: Int) -> Bool {
        guard ids.count > length else { return false }
        ids.removeLast(ids.count - length)
        lossMask.removeLast(lossMask.count - length)
        if let lengths = sequenceLengths {
            var kept: [Int] = [], total = 0
            for piece in lengths where total < length {
                kept.append(min(piece, length - total))
                total += kept[kept.count - 1]
            }
            sequenceLengths = kept
        }
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

/// A right-padded batch of sequences with next-token targets (−100 where no loss is taken). Rows that pack several
/// sequences (`sequenceLengths`), and every row of a padding-free batch, carry segment starts and positions that
/// restart at each sequence, so that no sequence attends to another or predicts the next one's first token.
struct CausalBatch {
    let ids: [Int32]
    let targets: [Int32]
    let batch: Int
    let time: Int
    /// Number of real (non-padding) tokens per row.
    let lengths: [Int]
    /// (B, T) position of each token within its sequence and the row index of that sequence's first token; nil
    /// when every row is one sequence (positions 0..<T).
    let positions: [Int32]?
    let segmentStarts: [Int32]?

    static let ignoreIndex: Int32 = -100

    /// Pads `sequences` on the right; the target at t is the token at t + 1 when that token is in the loss mask and
    /// in the same sequence.
    /// - Parameter paddingFree: concatenate every row into one (TRL's `padding_free`): no padding token is computed,
    ///   and each row's sequences stay separate as in a packed row.
    init(_ sequences: [TokenizedSequence], padding: Int32, paddingFree: Bool = false) {
        let rows: [TokenizedSequence]
        if paddingFree {
            rows = [TokenizedSequence(ids: sequences.flatMap(\.ids), lossMask: sequences.flatMap(\.lossMask),
                                      sequenceLengths: sequences.flatMap(\.segmentLengths))]
        } else {
            rows = sequences
        }
        let segmented = rows.contains { $0.sequenceLengths != nil }
        batch = rows.count
        time = max(1, rows.map(\.ids.count).max() ?? 1)
        lengths = rows.map(\.ids.count)
        var ids: [Int32] = [], targets: [Int32] = [], positions: [Int32] = [], starts: [Int32] = []
        ids.reserveCapacity(batch * time); targets.reserveCapacity(batch * time)
        for row in rows {
            let count = row.ids.count
            ids += row.ids + [Int32](repeating: padding, count: time - count)
            var start = 0
            // Padding is one more segment after the last sequence: it attends only to itself and has no targets.
            for length in row.segmentLengths + [time - count] {
                for t in start..<(start + length) {
                    targets.append(t + 1 < start + length && t + 1 < count && row.lossMask[t + 1] ? row.ids[t + 1] : Self.ignoreIndex)
                    if segmented { positions.append(Int32(t - start)); starts.append(Int32(start)) }
                }
                start += length
            }
        }
        self.ids = ids
        self.targets = targets
        self.positions = segmented ? positions : nil
        self.segmentStarts = segmented ? starts : nil
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
        return model.forward(ModelInput(ids: ids, batch: batch, time: time, attentionMask: mask, positions: positions,
                                        segmentStarts: segmentStarts), cache: nil)
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
