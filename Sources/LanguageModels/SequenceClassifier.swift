import Foundation
import NeuralNetworks
import Tensors
import Tokenizers

/// A causal language model's body with a linear head — a reward model, as transformers'
/// `LlamaForSequenceClassification` / `GPT2ForSequenceClassification` with `num_labels = 1`, or K reward heads on one
/// shared trunk with `num_labels = K` (a shared-trunk ensemble: one forward pass gives every head's score).
///
/// The scores of a sequence are `score · h` (one per label), where h is the final (normed) hidden state of its last token that is
/// not the padding token — transformers' rule (the rightmost token ≠ `pad_token_id`, position 0 when there is none,
/// the last position when no pad token is set). When pad = eos, a trailing eos is therefore skipped, exactly as
/// transformers scores it.
///
/// ```swift
/// let rewardModel = try SequenceClassifier.load(directory: folder)   // a seq-cls folder, or a causal LM (new head)
/// let rewards = try rewardModel.scores(["Human: hi\n\nAssistant: hello"])
/// ```
public final class SequenceClassifier: Module {
    public let body: any CausalLanguageModel
    /// transformers' `score`: Linear(hidden, num_labels, bias = false), one row per label.
    public let score: Linear
    /// The labels' names, in column order (config.json's `id2label`).
    public var labelNames: [String]
    /// The token whose rightmost absence marks each sequence's last real token (transformers' `pad_token_id`).
    public var padTokenId: Int32?
    /// The tokenizer of the folder it was loaded from, used by `scores(_:)`.
    public var tokenizer: Tokenizer?

    /// Wraps `body` with a new head drawn as transformers initialises it: N(0, `standardDeviation`).
    public init(body: any CausalLanguageModel, padTokenId: Int32?, standardDeviation: Float = 0.02, generator: inout SeededGenerator) {
        self.body = body
        self.padTokenId = padTokenId
        let weight = Tensor.randomNormal([1, Self.hiddenSize(of: body)], standardDeviation: standardDeviation, generator: &generator)
        weight.requiresGrad = true
        score = Linear(weight: weight)
        labelNames = Self.defaultLabelNames(count: 1)
    }

    /// Wraps `body` with `headSeeds.count` new score rows, row k drawn from its own generator seeded `headSeeds[k]` —
    /// so row k is exactly the head a one-label classifier built with that seed would start from.
    public init(body: any CausalLanguageModel, padTokenId: Int32?, headSeeds: [UInt64], standardDeviation: Float = 0.02) {
        precondition(!headSeeds.isEmpty, "a sequence classifier has at least one label")
        self.body = body
        self.padTokenId = padTokenId
        let rows = headSeeds.flatMap { seed in
            var generator = SeededGenerator(seed: seed)
            return Tensor.randomNormal([1, Self.hiddenSize(of: body)], standardDeviation: standardDeviation, generator: &generator).scalars
        }
        let weight = Tensor(shape: [headSeeds.count, Self.hiddenSize(of: body)], scalars: rows)
        weight.requiresGrad = true
        score = Linear(weight: weight)
        labelNames = Self.defaultLabelNames(count: headSeeds.count)
    }

    /// num_labels: the score layer's rows.
    public var labelCount: Int { score.outputSize }

    /// transformers' default `id2label` names: LABEL_0, LABEL_1, …
    static func defaultLabelNames(count: Int) -> [String] { (0..<count).map { "LABEL_\($0)" } }

    static func hiddenSize(of body: any CausalLanguageModel) -> Int {
        switch body {
        case let llama as LlamaModel: return llama.configuration.hiddenSize
        case let gpt as GPTModel: return gpt.configuration.width
        default: preconditionFailure("\(type(of: body)) has no known hidden size")
        }
    }

    /// The position scored in each row of right- or left-padded ids (B·T): the rightmost token ≠ pad.
    public func scoredPositions(ids: [Int32], batch: Int, time: Int) -> [Int] {
        (0..<batch).map { b in
            guard let padTokenId else { return time - 1 }
            return (0..<time).last { ids[b * time + $0] != padTokenId } ?? 0
        }
    }

    /// Every label's score (B, K), on the tape when the body or head is trained.
    /// - Parameters:
    ///   - ids: B·T token ids, row-major, padded with `padTokenId` (on the right, so causal attention never lets a
    ///     real token see padding).
    public func logits(ids: [Int32], batch: Int, time: Int) -> Tensor {
        let output = body.forward(ModelInput(ids: ids, batch: batch, time: time, outputHiddenStates: true), cache: nil)
        let hidden = output.hiddenStates[output.hiddenStates.count - 1]  // (B, T, C), after the final norm
        let channels = hidden.shape[2]
        let rows = scoredPositions(ids: ids, batch: batch, time: time).enumerated().map { Int32($0.offset * time + $0.element) }
        let pooled = hidden.reshaped([batch * time, channels]).gathered(rows: rows)  // (B, C)
        return score(pooled)  // (B, K)
    }

    /// Scalar rewards (B) of a one-label model, on the tape when the body or head is trained.
    public func rewards(ids: [Int32], batch: Int, time: Int) -> Tensor {
        precondition(labelCount == 1, "rewards(ids:) is for num_labels = 1; this model has \(labelCount) labels (use logits(ids:))")
        return logits(ids: ids, batch: batch, time: time).reshaped([batch])  // (B)
    }

    /// Rewards of whole texts, tokenized with the folder's tokenizer (special tokens added as transformers'
    /// tokenizer does), scored in batches of `batchSize` without gradients.
    /// - Throws: `CheckpointError` when there is no tokenizer, `ContextLengthError` for a text longer than the context.
    public func scores(_ texts: [String], batchSize: Int = 8) throws -> [Float] {
        try scores(try tokenized(texts), batchSize: batchSize)
    }

    /// Rewards of token sequences, right-padded in batches of `batchSize`, without gradients.
    /// - Throws: `ContextLengthError` naming the first sequence longer than the model's context, before any is scored.
    public func scores(_ sequences: [[Int32]], batchSize: Int = 8) throws -> [Float] {
        precondition(labelCount == 1, "scores(_:) is for num_labels = 1; this model has \(labelCount) labels (use labelScores(_:))")
        return try labelScores(sequences, batchSize: batchSize).map(\.[0])
    }

    /// Every label's score of whole texts (one row of K per text), as ``scores(_:batchSize:)-([String],_)`` tokenizes them.
    /// - Throws: `CheckpointError` when there is no tokenizer, `ContextLengthError` for a text longer than the context.
    public func labelScores(_ texts: [String], batchSize: Int = 8) throws -> [[Float]] {
        try labelScores(try tokenized(texts), batchSize: batchSize)
    }

    /// Every label's score of token sequences (one row of K per sequence): one forward pass per batch of `batchSize`
    /// scores all K heads, right-padded, without gradients.
    /// - Throws: `ContextLengthError` naming the first sequence longer than the model's context, before any is scored.
    public func labelScores(_ sequences: [[Int32]], batchSize: Int = 8) throws -> [[Float]] {
        for (index, sequence) in sequences.enumerated() { try body.checkContext(tokens: sequence.count, item: "sequence \(index)") }
        let padding = padTokenId ?? 0, labels = labelCount
        var result: [[Float]] = []
        result.reserveCapacity(sequences.count)
        for start in stride(from: 0, to: sequences.count, by: batchSize) {
            let group = sequences[start..<min(start + batchSize, sequences.count)]
            let time = max(1, group.map(\.count).max() ?? 1)
            let ids = group.flatMap { $0 + [Int32](repeating: padding, count: time - $0.count) }
            let values = withoutGradients { logits(ids: ids, batch: group.count, time: time).scalars }  // (B·K)
            result += (0..<group.count).map { Array(values[($0 * labels)..<(($0 + 1) * labels)]) }
        }
        return result
    }

    func tokenized(_ texts: [String]) throws -> [[Int32]] {
        guard let tokenizer else { throw CheckpointError("this reward model has no tokenizer; set `tokenizer` or load it from a folder with tokenizer.json") }
        return texts.map { tokenizer.encode($0).map(Int32.init) }
    }
}
