import Datasets
import Foundation

/// A preference example tokenized as TRL's `DPOTrainer` does: prompt, chosen and rejected ids (the completions
/// starting where the tokenized prompt and prompt + completion diverge), with optional precomputed reference
/// log-probabilities.
public struct DPOPair: Equatable, Sendable {
    public var promptIds: [Int32]
    public var chosenIds: [Int32]
    public var rejectedIds: [Int32]
    /// Σ log π_ref(chosen | prompt) and the same for rejected, when precomputed.
    public var referenceChosen: Float?
    public var referenceRejected: Float?
    /// The source line (for messages).
    public var line: Int
    /// Whether `max_prompt_length` cut the prompt.
    public var promptTruncated = false
    /// P(chosen ≻ rejected) of a soft label (`chosen_probability`); nil: a hard label. DPO's sigmoid loss reads it as the
    /// pair's own label smoothing ε = 1 − p; the other trainers refuse it rather than train it as a hard label.
    public var chosenProbability: Float?

    /// Tokenizes `example` as TRL 1.16 does (`splitCompletions`: eos appended to standard-text completions, the chat
    /// template for conversations, completions starting at the shorter common prefix of the prompt's ids with either
    /// full sequence, because tokens can merge across the boundary — TRL's `common_prefix_length`).
    /// - Parameters:
    ///   - maximumPromptLength: keep only the prompt's last tokens (TRL before 1.0).
    ///   - method: the trainer named in errors ("DPO", "ORPO").
    /// - Throws: `TrainingError.data` naming the line when the example is not a preference pair.
    static func tokenize(_ example: Example, encoder: ExampleEncoder, maximumPromptLength: Int?, method: String = "DPO") throws -> DPOPair {
        guard let (prompt, chosen, rejected) = example.preference else {
            throw TrainingError.data("line \(example.line): \(method) needs preference data (prompt/chosen/rejected or chosen/rejected), found \(example.type.rawValue)")
        }
        let (promptIds, completions) = try splitCompletions(prompt: prompt, completions: [chosen, rejected], encoder: encoder,
                                                            line: example.line)
        var pair = DPOPair(promptIds: promptIds, chosenIds: completions[0], rejectedIds: completions[1], line: example.line)
        pair.chosenProbability = example.chosenProbability.map(Float.init)
        if let maximumPromptLength, pair.promptIds.count > maximumPromptLength {
            pair.promptIds = Array(pair.promptIds.suffix(maximumPromptLength))
            pair.promptTruncated = true
        }
        return pair
    }

    /// prompt + chosen and prompt + rejected with the completion tokens marked, cut to `maximumLength` as TRL's
    /// collator cuts them (`keep_start`: the first tokens; `keep_end`: the last), and whether anything was cut.
    func sequences(maximumLength: Int?, truncationMode: String) -> (chosen: TokenizedSequence, rejected: TokenizedSequence, truncated: Bool) {
        func sequence(_ completion: [Int32]) -> (TokenizedSequence, Bool) {
            var ids = promptIds + completion
            var mask = promptIds.map { _ in false } + completion.map { _ in true }
            guard let maximumLength, ids.count > maximumLength else { return (TokenizedSequence(ids: ids, lossMask: mask), false) }
            if truncationMode == "keep_end" {
                ids = Array(ids.suffix(maximumLength)); mask = Array(mask.suffix(maximumLength))
            } else {
                ids = Array(ids.prefix(maximumLength)); mask = Array(mask.prefix(maximumLength))
            }
            return (TokenizedSequence(ids: ids, lossMask: mask), true)
        }
        let (chosen, chosenCut) = sequence(chosenIds), (rejected, rejectedCut) = sequence(rejectedIds)
        return (chosen, rejected, chosenCut || rejectedCut)
    }

    /// The prompt's ids and each completion's, split as TRL 1.16's DPO and KTO trainers split them: standard text gets
    /// eos (as text) appended unless it ends with it, then prompt and prompt + completion are tokenized (with the
    /// tokenizer's special tokens); conversations go through the chat template (the prompt with the generation
    /// prompt); the completions start at the shortest common prefix of the prompt's ids with every full sequence.
    /// - Throws: `TrainingError.data` naming the line when the texts are not all strings or all message lists.
    static func splitCompletions(prompt: ExampleText, completions: [ExampleText], encoder: ExampleEncoder,
                                 line: Int) throws -> (prompt: [Int32], completions: [[Int32]]) {
        let promptIds: [Int32], full: [[Int32]]
        switch prompt {
        case .standard(let prompt):
            let eos = encoder.tokenizer.eosToken ?? ""
            full = try completions.map { completion in
                guard case .standard(let text) = completion else {
                    throw TrainingError.data("line \(line): prompt and completions must be all strings or all message lists")
                }
                return encoder.encode(prompt + (text.hasSuffix(eos) ? text : text + eos))
            }
            promptIds = encoder.encode(prompt)
        case .conversational(let prompt):
            promptIds = try encoder.conversation(prompt, addGenerationPrompt: true, line: line).ids
            full = try completions.map { completion in
                guard case .conversational(let messages) = completion else {
                    throw TrainingError.data("line \(line): prompt and completions must be all strings or all message lists")
                }
                return try encoder.conversation(prompt + messages, addGenerationPrompt: false, line: line).ids
            }
        }
        func common(_ a: [Int32], _ b: [Int32]) -> Int { zip(a, b).prefix { $0 == $1 }.count }
        let promptLength = full.map { common(promptIds, $0) }.min() ?? promptIds.count
        return (Array(promptIds[..<promptLength]), full.map { Array($0[promptLength...]) })
    }
}

extension Array where Element == DPOPair {
    /// The longest prompt + completion after `maximumLength`: the length a batch of these pairs is padded to at most
    /// (batches pad to their own longest sequence, so the memory estimate needs this, not `max_length` itself).
    func longestSequence(maximumLength: Int?, truncationMode: String) -> Int {
        reduce(0) { longest, pair in
            let sequences = pair.sequences(maximumLength: maximumLength, truncationMode: truncationMode)
            return Swift.max(longest, sequences.chosen.ids.count, sequences.rejected.ids.count)
        }
    }
}
