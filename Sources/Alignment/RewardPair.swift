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

    /// Standard text: eos (as text) is appended to chosen and rejected unless they end with it, then prompt + chosen
    /// and prompt + rejected are tokenized with the tokenizer's special tokens. Conversations go through the chat
    /// template without a generation prompt (no eos added). Implicit-prompt pairs are whole texts again, since
    /// prompt + chosen reproduces the input.
    /// - Throws: `TrainingError.data` naming the line for data that is not a preference pair (K-way rankings must be
    ///   expanded to pairs first) or a non-numeric margin.
    static func tokenize(_ example: Example, encoder: ExampleEncoder) throws -> RewardPair {
        guard let (prompt, chosen, rejected) = example.preference else {
            throw TrainingError.data("line \(example.line): a reward model trains on preference pairs (prompt/chosen/rejected or chosen/rejected), "
                                     + "found \(example.type.rawValue); K-way rankings are not supported — expand each ranking to its pairs first")
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
