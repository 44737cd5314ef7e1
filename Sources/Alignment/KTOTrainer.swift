import Datasets
import Foundation
import LanguageModels
import Settings
import Tensors

/// Kahneman–Tversky Optimization (Ethayarajh et al. 2024; TRL's `KTOTrainer`): the policy raises β·log π/π_ref of
/// desirable completions above a reference point and pushes undesirable ones below it (`PreferenceLoss.kto`). The
/// reference point is the batch's KL estimate: log π/π_ref of mismatched pairs — each prompt followed by the previous
/// example's completion — averaged and clamped at 0.
/// Metrics (TRL's names): loss, kl, rewards/chosen, rewards/rejected, rewards/margins, logps/chosen, logps/rejected,
/// logits/chosen, logits/rejected, entropy, num_tokens ("chosen" = desirable, "rejected" = undesirable; a batch
/// without desirable examples reports no chosen metrics, and the averages skip it, as TRL's).
public final class KTOTrainer: PolicyObjective {
    public var methodName: String { "KTO" }
    /// The settings in effect: `max_length` is clamped to the policy's and reference's context (see `sequenceLimit`).
    public let configuration: KTOConfiguration
    public let sequenceLimit: SequenceLimit
    public let policy: TrainableModel
    let reference: DPOReference
    let examples: [KTOExample]
    let evaluationExamples: [KTOExample]
    public let samples: SampleGenerations
    let padding: Int32
    /// Examples dropped because the prompt alone fills `max_length` (training and evaluation sets together).
    public let dropped: Int
    public var counters: [String: Double] = ["num_tokens": 0]

    /// Tokenizes the data: unpaired rows, or preference pairs unpaired into a desirable and an undesirable row.
    /// - Parameter reference: the frozen reference model or the policy with its adapters off (KTO does not
    ///   precompute reference log-probabilities).
    /// - Throws: `SettingsError` for unusable settings, `TrainingError.data` for examples KTO cannot read.
    public init(configuration: KTOConfiguration, policy: TrainableModel, reference: DPOReference, encoder: ExampleEncoder,
                train: [Example], evaluation: [Example] = []) throws {
        try configuration.validate()
        var models: [any CausalLanguageModel] = [policy.model]
        switch reference {
        case .model(let model): models.append(model)
        case .adaptersDisabled:
            if LoRA.adapters(in: policy.model).isEmpty {
                throw SettingsError(key: "ref_model", message: "the policy has no LoRA adapters to disable; give a reference model")
            }
        case .initialPolicy, .referenceFree:
            throw SettingsError(key: "ref_model", message: "KTO needs a reference model (or LoRA adapters to disable)")
        }
        sequenceLimit = SequenceLimit(maximumLength: configuration.maximumLength, models: models)
        var configuration = configuration
        configuration.maximumLength = sequenceLimit.length
        self.configuration = configuration
        self.policy = policy
        policy.model.gradientCheckpointing = configuration.training.gradientCheckpointing
        self.reference = reference
        padding = encoder.padding
        if configuration.disableDropout { LoRA.setTraining(policy.model, false) }

        var dropped = 0
        func prepared(_ data: [Example]) throws -> [KTOExample] {
            let all = try KTOExample.tokenize(data, encoder: encoder)
            let kept = all.filter { example in configuration.maximumLength.map { example.promptIds.count < $0 } ?? true }
            dropped += all.count - kept.count
            return kept
        }
        examples = try prepared(train)
        // Evaluation batches are fixed, so their mismatched completions are too — rotated within blocks of the
        // training batch size, as TRL prepares every dataset.
        evaluationExamples = KTOExample.withMismatchedCompletions(try prepared(evaluation), blockSize: configuration.training.batchSize)
        self.dropped = dropped
        samples = SampleGenerations(prompts: evaluationExamples.map(\.promptIds), tokenizer: encoder.tokenizer)
    }

    public var exampleCount: Int { examples.count }
    public var evaluationExampleCount: Int { evaluationExamples.count }

    /// The loss of a micro-batch. Its mismatched pairs rotate the micro-batch's own completions by one (in dataset
    /// order, so a micro-batch holding one of TRL's blocks pairs them as TRL does), so the KL estimate uses the same
    /// completions as the rewards — what TRL's sequential sampling achieves.
    public func loss(examples indices: [Int], generator: inout SeededGenerator) throws -> (loss: Tensor, metrics: [String: Double]) {
        let batch = KTOExample.withMismatchedCompletions(indices.sorted().map { examples[$0] }, blockSize: indices.count)
        let (loss, metrics, tokenCount) = compute(batch)
        counters["num_tokens", default: 0] += Double(tokenCount)
        return (loss, metrics.merging(["num_tokens": counters["num_tokens"] ?? 0]) { $1 })
    }

    /// Metrics on the evaluation examples as TRL's `evaluate()` reports them (without the `eval_` prefix): the loss
    /// averaged over examples, every other metric over the batches of `per_device_eval_batch_size` that report it.
    public func evaluate() throws -> [String: Double]? {
        guard !evaluationExamples.isEmpty else { return nil }
        let wasTraining = !configuration.disableDropout
        if wasTraining { LoRA.setTraining(policy.model, false) }
        defer { if wasTraining { LoRA.setTraining(policy.model, true) } }
        return HeldOutEvaluation.metrics(evaluationExamples, batchSize: configuration.training.evaluationBatchSize,
                                         tokensSeen: counters["num_tokens"] ?? 0) { batch in
            let (loss, metrics, _) = compute(batch)
            return (loss, metrics)
        }
    }

    /// Σ log π(completion) per sequence (B) of `model`, or of the policy with its adapters off for the reference.
    func sequenceLogProbabilities(_ batch: CausalBatch, referenceModel: Bool) -> [Float] {
        withoutGradients {
            if !referenceModel { return batch.sequenceLogProbabilities(batch.output(policy.model)).0.scalars }
            switch reference {
            case .model(let model): return batch.sequenceLogProbabilities(batch.output(model)).0.scalars
            default:
                return LoRA.withAdaptersDisabled(policy.model) { batch.sequenceLogProbabilities(batch.output(policy.model)).0.scalars }
            }
        }
    }

    /// The KTO loss of `batch` (a scalar on the tape), TRL's metrics for it, and its non-padding token count.
    /// Every example must carry its mismatched completion.
    func compute(_ batch: [KTOExample]) -> (Tensor, [String: Double], Int) {
        let limit = configuration.maximumLength
        let sequences = batch.map { $0.sequence($0.completionIds, maximumLength: limit) }
        let causal = CausalBatch(sequences, padding: padding)
        let (policyLogProbabilities, _, found) = causal.sequenceLogProbabilities(causal.output(policy.model), statistics: true)
        let referenceLogProbabilities = sequenceLogProbabilities(causal, referenceModel: true)

        var kl: Float = 0
        if configuration.estimatesKL {
            let mismatched = CausalBatch(batch.map { example in
                guard let completion = example.mismatchedCompletionIds else { preconditionFailure("line \(example.line) has no mismatched completion") }
                return example.sequence(completion, maximumLength: limit)
            }, padding: padding)
            let policyKL = sequenceLogProbabilities(mismatched, referenceModel: false)
            let referenceKL = sequenceLogProbabilities(mismatched, referenceModel: true)
            kl = max(zip(policyKL, referenceKL).map { $0 - $1 }.reduce(0, +) / Float(batch.count), 0)
        }
        let desirable = batch.map(\.desirable)
        let logRatios = policyLogProbabilities - Tensor(shape: [batch.count], scalars: referenceLogProbabilities)
        let loss = PreferenceLoss.kto(logRatios: logRatios, desirable: desirable, referencePoint: kl, beta: configuration.beta,
                                      desirableWeight: configuration.desirableWeight,
                                      undesirableWeight: configuration.undesirableWeight).mean()

        let tokens = found.map { causal.tokenStatistics($0) { desirable[$0] } } ?? CausalBatch.TokenStatistics()
        let targetCount = tokens.firstTokens + tokens.secondTokens
        var metrics: [String: Double] = ["kl": Double(kl), "entropy": targetCount > 0 ? tokens.entropySum / Double(targetCount) : 0]
        if tokens.firstTokens > 0 { metrics["logits/chosen"] = tokens.firstLogitSum / Double(tokens.firstTokens) }
        if tokens.secondTokens > 0 { metrics["logits/rejected"] = tokens.secondLogitSum / Double(tokens.secondTokens) }
        let beta = Double(configuration.beta)
        let ratios = logRatios.scalars.map(Double.init), logps = policyLogProbabilities.scalars.map(Double.init)
        for (label, name) in [(true, "chosen"), (false, "rejected")] {
            let members = desirable.indices.filter { desirable[$0] == label }
            guard !members.isEmpty else { continue }
            metrics["rewards/\(name)"] = members.map { beta * ratios[$0] }.reduce(0, +) / Double(members.count)
            metrics["logps/\(name)"] = members.map { logps[$0] }.reduce(0, +) / Double(members.count)
        }
        if let chosen = metrics["rewards/chosen"], let rejected = metrics["rewards/rejected"] {
            metrics["rewards/margins"] = chosen - rejected
        }
        return (loss, metrics, sequences.reduce(0) { $0 + $1.ids.count })
    }
}
