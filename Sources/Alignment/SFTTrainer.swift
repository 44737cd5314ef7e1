import Datasets
import Foundation
import LanguageModels
import Tensors

/// Supervised fine-tuning: next-token cross-entropy on completion/assistant tokens (TRL's `SFTTrainer`).
/// Metrics: loss, entropy, mean_token_accuracy, num_tokens (with grad_norm and learning_rate from the loop).
public final class SFTTrainer: PolicyObjective {
    public var methodName: String { "SFT" }
    /// The settings in effect: `max_length` is clamped to the policy's context (see `sequenceLimit`).
    public let configuration: SFTConfiguration
    public let policy: TrainableModel
    let sequences: [TokenizedSequence]
    let evaluationSequences: [TokenizedSequence]
    let padding: Int32
    /// Examples longer than max_length that were truncated (training + evaluation).
    public let truncatedCount: Int
    /// `max_length` clamped to the policy's context (`configuration.maximumLength` is the clamped value).
    public let sequenceLimit: SequenceLimit
    public var counters: [String: Double] = ["num_tokens": 0]
    public let samples: SampleGenerations
    /// ln V: the cross-entropy of a model that predicts every token as equally likely.
    public var uniformLoss: Double? { log(Double(policy.model.vocabularySize)) }

    public init(configuration: SFTConfiguration, policy: TrainableModel, encoder: ExampleEncoder,
                train: [Example], evaluation: [Example] = []) throws {
        try configuration.validate()
        sequenceLimit = SequenceLimit(maximumLength: configuration.maximumLength, models: [policy.model])
        var configuration = configuration
        configuration.maximumLength = sequenceLimit.length ?? configuration.maximumLength
        self.configuration = configuration
        self.policy = policy
        policy.model.gradientCheckpointing = configuration.training.gradientCheckpointing
        padding = encoder.padding
        var truncated = 0
        func tokenize(_ examples: [Example]) throws -> [TokenizedSequence] {
            var result = try examples.map { try Self.tokenize($0, encoder: encoder, configuration: configuration) }
            if configuration.packing {
                // bfd cuts what does not fit a row (bfd_split and wrapped move it to another row).
                if configuration.packingStrategy == .bestFitDecreasing {
                    truncated += result.filter { $0.ids.count > configuration.maximumLength }.count
                }
                result = configuration.packingStrategy.pack(result, length: configuration.maximumLength)
            } else {
                for index in result.indices where result[index].truncate(to: configuration.maximumLength) { truncated += 1 }
            }
            return result.filter { $0.targetCount > 0 }
        }
        sequences = try tokenize(train)
        evaluationSequences = try tokenize(evaluation)
        // The prompt of a sequence is everything before its first trained token.
        samples = SampleGenerations(prompts: evaluationSequences.map { Array($0.ids.prefix($0.lossMask.firstIndex(of: true) ?? 0)) },
                                    tokenizer: encoder.tokenizer)
        truncatedCount = truncated
        guard !sequences.isEmpty else { throw TrainingError.data("no training example has a token to learn after tokenization") }
    }

    /// TRL's SFT tokenization: text (+ eos) trained on entirely; prompt–completion with the loss on the completion;
    /// conversations through the chat template with the loss on assistant turns.
    static func tokenize(_ example: Example, encoder: ExampleEncoder, configuration: SFTConfiguration) throws -> TokenizedSequence {
        switch example.body {
        case .languageModeling(.standard(let text)):
            let ids = encoder.encode(text)
            return encoder.appendingEndOfSequence(TokenizedSequence(ids: ids, lossMask: ids.map { _ in true }))
        case .languageModeling(.conversational(let messages)):
            let (ids, assistant) = try encoder.conversation(messages, addGenerationPrompt: false, line: example.line)
            return TokenizedSequence(ids: ids, lossMask: configuration.assistantOnlyLoss ? assistant : ids.map { _ in true })
        case .promptCompletion(.standard(let prompt), .standard(let completion)):
            let promptIds = encoder.encode(prompt)
            let ids = encoder.encode(prompt + completion)
            // The completion starts where the two tokenizations diverge (tokens can merge across the boundary).
            let shared = zip(promptIds, ids).prefix { $0 == $1 }.count
            let mask = ids.indices.map { !configuration.completionOnlyLoss || $0 >= shared }
            return encoder.appendingEndOfSequence(TokenizedSequence(ids: ids, lossMask: mask))
        case .promptCompletion(.conversational(let prompt), .conversational(let completion)):
            let (promptIds, _) = try encoder.conversation(prompt, addGenerationPrompt: true, line: example.line)
            let (ids, assistant) = try encoder.conversation(prompt + completion, addGenerationPrompt: false, line: example.line)
            let shared = zip(promptIds, ids).prefix { $0 == $1 }.count
            let mask = ids.indices.map { index in
                (!configuration.completionOnlyLoss || index >= shared) && (!configuration.assistantOnlyLoss || assistant[index])
            }
            return TokenizedSequence(ids: ids, lossMask: mask)
        default:
            throw TrainingError.data("line \(example.line): SFT needs language-modeling (text/messages) or prompt-completion data, found \(example.type.rawValue)")
        }
    }

    public var exampleCount: Int { sequences.count }

    public func loss(examples indices: [Int], generator: inout SeededGenerator) throws -> (loss: Tensor, metrics: [String: Double]) {
        let batch = CausalBatch(indices.map { sequences[$0] }, padding: padding, paddingFree: configuration.effectivePaddingFree)
        let (loss, found) = Self.crossEntropy(batch.output(policy.model), targets: batch.targets)
        counters["num_tokens", default: 0] += Double(batch.lengths.reduce(0, +))
        var metrics = Self.tokenMetrics(found, targets: batch.targets)
        metrics["num_tokens"] = counters["num_tokens"]
        return (loss, metrics)
    }

    /// The target tokens of the examples (TRL divides SFT's summed loss by those of the whole accumulation window).
    public func lossItemCount(examples indices: [Int]) -> Int? {
        indices.reduce(0) { $0 + sequences[$1].targetCount }
    }

    public func evaluate() throws -> [String: Double]? {
        guard !evaluationSequences.isEmpty else { return nil }
        var totals: [String: Double] = [:]
        let size = configuration.training.evaluationBatchSize
        var batches = 0.0
        for start in stride(from: 0, to: evaluationSequences.count, by: size) {
            let batch = CausalBatch(Array(evaluationSequences[start..<min(start + size, evaluationSequences.count)]), padding: padding,
                                    paddingFree: configuration.effectivePaddingFree)
            let (loss, found) = withoutGradients { Self.crossEntropy(batch.output(policy.model), targets: batch.targets) }
            var metrics = Self.tokenMetrics(found, targets: batch.targets)
            metrics["loss"] = Double(loss.item)
            for (key, value) in metrics { totals[key, default: 0] += value }
            batches += 1
        }
        return totals.mapValues { $0 / batches }
    }

    /// Mean next-token cross-entropy over target tokens (a scalar on the tape) and the vocabulary statistics of
    /// those tokens, without materialising the (B, T, V) logits.
    static func crossEntropy(_ output: ModelOutput, targets: [Int32]) -> (Tensor, Tensor.VocabularyStatistics) {
        let (logProbabilities, found) = output.targetLogProbabilities(targets, ignoreIndex: CausalBatch.ignoreIndex, statistics: true)
        let kept = targets.filter { $0 != CausalBatch.ignoreIndex }.count
        let loss = logProbabilities.sum() * (kept > 0 ? -1 / Float(kept) : 0)
        guard let found else { preconditionFailure("projectedLogProbabilities returned no statistics") }
        return (loss, found)
    }

    /// Mean predictive entropy and top-1 accuracy over target tokens (TRL's `entropy`, `mean_token_accuracy`).
    static func tokenMetrics(_ found: Tensor.VocabularyStatistics, targets: [Int32]) -> [String: Double] {
        var entropy = 0.0, correct = 0, counted = 0
        for (row, target) in targets.enumerated() where target != CausalBatch.ignoreIndex {
            entropy += found.entropy[row]
            if found.argmax[row] == target { correct += 1 }
            counted += 1
        }
        guard counted > 0 else { return [:] }
        return ["entropy": entropy / Double(counted), "mean_token_accuracy": Double(correct) / Double(counted)]
    }
}
