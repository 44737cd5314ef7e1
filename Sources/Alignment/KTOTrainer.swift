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

    /// Tokenizes the data (and precomputes the reference's log-probabilities when configured): unpaired rows, or
    /// preference pairs unpaired into a desirable and an undesirable row.
    /// - Parameter reference: the frozen reference model, the policy with its adapters off, or — with
    ///   `precompute_ref_log_probs` — the initial policy, read once before training.
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
        case .initialPolicy:
            if !configuration.precomputeReferenceLogProbabilities {
                throw SettingsError(key: "precompute_ref_log_probs", message: "must be true to use the initial policy as reference without a copy")
            }
        case .referenceFree:
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
        let batchSize = configuration.training.batchSize
        var examples = try prepared(train)
        // Evaluation batches are fixed, so their mismatched completions are too — rotated within blocks of the
        // training batch size, as TRL prepares every dataset.
        var evaluationExamples = KTOExample.withMismatchedCompletions(try prepared(evaluation), blockSize: batchSize)
        if configuration.precomputeReferenceLogProbabilities {
            // As TRL: the training examples' mismatched completions are fixed the same way, so that the reference's
            // value for each can be read once; sequential batches (validate() requires them) pair them as before.
            examples = Self.precompute(KTOExample.withMismatchedCompletions(examples, blockSize: batchSize),
                                       batchSize: configuration.precomputeReferenceBatchSize ?? batchSize, reference: reference,
                                       policy: policy.model, padding: padding, configuration: configuration)
            evaluationExamples = Self.precompute(evaluationExamples,
                                                 batchSize: configuration.precomputeReferenceBatchSize ?? configuration.training.evaluationBatchSize,
                                                 reference: reference, policy: policy.model, padding: padding, configuration: configuration)
        }
        self.examples = examples
        self.evaluationExamples = evaluationExamples
        self.dropped = dropped
        samples = SampleGenerations(prompts: evaluationExamples.map(\.promptIds), tokenizer: encoder.tokenizer)
    }

    public var exampleCount: Int { examples.count }
    public var evaluationExampleCount: Int { evaluationExamples.count }

    /// The length a training batch is padded to at most (for the memory estimate): the longest prompt + completion
    /// after truncation. The mismatched completions' forward pass keeps no graph, so only these sequences' activations
    /// stay for the backward pass.
    public var longestTrainingSequence: Int {
        examples.reduce(0) { longest, example in
            Swift.max(longest, example.sequence(example.completionIds, maximumLength: configuration.maximumLength).ids.count)
        }
    }

    /// The loss of a micro-batch. Its mismatched pairs rotate the micro-batch's own completions by one (in dataset
    /// order, so a micro-batch holding one of TRL's blocks pairs them as TRL does), so the KL estimate uses the same
    /// completions as the rewards — what TRL's sequential sampling achieves. With precomputed reference
    /// log-probabilities each example keeps the mismatched completion they were computed for (the same pairs, since
    /// sampling is then sequential).
    public func loss(examples indices: [Int], generator: inout SeededGenerator) throws -> (loss: Tensor, metrics: [String: Double]) {
        let members = indices.sorted().map { examples[$0] }
        let batch = configuration.precomputeReferenceLogProbabilities
            ? members : KTOExample.withMismatchedCompletions(members, blockSize: indices.count)
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

    /// The examples' prompt + completion sequences, or with `mismatched` each prompt followed by its mismatched
    /// completion, as one padded batch.
    static func causalBatch(_ batch: [KTOExample], mismatched: Bool, padding: Int32, maximumLength: Int?) -> CausalBatch {
        CausalBatch(batch.map { example in
            guard mismatched else { return example.sequence(example.completionIds, maximumLength: maximumLength) }
            guard let completion = example.mismatchedCompletionIds else { preconditionFailure("line \(example.line) has no mismatched completion") }
            return example.sequence(completion, maximumLength: maximumLength)
        }, padding: padding)
    }

    /// Σ log π(completion) per sequence (B) under `model`.
    static func logProbabilities(_ batch: CausalBatch, model: any CausalLanguageModel) -> [Float] {
        batch.sequenceLogProbabilities(batch.output(model)).0.scalars
    }

    /// TRL's `precompute_ref_log_probs`: the reference's Σ log-probabilities of every example's completion and, for
    /// `kto`, of its mismatched completion, in batches of `batchSize`.
    static func precompute(_ examples: [KTOExample], batchSize: Int, reference: DPOReference, policy: any CausalLanguageModel,
                           padding: Int32, configuration: KTOConfiguration) -> [KTOExample] {
        let limit = configuration.maximumLength
        return reference.precompute(examples, batchSize: batchSize, policy: policy, values: { batch, model -> [(Float, Float?)] in
            let completions = logProbabilities(causalBatch(batch, mismatched: false, padding: padding, maximumLength: limit), model: model)
            let mismatched = configuration.estimatesKL
                ? logProbabilities(causalBatch(batch, mismatched: true, padding: padding, maximumLength: limit), model: model) : nil
            return completions.indices.map { (completions[$0], mismatched?[$0]) }
        }, store: { example, values in
            example.referenceLogProbability = values.0
            example.referenceMismatchedLogProbability = values.1
        })
    }

    /// The reference's Σ log-probabilities of `batch`: the precomputed values when every example has one, else a
    /// forward pass of the reference.
    func referenceValues(_ batch: CausalBatch, precomputed: [Float?]) -> [Float] {
        let stored = precomputed.compactMap { $0 }
        if stored.count == precomputed.count { return stored }
        guard let values = reference.read(policy: policy.model, { Self.logProbabilities(batch, model: $0) }) else {
            preconditionFailure("a KTO trainer always has a reference")
        }
        return values
    }

    /// The KTO loss of `batch` (a scalar on the tape), TRL's metrics for it, and its non-padding token count.
    /// Every example must carry its mismatched completion.
    func compute(_ batch: [KTOExample]) -> (Tensor, [String: Double], Int) {
        let limit = configuration.maximumLength
        let causal = Self.causalBatch(batch, mismatched: false, padding: padding, maximumLength: limit)
        let (policyLogProbabilities, _, found) = causal.sequenceLogProbabilities(causal.output(policy.model), statistics: true)
        let referenceLogProbabilities = referenceValues(causal, precomputed: batch.map(\.referenceLogProbability))

        var kl: Float = 0
        if configuration.estimatesKL {
            let mismatched = Self.causalBatch(batch, mismatched: true, padding: padding, maximumLength: limit)
            let policyKL = withoutGradients { Self.logProbabilities(mismatched, model: policy.model) }
            let referenceKL = referenceValues(mismatched, precomputed: batch.map(\.referenceMismatchedLogProbability))
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
        return (loss, metrics, causal.lengths.reduce(0, +))
    }
}
