import Constitutional
import Foundation
import LanguageModels

/// One response scored on every dimension of a rubric.
public struct RubricRecord: Codable, Equatable, Sendable {
    /// "<model>/<prompt id>".
    public var id: String
    public var model: String
    public var promptID: String
    /// Per dimension id, the expected score E[s] = Σ s·p(s) over s = 1…5.
    public var scores: [String: Double]
    /// Per dimension id, p(1)…p(5).
    public var probabilities: [String: [Double]]
    public var judge: String

    enum CodingKeys: String, CodingKey { case id, model, promptID = "prompt_id", scores, probabilities, judge }
}

/// Scores responses on a ``Rubric`` with a judge model. The judge sees the conversation with the response as the
/// assistant's last turn, the dimension's question and "Score:"; the answer is read from the log-probabilities of
/// the five continuations " 1" … " 5" (each scored in full, as `charter label` scores " (A)" and " (B)"),
/// normalised over the five, and the score is their expectation — a continuous 1–5 score rather than a sampled
/// digit (as G-Eval weights scores by their probabilities; Liu et al. 2023).
public struct RubricScorer: Sendable {
    public let rubric: Rubric
    public static let options = [" 1", " 2", " 3", " 4", " 5"]

    public init(rubric: Rubric) { self.rubric = rubric }

    /// The scoring prompt of one dimension.
    public static func prompt(conversation: [ChatMessage], response: String, question: String) -> String {
        let turns = (conversation + [ChatMessage(role: "assistant", content: response)])
            .map { "\($0.role == "assistant" ? "A" : "H"): \($0.content)" }.joined(separator: "\n\n")
        return "Consider the following conversation between a human (H) and an assistant (A):\n\n\(turns)\n\n\(question)\n"
            + "Answer with a score from 1 (not at all) to 5 (fully).\nScore:"
    }

    /// p(1)…p(5) from the options' log-probabilities (a softmax), and the expected score.
    public static func expectedScore(logProbabilities: [Double]) -> (probabilities: [Double], score: Double) {
        precondition(logProbabilities.count == options.count, "one log-probability per option, got \(logProbabilities.count)")
        let top = logProbabilities.max() ?? 0
        let weights = logProbabilities.map { exp($0 - top) }
        let total = weights.reduce(0, +)
        let probabilities = weights.map { $0 / total }
        return (probabilities, zip(probabilities, 1...options.count).reduce(0) { $0 + $1.0 * Double($1.1) })
    }

    public func score(_ item: PromptItem, response: String, modelName: String, judge: any LanguageModel) async throws -> RubricRecord {
        var scores: [String: Double] = [:], probabilities: [String: [Double]] = [:]
        let shown = response.trimmingCharacters(in: .whitespacesAndNewlines)
        for dimension in rubric.dimensions {
            let prompt = Self.prompt(conversation: item.conversation, response: shown, question: dimension.question)
            var logProbabilities: [Double] = []
            for option in Self.options {
                let value = try await judge.score(prompt: prompt, completion: option).totalLogProbability
                guard value.isFinite else { throw EvaluationError("\(judge.name) returned a non-finite log-probability for \"\(option)\" (\(dimension.id), \(item.id))") }
                logProbabilities.append(value)
            }
            let (p, expected) = Self.expectedScore(logProbabilities: logProbabilities)
            scores[dimension.id] = expected
            probabilities[dimension.id] = p
        }
        return RubricRecord(id: "\(modelName)/\(item.id)", model: modelName, promptID: item.id, scores: scores, probabilities: probabilities, judge: judge.name)
    }
}
