import Datasets
import Foundation

/// An example labelled desirable or undesirable, tokenized as TRL's `KTOTrainer` does (the prompt/completion split of
/// `DPOPair.splitCompletions`), with the mismatched completion its KL term uses when that is fixed in advance.
struct KTOExample: Equatable, Sendable {
    var promptIds: [Int32]
    var completionIds: [Int32]
    var desirable: Bool
    var line: Int
    /// The completion of another example, scored after this prompt for the KL estimate (set for evaluation data,
    /// and for training data whose reference log-probabilities are precomputed).
    var mismatchedCompletionIds: [Int32]?
    /// The reference's Σ log π_ref(completion | prompt), when precomputed (`precompute_ref_log_probs`).
    var referenceLogProbability: Float?
    /// The reference's Σ log π_ref(mismatched completion | prompt), when precomputed for the KL term.
    var referenceMismatchedLogProbability: Float?

    /// The rows of `examples` as KTO reads them: unpaired rows as they are; preference pairs unpaired as TRL's
    /// `unpair_preference_dataset` does (in blocks of 1,000 pairs, datasets' map batch: the chosen rows, then the
    /// rejected rows).
    /// - Throws: `TrainingError.data` naming the line of an example that is neither.
    static func tokenize(_ examples: [Example], encoder: ExampleEncoder) throws -> [KTOExample] {
        var result: [KTOExample] = []
        var chosen: [KTOExample] = [], rejected: [KTOExample] = []
        func flushPairs() {
            result += chosen + rejected
            chosen.removeAll(); rejected.removeAll()
        }
        for example in examples {
            switch example.body {
            case let .unpairedPreference(prompt, completion, label):
                flushPairs()
                result.append(try single(prompt, completion, desirable: label, line: example.line, encoder: encoder))
            case let .preference(prompt, chosenText, rejectedText):
                chosen.append(try single(prompt, chosenText, desirable: true, line: example.line, encoder: encoder))
                rejected.append(try single(prompt, rejectedText, desirable: false, line: example.line, encoder: encoder))
                if chosen.count == 1000 { flushPairs() }
            default:
                throw TrainingError.data("line \(example.line): KTO needs unpaired preference data (prompt/completion/label) "
                                         + "or preference pairs, found \(example.type.rawValue)")
            }
        }
        flushPairs()
        return result
    }

    static func single(_ prompt: ExampleText, _ completion: ExampleText, desirable: Bool, line: Int,
                       encoder: ExampleEncoder) throws -> KTOExample {
        let (promptIds, completions) = try DPOPair.splitCompletions(prompt: prompt, completions: [completion], encoder: encoder, line: line)
        return KTOExample(promptIds: promptIds, completionIds: completions[0], desirable: desirable, line: line)
    }

    /// Each example's mismatched completion as TRL fixes it: within consecutive blocks of `blockSize`, example i gets
    /// the completion of example i − 1 (the first gets the block's last).
    static func withMismatchedCompletions(_ examples: [KTOExample], blockSize: Int) -> [KTOExample] {
        var result = examples
        for start in stride(from: 0, to: examples.count, by: blockSize) {
            let block = Array(start..<min(start + blockSize, examples.count))
            for (offset, index) in block.enumerated() {
                result[index].mismatchedCompletionIds = examples[block[(offset + block.count - 1) % block.count]].completionIds
            }
        }
        return result
    }

    /// prompt + `completion` with the completion tokens marked, cut to its first `maximumLength` tokens.
    func sequence(_ completion: [Int32], maximumLength: Int?) -> TokenizedSequence {
        var sequence = TokenizedSequence(ids: promptIds + completion, lossMask: promptIds.map { _ in false } + completion.map { _ in true })
        if let maximumLength { sequence.truncate(to: maximumLength) }
        return sequence
    }
}
