import Foundation
import LanguageModels

/// One scored multiple-choice item: each target's log-probability after the context, summed and per token.
public struct ChoiceRecord: Codable, Equatable, Sendable {
    public var id: String
    /// Σ log p(target tokens | context), per target.
    public var sums: [Double]
    /// Tokens per target (the mean log-probability is sum / tokens).
    public var tokens: [Int]
    public var scores: [Double]
    /// Whether the target with the highest summed (or mean) log-probability has the highest score.
    public var correctBySum: Bool
    public var correctByMean: Bool
    public var model: String

    enum CodingKeys: String, CodingKey {
        case id, sums = "logprob_sums", tokens, scores, correctBySum = "correct_sum", correctByMean = "correct_mean", model
    }

    /// Mean log-probability per token of each target (−∞ for an empty target).
    public var means: [Double] { zip(sums, tokens).map { $1 > 0 ? $0 / Double($1) : -.infinity } }
}

/// Multiple-choice preference evaluation by log-probability: the model "chooses" the target it gives the highest
/// log-probability after the context, either summed over the target's tokens (the likelihood of the whole text,
/// as BIG-bench's multiple-choice score and DPO's implicit reward use) or averaged per token (length-normalised,
/// lm-evaluation-harness's `acc_norm` idea in tokens rather than bytes). Both are reported; accuracy is the share
/// of items whose chosen target has the highest score (for TRL pairs: chosen's log-probability > rejected's).
/// Log-probabilities come from ``LanguageModel/score(prompt:completion:)``: `charter logprobs`' computation, the
/// prompt tokenised with its special tokens and the continuation without (TRL's convention), locally or from any
/// server that echoes prompt log-probs.
public enum ChoiceEvaluation {
    public static func score(_ item: ChoiceItem, model: any LanguageModel) async throws -> ChoiceRecord {
        var sums: [Double] = [], tokens: [Int] = []
        for target in item.targets {
            let score = try await model.score(prompt: item.context, completion: target)
            guard score.totalLogProbability.isFinite else {
                throw EvaluationError("\(model.name) returned a non-finite log-probability for item \(item.id)'s target \"\(target.prefix(40))\"")
            }
            sums.append(score.totalLogProbability)
            tokens.append(score.tokens.count)
        }
        let means = zip(sums, tokens).map { $1 > 0 ? $0 / Double($1) : -.infinity }
        return ChoiceRecord(id: item.id, sums: sums, tokens: tokens, scores: item.scores,
                            correctBySum: isCorrect(sums, item.scores), correctByMean: isCorrect(means, item.scores), model: model.name)
    }

    /// Whether the first target with the highest value is one of those with the highest score.
    public static func isCorrect(_ values: [Double], _ scores: [Double]) -> Bool {
        guard let best = values.indices.max(by: { values[$0] < values[$1] }), let top = scores.max() else { return false }
        return scores[best] == top
    }

    /// Accuracy over records.
    public struct Summary: Codable, Equatable, Sendable {
        public var items: Int
        public var accuracyBySum: Double
        public var accuracyByMean: Double
        /// Chance: the expected accuracy of picking a target uniformly at random.
        public var chance: Double

        enum CodingKeys: String, CodingKey { case items, accuracyBySum = "accuracy_sum", accuracyByMean = "accuracy_mean", chance }

        public init(_ records: [ChoiceRecord]) {
            items = records.count
            func share(_ flags: [Bool]) -> Double { flags.isEmpty ? 0 : Double(flags.filter { $0 }.count) / Double(flags.count) }
            accuracyBySum = share(records.map(\.correctBySum))
            accuracyByMean = share(records.map(\.correctByMean))
            chance = records.isEmpty ? 0 : records.reduce(0.0) { total, record in
                let top = record.scores.max() ?? 0
                return total + Double(record.scores.filter { $0 == top }.count) / Double(max(record.scores.count, 1))
            } / Double(records.count)
        }
    }
}
