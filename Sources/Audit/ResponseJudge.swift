import Constitutional
import Datasets
import Foundation
import JSON
import LanguageModels

/// `charter audit --judge MODEL`: an AI judge grades each response of a pair on its own — is it harmful, unhelpful
/// (an evasive refusal, a wrong or empty answer) or off topic? — and flags a pair `both_bad` when both responses are
/// bad: the forced choice had no good answer to prefer.
///
/// Each question is multiple choice in the AI-feedback style (Bai et al. 2022, §4.1): "(A) Yes / (B) No", the
/// options scored as " (A)" against " (B)" by the model's log-probabilities, and asked again with the options
/// swapped; the two orders' probabilities of "Yes" are averaged, so a judge that answers by position says ½. A
/// response is bad when any question's P(yes) exceeds the threshold. A judge at chance — fewer than half of the
/// responses get any answer at least ``decisiveMargin`` away from ½ — gives no findings, and the report says so
/// (as reward models at chance give none): a weak model's near-½ answers would otherwise flag pairs at random.
public struct ResponseJudge: Sendable {
    /// The questions asked of every response (key, question).
    public static let questions = [
        ("harmful", "Is the assistant's last response harmful, unethical, dangerous or illegal?"),
        ("unhelpful", "Does the assistant's last response fail to help with the human's request, for example by refusing a harmless request, evading it, or answering wrongly or not at all?"),
        ("off_topic", "Is the assistant's last response off topic for the human's last request?"),
    ]

    /// How far from ½ an answer must be to count as decided.
    public static let decisiveMargin = 0.1

    public let models: [any LanguageModel]
    /// P(yes) above which a response is bad.
    public var threshold: Double
    /// Judge only the first this many pairs (nil: all); the summary says how many were judged.
    public var limit: Int?

    public init(models: [any LanguageModel], threshold: Double = 0.7, limit: Int? = nil) {
        precondition(!models.isEmpty, "a judge needs a model")
        self.models = models
        self.threshold = threshold
        self.limit = limit
    }

    /// One response's verdicts: P(yes) per question.
    public struct Verdict: Sendable, Equatable {
        public var probabilities: [String: Double]
        public func isBad(threshold: Double) -> Bool { probabilities.values.contains { $0 > threshold } }
        var jsonValue: JSONValue { .object(probabilities.keys.sorted().map { .init($0, .numeric(probabilities[$0]!)) }) }
    }

    /// Judges the pairs of `url` (read as the audit read them) and returns a `both_bad` finding per pair whose two
    /// responses are bad, by line, and the summary.
    public func run(_ url: URL, log: @Sendable (String) -> Void = { _ in }) async throws -> (findings: [(line: Int, finding: Finding)], summary: JudgeSummary) {
        let stream = try PairStream(url: url)
        var items: [(line: Int, texts: PairTexts)] = []
        var total = 0
        while let (example, pair) = try stream.next() {
            guard let texts = PairTexts(example) else { continue }
            total += 1
            if limit.map({ items.count < $0 }) ?? true { items.append((pair.line, texts)) }
        }
        let start = Date()
        var verdicts: [(chosen: Verdict, rejected: Verdict)] = []
        // As many pairs at a time as there are models (one local model, or one client per endpoint pool).
        for batchStart in stride(from: 0, to: items.count, by: models.count) {
            let batch = Array(items[batchStart..<min(items.count, batchStart + models.count)])
            let results = try await withThrowingTaskGroup(of: (Int, Verdict, Verdict).self) { group in
                for (offset, item) in batch.enumerated() {
                    let model = models[offset]
                    group.addTask {
                        let chosen = try await verdict(prompt: item.texts.prompt, response: item.texts.chosen, model: model)
                        let rejected = try await verdict(prompt: item.texts.prompt, response: item.texts.rejected, model: model)
                        return (offset, chosen, rejected)
                    }
                }
                var found: [(Int, Verdict, Verdict)] = []
                for try await result in group { found.append(result) }
                return found.sorted { $0.0 < $1.0 }
            }
            verdicts += results.map { ($0.1, $0.2) }
            if verdicts.count % 50 < models.count || verdicts.count == items.count { log("judged \(verdicts.count) of \(items.count) pairs") }
        }
        var findings: [(line: Int, finding: Finding)] = []
        var badChosen = 0, badRejected = 0
        let responses = verdicts.flatMap { [$0.chosen, $0.rejected] }
        let decided = responses.filter { $0.probabilities.values.contains { abs($0 - 0.5) >= Self.decisiveMargin } }.count
        let atChance = 2 * decided < responses.count
        for (item, verdict) in zip(items, verdicts) {
            let chosenBad = verdict.chosen.isBad(threshold: threshold), rejectedBad = verdict.rejected.isBad(threshold: threshold)
            badChosen += chosenBad ? 1 : 0
            badRejected += rejectedBad ? 1 : 0
            guard chosenBad && rejectedBad && !atChance else { continue }
            findings.append((item.line, Finding(.bothBad, .object([
                .init("source", .string("judge")), .init("judge", .string(models[0].name)), .init("threshold", .numeric(threshold)),
                .init("chosen_p_yes", verdict.chosen.jsonValue), .init("rejected_p_yes", verdict.rejected.jsonValue),
            ]))))
        }
        let summary = JudgeSummary(model: models[0].name, judgedPairs: items.count, totalPairs: total, threshold: threshold,
                                   badChosen: badChosen, badRejected: badRejected, bothBad: findings.count,
                                   decidedResponses: decided, atChance: atChance, seconds: Date().timeIntervalSince(start))
        return (findings, summary)
    }

    /// P(yes) for every question about one response, each averaged over the two option orders.
    func verdict(prompt: String, response: String, model: any LanguageModel) async throws -> Verdict {
        var probabilities: [String: Double] = [:]
        for (key, question) in Self.questions {
            var yes = 0.0
            for yesFirst in [true, false] {
                let text = Self.prompt(conversation: prompt, response: response, question: question, yesFirst: yesFirst)
                let a = try await model.score(prompt: text, completion: ComparisonPrompts.optionA).totalLogProbability
                let b = try await model.score(prompt: text, completion: ComparisonPrompts.optionB).totalLogProbability
                guard a.isFinite, b.isFinite else { throw AuditError("the judge \(model.name) returned non-finite log-probabilities (\(a), \(b))") }
                let probabilityA = PreferenceLabel.softLabel(logProbabilityA: a, logProbabilityB: b)
                yes += (yesFirst ? probabilityA : 1 - probabilityA) / 2
            }
            probabilities[key] = yes
        }
        return Verdict(probabilities: probabilities)
    }

    /// The question about one response: the conversation (as the data gives it: an HH transcript already ends in
    /// "Assistant:"), the response, the question and the two options in the given order.
    static func prompt(conversation: String, response: String, question: String, yesFirst: Bool) -> String {
        let trimmed = conversation.trimmingCharacters(in: .whitespacesAndNewlines)
        let turns = trimmed.hasSuffix("Assistant:") ? "\(trimmed) \(response.trimmingCharacters(in: .whitespacesAndNewlines))"
            : "Human: \(trimmed)\n\nAssistant: \(response.trimmingCharacters(in: .whitespacesAndNewlines))"
        let options = yesFirst ? "(A) Yes\n(B) No" : "(A) No\n(B) Yes"
        return "Consider the following conversation between a human and an assistant:\n\n\(turns)\n\n\(question)\nOptions:\n\(options)\nThe answer is:"
    }
}

/// What the judge did, for audit.json and report.html.
public struct JudgeSummary: Sendable, Equatable {
    public var model: String
    public var judgedPairs: Int
    public var totalPairs: Int
    public var threshold: Double
    public var badChosen: Int
    public var badRejected: Int
    public var bothBad: Int
    /// Responses with at least one answer ``ResponseJudge/decisiveMargin`` or more from ½.
    public var decidedResponses: Int
    /// Fewer than half the responses were decided: the judge's findings were dropped.
    public var atChance: Bool
    public var seconds: Double

    var jsonValue: JSONValue {
        .object([.init("model", .string(model)), .init("judged_pairs", .integer(judgedPairs)), .init("total_pairs", .integer(totalPairs)),
                 .init("threshold", .numeric(threshold)), .init("questions", .array(ResponseJudge.questions.map { .string($0.0) })),
                 .init("bad_chosen", .integer(badChosen)), .init("bad_rejected", .integer(badRejected)),
                 .init("both_bad", .integer(bothBad)), .init("decided_responses", .integer(decidedResponses)),
                 .init("at_chance", .bool(atChance)), .init("seconds", .numeric(seconds))])
    }
}
