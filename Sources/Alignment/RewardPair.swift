import Datasets
import Foundation

/// A preference example tokenized as TRL's `RewardTrainer` does: the whole prompt + chosen and prompt + rejected
/// texts, with the pair's optional margin and soft label.
public struct RewardPair: Equatable, Sendable {
    public var chosenIds: [Int32]
    public var rejectedIds: [Int32]
    /// Required reward gap (TRL's `margin` column): the loss is −log σ(r⁺ − r⁻ − margin).
    public var margin: Float?
    /// P(chosen ≻ rejected) for AI-labelled data (`chosen_probability`); nil means a hard label (1).
    public var chosenProbability: Float?
    public var line: Int

    /// The pairs of one example: a preference pair, or every ordered pair of a K-way ranking.
    ///
    /// A ranking is a prompt-only line with `"completions"` (K strings) and either `"ranks"` (K numbers, lower is
    /// better, as InstructGPT's labellers ranked 4–9 responses; Ouyang et al. 2022) or `"scores"` (K numbers, higher is
    /// better); it expands to the K(K−1)/2 pairs whose ranks differ (ties give no pair).
    /// - Throws: `TrainingError.data` naming the line and field for anything else.
    public static func pairs(from example: Example, encoder: ExampleEncoder) throws -> [RewardPair] {
        guard case let .promptOnly(prompt) = example.body else { return [try tokenize(example, encoder: encoder)] }
        let line = example.line
        guard case let .array(items)? = example[extra: "completions"] else {
            throw TrainingError.data("line \(line): a reward model trains on preference pairs (prompt/chosen/rejected or chosen/rejected) "
                                     + "or K-way rankings (prompt, \"completions\" and \"ranks\" or \"scores\"); found \(example.type.rawValue) data")
        }
        guard case let .standard(promptText) = prompt else {
            throw TrainingError.data("line \(line): rankings of conversational completions are not supported; give string completions")
        }
        let completions = try items.enumerated().map { index, item -> String in
            guard let text = item.stringValue else {
                throw TrainingError.data("line \(line): field \"completions\" item \(index + 1) must be a string, found \(item.typeName)")
            }
            return text
        }
        let field = example[extra: "ranks"] != nil ? "ranks" : "scores"
        guard case let .array(values)? = example[extra: field] else {
            throw TrainingError.data("line \(line): a ranking needs \"ranks\" (lower is better) or \"scores\" (higher is better) next to \"completions\"")
        }
        let numbers = try values.enumerated().map { index, value -> Double in
            guard let number = value.doubleValue else {
                throw TrainingError.data("line \(line): field \"\(field)\" item \(index + 1) must be a number, found \(value.typeName)")
            }
            return field == "ranks" ? -number : number
        }
        guard numbers.count == completions.count, completions.count >= 2 else {
            throw TrainingError.data("line \(line): \(completions.count) completions with \(numbers.count) \(field); a ranking needs at least 2 of each, as many")
        }
        var result: [RewardPair] = []
        for i in completions.indices {
            for j in completions.indices where numbers[i] > numbers[j] {
                let pair = Example(.preference(prompt: .standard(promptText), chosen: .standard(completions[i]), rejected: .standard(completions[j])),
                                   line: line)
                result.append(try tokenize(pair, encoder: encoder))
            }
        }
        return result
    }

    /// Standard text: eos (as text) is appended to chosen and rejected unless they end with it, then prompt + chosen
    /// and prompt + rejected are tokenized with the tokenizer's special tokens. Conversations go through the chat
    /// template without a generation prompt (no eos added). Implicit-prompt pairs are whole texts again, since
    /// prompt + chosen reproduces the input.
    /// - Throws: `TrainingError.data` naming the line for data that is not a preference pair or a non-numeric margin.
    static func tokenize(_ example: Example, encoder: ExampleEncoder) throws -> RewardPair {
        guard let (prompt, chosen, rejected) = example.preference else {
            throw TrainingError.data("line \(example.line): a reward model trains on preference pairs (prompt/chosen/rejected or chosen/rejected) "
                                     + "or K-way rankings (prompt, \"completions\" and \"ranks\" or \"scores\"); found \(example.type.rawValue) data")
        }
        var margin: Float?
        if let value = example[extra: "margin"], value != .null {
            guard let number = value.doubleValue else { throw TrainingError.data("line \(example.line): field \"margin\" must be a number") }
            margin = Float(number)
        }
        let chosenIds: [Int32], rejectedIds: [Int32]
        switch (prompt, chosen, rejected) {
        case let (.standard(prompt), .standard(chosen), .standard(rejected)):
            let eos = encoder.tokenizer.eosToken ?? ""
            func closed(_ text: String) -> String { text.hasSuffix(eos) ? text : text + eos }
            chosenIds = encoder.encode(prompt + closed(chosen))
            rejectedIds = encoder.encode(prompt + closed(rejected))
        case let (.conversational(prompt), .conversational(chosen), .conversational(rejected)):
            chosenIds = try encoder.conversation(prompt + chosen, addGenerationPrompt: false, line: example.line).ids
            rejectedIds = try encoder.conversation(prompt + rejected, addGenerationPrompt: false, line: example.line).ids
        default:
            throw TrainingError.data("line \(example.line): prompt, chosen and rejected must be all strings or all message lists")
        }
        return RewardPair(chosenIds: chosenIds, rejectedIds: rejectedIds, margin: margin,
                          chosenProbability: example.chosenProbability.map(Float.init), line: example.line)
    }
}
