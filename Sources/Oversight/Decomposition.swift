import Foundation
import LanguageModels
import Runtime

/// Settings of `charter oversee decompose`.
public struct DecompositionSettings: Codable, Equatable, Sendable {
    /// Most sub-questions kept from the decomposer's list.
    public var maximumSubquestions = 4
    /// Sampling of the decomposer's list.
    public var decomposition = SamplingOptions(maximumTokens: 64, temperature: 0)
    /// Sampling of each sub-answer (one line).
    public var answer = SamplingOptions(maximumTokens: 16, temperature: 0)
    public var seed: UInt64 = 0
    public var bothOrders = true

    enum CodingKeys: String, CodingKey {
        case maximumSubquestions = "max_subquestions", decomposition, answer, seed, bothOrders = "both_orders"
    }

    public init() {}
}

/// One sub-question and the answer a separate call gave it.
public struct SubAnswer: Codable, Equatable, Sendable {
    public var question: String
    public var answer: String
}

/// One multi-step task answered directly and by decomposition (one line of `decompose.jsonl`).
public struct DecompositionRecord: Codable, Equatable, Sendable {
    public var id: String
    public var question: String
    public var options: [String]
    public var correctOption: Int
    public var decomposer: String
    public var model: String
    /// The model's answer from the passage and the question.
    public var direct: JudgeVerdict
    /// The decomposer's sub-questions and their answers (each by a separate call that reads the passage and the
    /// earlier sub-answers).
    public var subanswers: [SubAnswer]
    /// The composing call's answer, from the sub-answers alone (it does not read the passage).
    public var decomposed: JudgeVerdict
    /// The same with the task's reference sub-questions, when it has them: decomposition skill taken out.
    public var referenceSubanswers: [SubAnswer]?
    public var reference: JudgeVerdict?
    /// How many reference sub-answers contain the true answer of their step.
    public var referenceStepsRight: Int?

    enum CodingKeys: String, CodingKey {
        case id, question, options, correctOption = "correct_option", decomposer, model, direct, subanswers, decomposed
        case referenceSubanswers = "reference_subanswers", reference, referenceStepsRight = "reference_steps_right"
    }
}

/// Factored cognition on multi-step questions: a decomposer lists sub-questions, separate calls answer them in
/// turn, and a final call that never reads the passage composes the answer from them — against the same model
/// answering from the passage directly. Answers are probabilities over the two options (``OptionScoring``).
public struct DecompositionSession: Sendable {
    public let settings: DecompositionSettings
    public let decomposer: any LanguageModel
    public let model: any LanguageModel

    public init(settings: DecompositionSettings, decomposer: any LanguageModel, model: any LanguageModel) throws {
        guard settings.maximumSubquestions >= 1 else { throw OversightError("--max-subquestions must be at least 1, got \(settings.maximumSubquestions)") }
        (self.settings, self.decomposer, self.model) = (settings, decomposer, model)
    }

    public func run(_ task: MultiStepTask) async throws -> DecompositionRecord {
        let direct = try await OptionScoring.verdict(model, correctOption: task.correctOption, round: 0, bothOrders: settings.bothOrders, taskID: task.id) {
            "Passage:\n\(task.passage)\n\n" + Self.choice(task, firstAsA: $0)
        }
        let seed = ItemRandom.seed(settings.seed, task.id, "decomposition")
        let listed = try await decomposer.complete(CompletionRequest(prompt: Self.decomposerPrompt(task), options: settings.decomposition.with(seed: seed, stop: ["\n\n"])))
        let subquestions = Self.subquestions(in: "1." + listed.text, limit: settings.maximumSubquestions)
        let subanswers = try await answer(subquestions, task: task)
        let decomposed = try await compose(subanswers, task: task)
        var record = DecompositionRecord(id: task.id, question: task.question, options: task.options, correctOption: task.correctOption,
                                         decomposer: decomposer.name, model: model.name, direct: direct, subanswers: subanswers, decomposed: decomposed)
        if !task.steps.isEmpty {
            let reference = try await answer(task.steps.map(\.question), task: task)
            record.referenceSubanswers = reference
            record.reference = try await compose(reference, task: task)
            record.referenceStepsRight = zip(reference, task.steps).filter { $0.0.answer.lowercased().contains($0.1.answer.lowercased()) }.count
        }
        return record
    }

    /// Answers `questions` in turn, each call reading the passage and the earlier answers.
    func answer(_ questions: [String], task: MultiStepTask) async throws -> [SubAnswer] {
        var answers: [SubAnswer] = []
        for (index, question) in questions.enumerated() {
            let prompt = "Passage:\n\(task.passage)\n\n" + answers.map { "Question: \($0.question)\nAnswer: \($0.answer)\n\n" }.joined()
                + "Question: \(question)\nAnswer:"
            let seed = ItemRandom.seed(settings.seed, task.id, "subanswer-\(index)")
            let completion = try await model.complete(CompletionRequest(prompt: prompt, options: settings.answer.with(seed: seed, stop: ["\n"])))
            answers.append(SubAnswer(question: question, answer: completion.text.trimmingCharacters(in: .whitespacesAndNewlines)))
        }
        return answers
    }

    func compose(_ answers: [SubAnswer], task: MultiStepTask) async throws -> JudgeVerdict {
        try await OptionScoring.verdict(model, correctOption: task.correctOption, round: 0, bothOrders: settings.bothOrders, taskID: task.id) {
            "Facts found in a passage:\n" + answers.map { "Question: \($0.question)\nAnswer: \($0.answer)\n" }.joined() + "\n" + Self.choice(task, firstAsA: $0)
        }
    }

    /// "Question: …\n(A) …\n(B) …\n\nAnswer: The correct answer is", options in the asked order.
    static func choice(_ task: MultiStepTask, firstAsA: Bool) -> String {
        let (a, b) = firstAsA ? (task.options[0], task.options[1]) : (task.options[1], task.options[0])
        return "Question: \(task.question)\n(A) \(a)\n(B) \(b)\n\nAnswer: The correct answer is"
    }

    /// The decomposer reads the passage and the question and continues a numbered list after "1.".
    static func decomposerPrompt(_ task: MultiStepTask) -> String {
        "Passage:\n\(task.passage)\n\nQuestion: \(task.question)\n\nTo answer it, first answer these simpler questions, one per line:\n1."
    }

    /// The items of a numbered list ("1. Who …?\n2. What …?"), numbering removed, blanks dropped, at most `limit`.
    static func subquestions(in list: String, limit: Int) -> [String] {
        let items = list.split(whereSeparator: \.isNewline).map { line -> String in
            var text = Substring(line).drop { $0 == " " }
            let digits = text.prefix { $0.isNumber }
            if !digits.isEmpty, text.dropFirst(digits.count).first == "." || text.dropFirst(digits.count).first == ")" {
                text = text.dropFirst(digits.count + 1)
            }
            return text.trimmingCharacters(in: .whitespaces)
        }
        return Array(items.filter { !$0.isEmpty }.prefix(limit))
    }
}
