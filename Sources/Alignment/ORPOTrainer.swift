import Datasets
import Foundation
import LanguageModels
import Tensors

/// Odds Ratio Preference Optimization (Hong et al. 2024; TRL's `ORPOTrainer`): supervised fine-tuning on the chosen
/// sequence plus λ × an odds-ratio penalty on the rejected one, with no reference model. The loss of a batch is
/// NLL(prompt + chosen) − λ · mean log σ(log odds), on length-averaged completion log-probabilities
/// (`PreferenceLoss.oddsRatio`).
/// Metrics (TRL's names): loss, rewards/chosen, rewards/rejected, rewards/accuracies, rewards/margins, logps/chosen,
/// logps/rejected, logits/chosen, logits/rejected, nll_loss, log_odds_ratio, log_odds_chosen.
public final class ORPOTrainer: PolicyObjective {
    public var methodName: String { "ORPO" }
    /// The settings in effect: `max_length` is clamped to the policy's context (see `sequenceLimit`).
    public let configuration: ORPOConfiguration
    public let sequenceLimit: SequenceLimit
    public let policy: TrainableModel
    let pairs: [DPOPair]
    let evaluationPairs: [DPOPair]
    public let samples: SampleGenerations
    let padding: Int32
    /// Pairs cut to max_length, and pairs dropped because the prompt alone fills it.
    public let truncation: DPOTruncationReport
    public var counters: [String: Double] = [:]

    /// Tokenizes the pairs as TRL's ORPO does: DPO's prompt/completion split, then eos appended to each completion
    /// that does not end with it (conversations too) and bos put before a prompt that lacks it.
    /// - Throws: `SettingsError` for unusable settings, `TrainingError.data` for examples that are not pairs.
    public init(configuration: ORPOConfiguration, policy: TrainableModel, encoder: ExampleEncoder,
                train: [Example], evaluation: [Example] = []) throws {
        try configuration.validate()
        sequenceLimit = SequenceLimit(maximumLength: configuration.maximumLength, models: [policy.model])
        var configuration = configuration
        configuration.maximumLength = sequenceLimit.length
        self.configuration = configuration
        self.policy = policy
        policy.model.gradientCheckpointing = configuration.training.gradientCheckpointing
        padding = encoder.padding
        if configuration.disableDropout { LoRA.setTraining(policy.model, false) }

        var report = DPOTruncationReport()
        let eos = encoder.endOfSequence, bos = encoder.tokenizer.bosTokenId.map(Int32.init)
        func tokenize(_ examples: [Example]) throws -> [DPOPair] {
            var result: [DPOPair] = []
            for example in examples {
                var pair = try DPOPair.tokenize(example, encoder: encoder, maximumPromptLength: nil, method: "ORPO")
                if pair.chosenProbability != nil {
                    throw TrainingError.data("line \(example.line): ORPO has no soft labels; chosen_probability would be trained as a hard label. "
                                             + "Drop the column, or train with charter dpo (loss_type sigmoid reads it)")
                }
                if let eos {
                    if pair.chosenIds.last != eos { pair.chosenIds.append(eos) }
                    if pair.rejectedIds.last != eos { pair.rejectedIds.append(eos) }
                }
                if let bos, pair.promptIds.first != bos { pair.promptIds.insert(bos, at: 0) }
                if let limit = configuration.maximumLength, pair.promptIds.count >= limit {
                    report.dropped += 1
                    continue
                }
                if pair.sequences(maximumLength: configuration.maximumLength, truncationMode: "keep_start").truncated {
                    report.sequencesTruncated += 1
                }
                result.append(pair)
            }
            return result
        }
        pairs = try tokenize(train)
        evaluationPairs = try tokenize(evaluation)
        truncation = report
        samples = SampleGenerations(prompts: evaluationPairs.map(\.promptIds), tokenizer: encoder.tokenizer)
    }

    public var exampleCount: Int { pairs.count }

    /// The length a training batch is padded to at most (for the memory estimate).
    public var longestTrainingSequence: Int {
        pairs.longestSequence(maximumLength: configuration.maximumLength, truncationMode: "keep_start")
    }
    public var evaluationExampleCount: Int { evaluationPairs.count }

    public func loss(examples indices: [Int], generator: inout SeededGenerator) throws -> (loss: Tensor, metrics: [String: Double]) {
        compute(makeBatch(indices.map { pairs[$0] }))
    }

    /// Metrics on the evaluation pairs as TRL's `evaluate()` reports them (without the `eval_` prefix): the loss
    /// averaged over examples, every other metric over batches of `per_device_eval_batch_size`.
    public func evaluate() throws -> [String: Double]? {
        guard !evaluationPairs.isEmpty else { return nil }
        let wasTraining = !configuration.disableDropout
        if wasTraining { LoRA.setTraining(policy.model, false) }
        defer { if wasTraining { LoRA.setTraining(policy.model, true) } }
        var metrics = HeldOutEvaluation.metrics(evaluationPairs, batchSize: configuration.training.evaluationBatchSize,
                                                tokensSeen: 0) { compute(makeBatch($0)) }
        metrics?["num_tokens"] = nil  // TRL's ORPO does not count tokens
        return metrics
    }

    func makeBatch(_ pairs: [DPOPair]) -> DPOBatch {
        DPOBatch(pairs, padding: padding, maximumLength: configuration.maximumLength, truncationMode: "keep_start")
    }

    /// The ORPO loss of `batch` (a scalar on the tape) and TRL's metrics for it.
    func compute(_ batch: DPOBatch) -> (Tensor, [String: Double]) {
        let pairCount = batch.pairCount, causal = batch.causal
        let output = causal.output(policy.model, maskingPadding: true)
        let (sums, _, _) = causal.sequenceLogProbabilities(output)
        let counts = Tensor(shape: [2 * pairCount], scalars: batch.completionCounts.map { Float($0) })
        let averages = sums / counts  // length-averaged completion log-probabilities (2B); 0/0 only for an empty completion
        let chosen = averages.slice(axis: 0, 0..<pairCount), rejected = averages.slice(axis: 0, pairCount..<(2 * pairCount))

        // The NLL is over the whole chosen sequence, prompt included (TRL: "computed over the full prompt and response").
        var targets = [Int32](repeating: CausalBatch.ignoreIndex, count: causal.batch * causal.time)
        var nllTokens = 0
        for row in 0..<pairCount {
            for t in 0..<max(causal.lengths[row] - 1, 0) {
                targets[row * causal.time + t] = causal.ids[row * causal.time + t + 1]
                nllTokens += 1
            }
        }
        let nll = output.targetLogProbabilities(targets, ignoreIndex: CausalBatch.ignoreIndex).0.sum() * (-1 / Float(max(nllTokens, 1)))
        let (logSigmoidOdds, logOdds) = PreferenceLoss.oddsRatio(chosen: chosen, rejected: rejected)
        let loss = nll - logSigmoidOdds.mean() * configuration.beta

        let beta = Double(configuration.beta)
        let chosenValues = chosen.scalars.map(Double.init), rejectedValues = rejected.scalars.map(Double.init)
        func mean(_ values: [Double]) -> Double { values.reduce(0, +) / Double(max(values.count, 1)) }
        let (chosenLogitMean, rejectedLogitMean) = Self.meanLogits(output.meanLogits(), time: causal.time, pairCount: pairCount)
        return (loss, [
            "rewards/chosen": beta * mean(chosenValues),
            "rewards/rejected": beta * mean(rejectedValues),
            "rewards/accuracies": mean(zip(chosenValues, rejectedValues).map { $0 > $1 ? 1 : 0 }),
            "rewards/margins": beta * mean(zip(chosenValues, rejectedValues).map { $0 - $1 }),
            "logps/chosen": mean(chosenValues),
            "logps/rejected": mean(rejectedValues),
            "logits/chosen": chosenLogitMean,
            "logits/rejected": rejectedLogitMean,
            "nll_loss": Double(nll.item),
            "log_odds_ratio": mean(logSigmoidOdds.scalars.map(Double.init)),
            "log_odds_chosen": mean(logOdds.scalars.map(Double.init)),
        ])
    }

    /// TRL's `logits/chosen` and `logits/rejected`: the mean of the padded logits tensor over every position but the
    /// last and every vocabulary entry, prompt and padding positions included, for each half of the batch.
    /// positionMeans: each position's mean logit over the vocabulary, (2B · T) — `ModelOutput.meanLogits()`.
    static func meanLogits(_ positionMeans: [Double], time: Int, pairCount: Int) -> (chosen: Double, rejected: Double) {
        guard time > 1, pairCount > 0 else { return (0, 0) }
        var sums = [0.0, 0.0]
        for row in 0..<(2 * pairCount) {
            for t in 0..<(time - 1) { sums[row < pairCount ? 0 : 1] += positionMeans[row * time + t] }
        }
        let count = Double(pairCount * (time - 1))
        return (sums[0] / count, sums[1] / count)
    }
}
