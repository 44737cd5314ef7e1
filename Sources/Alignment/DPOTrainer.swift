import Datasets
import Foundation
import LanguageModels
import Settings
import Tensors

/// How many examples the length limits changed (training and evaluation sets together).
public struct DPOTruncationReport: Equatable, Sendable {
    /// Pairs whose prompt + chosen or prompt + rejected exceeded `max_length` and were cut.
    public var sequencesTruncated = 0
    /// Prompts cut to `max_prompt_length`.
    public var promptsTruncated = 0
    /// Pairs dropped because the prompt alone fills `max_length` (keep_start would leave no completion token).
    public var dropped = 0

    public var description: String {
        "\(sequencesTruncated) pairs truncated to max_length, \(promptsTruncated) prompts truncated to max_prompt_length, "
            + "\(dropped) pairs dropped (prompt fills max_length)"
    }
}

/// Direct Preference Optimization (Rafailov et al. 2023) and its variants (TRL's `DPOTrainer`): the policy is
/// trained so that β·log π/π_ref ranks chosen above rejected, with the losses of `PreferenceLoss`.
/// Metrics: loss, rewards/chosen, rewards/rejected, rewards/accuracies, rewards/margins, logps/chosen,
/// logps/rejected, logits/chosen, logits/rejected, entropy, mean_token_accuracy, num_tokens (TRL's names).
public final class DPOTrainer: PolicyObjective {
    public var methodName: String { "DPO" }
    /// The settings in effect: `max_length` is clamped to the policy's and reference's context (see `sequenceLimit`).
    public let configuration: DPOConfiguration
    /// `max_length` clamped to the models' context.
    public let sequenceLimit: SequenceLimit
    public let policy: TrainableModel
    let reference: DPOReference
    let pairs: [DPOPair]
    let evaluationPairs: [DPOPair]
    public let samples: SampleGenerations
    let padding: Int32
    public let truncation: DPOTruncationReport
    public var counters: [String: Double] = ["num_tokens": 0]

    /// Tokenizes the data (and precomputes reference log-probabilities when configured).
    /// - Throws: `SettingsError` for unusable settings, `TrainingError.data` for examples that are not pairs.
    public init(configuration: DPOConfiguration, policy: TrainableModel, reference: DPOReference, encoder: ExampleEncoder,
                train: [Example], evaluation: [Example] = []) throws {
        try configuration.validate()
        var models: [any CausalLanguageModel] = [policy.model]
        if case .model(let model) = reference { models.append(model) }
        sequenceLimit = SequenceLimit(maximumLength: configuration.maximumLength, models: models)
        var configuration = configuration
        configuration.maximumLength = sequenceLimit.length
        self.configuration = configuration
        self.policy = policy
        policy.model.gradientCheckpointing = configuration.training.gradientCheckpointing
        self.reference = configuration.isReferenceFree ? .referenceFree : reference
        padding = encoder.padding
        if case .referenceFree = self.reference, !configuration.isReferenceFree {
            throw SettingsError(key: "loss_type", message: "\(configuration.lossTypes.map(\.rawValue)) needs a reference model")
        }
        if case .initialPolicy = self.reference, !configuration.precomputeReferenceLogProbabilities {
            throw SettingsError(key: "precompute_ref_log_probs", message: "must be true to use the initial policy as reference without a copy")
        }
        if case .adaptersDisabled = self.reference, LoRA.adapters(in: policy.model).isEmpty {
            throw SettingsError(key: "ref_model", message: "the policy has no LoRA adapters to disable; give a reference model")
        }
        if configuration.disableDropout { LoRA.setTraining(policy.model, false) }

        var report = DPOTruncationReport()
        func tokenize(_ examples: [Example]) throws -> [DPOPair] {
            var result: [DPOPair] = []
            for example in examples {
                let pair = try DPOPair.tokenize(example, encoder: encoder, maximumPromptLength: configuration.maximumPromptLength)
                if pair.chosenProbability != nil, let other = configuration.lossTypes.first(where: { $0 != .sigmoid && $0 != .sft }) {
                    throw TrainingError.data("line \(example.line): chosen_probability (a soft label) is read only by loss_type sigmoid, as the pair's own "
                                             + "label smoothing 1 − p; loss_type \(other.rawValue) would train it as a hard label. Use sigmoid, or drop the column")
                }
                if pair.promptTruncated { report.promptsTruncated += 1 }
                if let limit = configuration.maximumLength, configuration.truncationMode == "keep_start", pair.promptIds.count >= limit {
                    report.dropped += 1
                    continue
                }
                let sequences = pair.sequences(maximumLength: configuration.maximumLength, truncationMode: configuration.truncationMode)
                if sequences.truncated { report.sequencesTruncated += 1 }
                result.append(pair)
            }
            return result
        }
        var trainPairs = try tokenize(train)
        var evaluationPairs = try tokenize(evaluation)
        truncation = report
        if configuration.precomputeReferenceLogProbabilities && !configuration.isReferenceFree {
            trainPairs = Self.precompute(trainPairs, batchSize: configuration.precomputeReferenceBatchSize ?? configuration.training.batchSize,
                                         reference: self.reference, policy: policy.model, padding: padding, configuration: configuration)
            evaluationPairs = Self.precompute(evaluationPairs, batchSize: configuration.precomputeReferenceBatchSize ?? configuration.training.evaluationBatchSize,
                                              reference: self.reference, policy: policy.model, padding: padding, configuration: configuration)
        }
        pairs = trainPairs
        self.evaluationPairs = evaluationPairs
        samples = SampleGenerations(prompts: evaluationPairs.map(\.promptIds), tokenizer: encoder.tokenizer)
    }

    public var exampleCount: Int { pairs.count }

    /// The length a training batch is padded to at most (for the memory estimate).
    public var longestTrainingSequence: Int {
        pairs.longestSequence(maximumLength: configuration.maximumLength, truncationMode: configuration.truncationMode)
    }
    public var evaluationExampleCount: Int { evaluationPairs.count }

    public func loss(examples indices: [Int], generator: inout SeededGenerator) throws -> (loss: Tensor, metrics: [String: Double]) {
        let batch = makeBatch(indices.map { pairs[$0] })
        counters["num_tokens", default: 0] += Double(batch.tokenCount)
        var (loss, metrics) = compute(batch)
        metrics["num_tokens"] = counters["num_tokens"]
        return (loss, metrics)
    }

    /// Metrics on the evaluation pairs as TRL's `evaluate()` reports them (without the `eval_` prefix): the loss
    /// averaged over examples, every other metric averaged over batches of `per_device_eval_batch_size`.
    public func evaluate() throws -> [String: Double]? {
        guard !evaluationPairs.isEmpty else { return nil }
        let wasTraining = !configuration.disableDropout
        if wasTraining { LoRA.setTraining(policy.model, false) }
        defer { if wasTraining { LoRA.setTraining(policy.model, true) } }
        return HeldOutEvaluation.metrics(evaluationPairs, batchSize: configuration.training.evaluationBatchSize,
                                         tokensSeen: counters["num_tokens"] ?? 0) { compute(makeBatch($0)) }
    }

    func makeBatch(_ pairs: [DPOPair]) -> DPOBatch {
        DPOBatch(pairs, padding: padding, maximumLength: configuration.maximumLength, truncationMode: configuration.truncationMode)
    }

    /// The reference's Σ log-probabilities of the batch's 2B sequences (chosen half, then rejected), or nil.
    static func referenceLogProbabilities(_ batch: DPOBatch, reference: DPOReference, policy: any CausalLanguageModel) -> [Float]? {
        let chosen = batch.pairs.compactMap(\.referenceChosen), rejected = batch.pairs.compactMap(\.referenceRejected)
        if chosen.count == batch.pairCount && rejected.count == batch.pairCount { return chosen + rejected }
        return reference.read(policy: policy) { batch.forward($0, statistics: false).logProbabilities.scalars }
    }

    /// TRL's `precompute_ref_log_probs`: the reference's log-probabilities of every pair, in batches of `batchSize`.
    static func precompute(_ pairs: [DPOPair], batchSize: Int, reference: DPOReference, policy: any CausalLanguageModel,
                           padding: Int32, configuration: DPOConfiguration) -> [DPOPair] {
        reference.precompute(pairs, batchSize: batchSize, policy: policy, values: { pairs, model -> [(Float, Float)] in
            let batch = DPOBatch(pairs, padding: padding, maximumLength: configuration.maximumLength, truncationMode: configuration.truncationMode)
            let values = batch.forward(model, statistics: false).logProbabilities.scalars
            return (0..<batch.pairCount).map { (values[$0], values[batch.pairCount + $0]) }
        }, store: { pair, value in
            pair.referenceChosen = value.0
            pair.referenceRejected = value.1
        })
    }

    /// The weighted sum of the configured losses on `batch` (a scalar on the tape) and TRL's metrics for it.
    func compute(_ batch: DPOBatch) -> (Tensor, [String: Double]) {
        let pairCount = batch.pairCount
        let output = batch.forward(policy.model, statistics: true)
        let policyChosen = output.logProbabilities.slice(axis: 0, 0..<pairCount)
        let policyRejected = output.logProbabilities.slice(axis: 0, pairCount..<(2 * pairCount))
        let referenceValues = Self.referenceLogProbabilities(batch, reference: reference, policy: policy.model)
        let referenceChosen = referenceValues.map { Tensor(shape: [pairCount], scalars: Array($0[0..<pairCount])) }
        let referenceRejected = referenceValues.map { Tensor(shape: [pairCount], scalars: Array($0[pairCount...])) }
        let chosenCounts = batch.completionCounts[0..<pairCount].map { Float(max($0, 1)) }
        let rejectedCounts = batch.completionCounts[pairCount...].map { Float(max($0, 1)) }
        let chosenLengths = Tensor(shape: [pairCount], scalars: chosenCounts)
        let rejectedLengths = Tensor(shape: [pairCount], scalars: rejectedCounts)

        var total: Tensor?
        for (type, weight) in configuration.weightedLosses {
            let term: Tensor
            switch type {
            case .sigmoid where batch.pairs.contains { $0.chosenProbability != nil }:
                // Soft labels: each pair's own ε = 1 − p (a hard pair keeps label_smoothing).
                let smoothing = Tensor(shape: [pairCount], scalars: batch.pairs.map { $0.chosenProbability.map { 1 - $0 } ?? configuration.labelSmoothing })
                term = PreferenceLoss.softSigmoid(policyChosen: policyChosen, policyRejected: policyRejected, referenceChosen: referenceChosen,
                                                  referenceRejected: referenceRejected, beta: configuration.beta, labelSmoothing: smoothing).mean()
            case .sigmoid, .hinge, .robust:
                term = PreferenceLoss.dpo(type.preferenceKind!, policyChosen: policyChosen, policyRejected: policyRejected,
                                          referenceChosen: referenceChosen, referenceRejected: referenceRejected,
                                          beta: configuration.beta, labelSmoothing: configuration.labelSmoothing).mean()
            case .ipo:
                // IPO on per-token averages of the log-ratios (TRL, confirmed with the IPO authors).
                term = PreferenceLoss.dpo(.ipo, policyChosen: policyChosen / chosenLengths, policyRejected: policyRejected / rejectedLengths,
                                          referenceChosen: referenceChosen.map { $0 / chosenLengths },
                                          referenceRejected: referenceRejected.map { $0 / rejectedLengths },
                                          beta: configuration.beta).mean()
            case .simpo:
                term = PreferenceLoss.dpo(.simpo, policyChosen: policyChosen / chosenLengths, policyRejected: policyRejected / rejectedLengths,
                                          referenceChosen: nil, referenceRejected: nil, beta: configuration.beta,
                                          labelSmoothing: configuration.labelSmoothing, simpoGamma: configuration.simpoGamma).mean()
            case .sft:
                term = Self.chosenNegativeLogLikelihood(policyChosen, tokenCount: batch.completionCounts[0..<pairCount].reduce(0, +))
            }
            let weighted = weight == 1 ? term : term * weight
            total = total.map { $0 + weighted } ?? weighted
        }
        return (total!, metrics(output, batch: batch, reference: referenceValues))
    }

    /// RPO's NLL term (Pang et al. 2024; TRL's `sft` loss type): −(1/N) Σ log π(chosen tokens), over the N chosen
    /// completion tokens of the batch.
    static func chosenNegativeLogLikelihood(_ policyChosen: Tensor, tokenCount: Int) -> Tensor {
        policyChosen.sum() * (-1 / Float(max(tokenCount, 1)))
    }

    /// TRL's logged metrics for one batch. Rewards are β·(log π − log π_ref); without a reference (SimPO) they are
    /// β × the length-averaged log-probability, as TRL's CPO trainer logs them.
    func metrics(_ output: DPOBatch.Output, batch: DPOBatch, reference: [Float]?) -> [String: Double] {
        let pairCount = batch.pairCount
        let policy = output.logProbabilities.scalars.map(Double.init)
        let beta = Double(configuration.beta)
        var chosenRewards: [Double] = [], rejectedRewards: [Double] = []
        for index in 0..<pairCount {
            if let reference {
                chosenRewards.append(beta * (policy[index] - Double(reference[index])))
                rejectedRewards.append(beta * (policy[pairCount + index] - Double(reference[pairCount + index])))
            } else {
                chosenRewards.append(beta * policy[index] / Double(max(batch.completionCounts[index], 1)))
                rejectedRewards.append(beta * policy[pairCount + index] / Double(max(batch.completionCounts[pairCount + index], 1)))
            }
        }
        func mean(_ values: [Double]) -> Double { values.reduce(0, +) / Double(max(values.count, 1)) }
        let chosenTokens = batch.completionCounts[0..<pairCount].reduce(0, +)
        let rejectedTokens = batch.completionCounts[pairCount...].reduce(0, +)
        let allTokens = chosenTokens + rejectedTokens
        return [
            "rewards/chosen": mean(chosenRewards),
            "rewards/rejected": mean(rejectedRewards),
            "rewards/accuracies": mean(zip(chosenRewards, rejectedRewards).map { $0 > $1 ? 1 : 0 }),
            "rewards/margins": mean(zip(chosenRewards, rejectedRewards).map { $0 - $1 }),
            "logps/chosen": mean(Array(policy[0..<pairCount])),
            "logps/rejected": mean(Array(policy[pairCount...])),
            "logits/chosen": chosenTokens > 0 ? output.chosenLogitSum / Double(chosenTokens) : 0,
            "logits/rejected": rejectedTokens > 0 ? output.rejectedLogitSum / Double(rejectedTokens) : 0,
            "entropy": allTokens > 0 ? output.entropySum / Double(allTokens) : 0,
            "mean_token_accuracy": chosenTokens > 0 ? Double(output.chosenTopOneCorrect) / Double(chosenTokens) : 0,
        ]
    }
}
