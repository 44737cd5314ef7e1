import Datasets
import Foundation
import LanguageModels
import Settings
import Tensors

/// Reward-model training on pairwise preferences (TRL's `RewardTrainer`): a `SequenceClassifier` learns r so that
/// r(chosen) > r(rejected), with `PreferenceLoss.reward` (Bradley–Terry; margins, soft labels, centring).
/// K-way rankings expand to their pairs (`RewardPair.pairs(from:encoder:)`).
/// Metrics: loss, accuracy, margin, mean_reward, min_reward, max_reward, num_tokens (TRL's names).
///
/// A model with K labels is K reward heads on one trunk (a shared-trunk ensemble): the loss is the sum over heads of
/// each head's loss, and `exampleWeights[k][i]` says how often example i counts in head k's (a bootstrap resample's
/// multiplicity, or 0/1 for a principle's own pairs). accuracy and margin are then the heads' means, and
/// `accuracy/NAME` (NAME from `id2label`) each head's own.
public final class RewardTrainer: TrainingObjective {
    public var methodName: String { "Reward" }
    /// The settings in effect: `max_length` is clamped to the model's context (see `sequenceLimit`).
    public let configuration: RewardConfiguration
    /// `max_length` clamped to the model's context.
    public let sequenceLimit: SequenceLimit
    public let model: SequenceClassifier
    /// The folder the model came from, whose tokenizer files are copied into every saved folder.
    public let sourceDirectory: URL?
    let pairs: [RewardPair]
    let evaluationPairs: [RewardPair]
    /// How much each training pair counts in each head's loss, `[head][pair]`; nil: once in every head.
    let pairWeights: [[Float]]?
    let padding: Int32
    /// Pairs dropped because chosen or rejected is longer than `max_length` (training + evaluation).
    public let droppedCount: Int
    public var counters: [String: Double] = ["num_tokens": 0]

    /// Tokenizes the data. The classifier's `padTokenId` is set from the encoder when it has none, as TRL does.
    /// - Throws: `SettingsError` for unusable settings, `TrainingError.data` naming the line for bad examples.
    /// - Parameters:
    ///   - exampleWeights: per head (one per label of `model`), a weight ≥ 0 per training example; nil counts every
    ///     example once in every head.
    public init(configuration: RewardConfiguration, model: SequenceClassifier, sourceDirectory: URL?, encoder: ExampleEncoder,
                train: [Example], evaluation: [Example] = [], exampleWeights: [[Float]]? = nil) throws {
        precondition(exampleWeights.map { $0.count == model.labelCount && $0.allSatisfy { $0.count == train.count } } ?? true,
                     "one weight per training example for each of the model's \(model.labelCount) heads")
        try configuration.validate()
        sequenceLimit = SequenceLimit(maximumLength: configuration.maximumLength, models: [model.body])
        var configuration = configuration
        configuration.maximumLength = sequenceLimit.length
        self.configuration = configuration
        self.model = model
        self.sourceDirectory = sourceDirectory
        model.body.gradientCheckpointing = configuration.training.gradientCheckpointing
        if model.padTokenId == nil { model.padTokenId = encoder.padding }
        padding = model.padTokenId ?? encoder.padding
        var dropped = 0
        // Each kept pair with the index of the example it came from.
        func tokenize(_ examples: [Example]) throws -> [(pair: RewardPair, example: Int)] {
            try examples.enumerated().flatMap { index, example in try RewardPair.pairs(from: example, encoder: encoder).map { ($0, index) } }
                .compactMap { pair, example in
                    if let limit = configuration.maximumLength, pair.chosenIds.count > limit || pair.rejectedIds.count > limit {
                        dropped += 1
                        return nil
                    }
                    return (pair, example)
                }
        }
        let training = try tokenize(train)
        pairs = training.map(\.pair)
        pairWeights = exampleWeights.map { heads in heads.map { weights in training.map { weights[$0.example] } } }
        evaluationPairs = try tokenize(evaluation).map(\.pair)
        droppedCount = dropped
    }

    public var exampleCount: Int { pairs.count }
    public var evaluationExampleCount: Int { evaluationPairs.count }
    public var trainableParameters: [Tensor] { model.trainableParameters() }
    public var parametersWithoutDecay: [Tensor] { model.trainableParameters().filter { $0.rank < 2 } }

    public func saveModel(to directory: URL) throws {
        try model.save(to: directory)
        if let sourceDirectory { try PretrainedModel.copyCompanionFiles(from: sourceDirectory, to: directory) }
    }

    public func loadModel(from directory: URL) throws {
        try TrainableModel.assign(try SequenceClassifier.load(directory: directory, labels: model.labelCount).namedParameters(), to: model.namedParameters(),
                                  from: directory, modelName: "the reward model")
    }

    public func loss(examples indices: [Int], generator: inout SeededGenerator) throws -> (loss: Tensor, metrics: [String: Double]) {
        let batch = indices.map { pairs[$0] }
        let (loss, metrics, tokens) = compute(batch, weights: pairWeights.map { heads in heads.map { weights in indices.map { weights[$0] } } })
        counters["num_tokens", default: 0] += Double(tokens)
        return (loss, metrics.merging(["num_tokens": counters["num_tokens"] ?? 0]) { $1 })
    }

    /// Metrics on the evaluation pairs as TRL's `evaluate()` reports them (without the `eval_` prefix): the loss
    /// averaged over examples, every other metric averaged over batches of `per_device_eval_batch_size`.
    public func evaluate() throws -> [String: Double]? {
        HeldOutEvaluation.metrics(evaluationPairs, batchSize: configuration.training.evaluationBatchSize, tokensSeen: counters["num_tokens"] ?? 0) { chunk in
            let (loss, metrics, _) = compute(chunk, weights: nil)
            return (loss, metrics)
        }
    }

    /// Rewards of chosen (first B) and rejected (last B) in one right-padded batch, every head's in one forward pass;
    /// the loss, metrics and the number of real tokens. The loss is Σₖ (1/B) Σᵢ wₖᵢ ℓₖᵢ, with ℓₖᵢ head k's
    /// `PreferenceLoss.reward` on pair i and wₖᵢ its weight (1 without `weights`): for one head, the batch mean.
    /// - Parameter weights: `[head][pair in batch]`.
    func compute(_ batch: [RewardPair], weights: [[Float]]? = nil) -> (Tensor, [String: Double], Int) {
        let count = batch.count, heads = model.labelCount
        let sequences = batch.map(\.chosenIds) + batch.map(\.rejectedIds)
        let time = max(1, sequences.map(\.count).max() ?? 1)
        let ids = sequences.flatMap { $0 + [Int32](repeating: padding, count: time - $0.count) }
        let rewards = model.logits(ids: ids, batch: 2 * count, time: time)  // (2B, K)
        let chosen = rewards.slice(axis: 0, 0..<count), rejected = rewards.slice(axis: 0, count..<(2 * count))  // (B, K)
        // Per-pair terms repeated across the heads: (B, K).
        func perPair(_ value: (RewardPair) -> Float) -> Tensor {
            Tensor(shape: [count, heads], scalars: batch.flatMap { [Float](repeating: value($0), count: heads) })
        }
        let margin = batch.contains { $0.margin != nil } ? perPair { $0.margin ?? 0 } : nil
        let probability = batch.contains { $0.chosenProbability != nil } ? perPair { $0.chosenProbability ?? 1 } : nil
        var losses = PreferenceLoss.reward(chosen: chosen, rejected: rejected, margin: margin, chosenProbability: probability,
                                           centerCoefficient: configuration.centerRewardsCoefficient ?? 0)  // (B, K)
        if let weights {
            losses = losses * Tensor(shape: [count, heads], scalars: (0..<count).flatMap { pair in (0..<heads).map { weights[$0][pair] } })
        }
        let loss = heads == 1 && weights == nil ? losses.mean() : losses.sum() * (1 / Float(count))
        let values = rewards.scalars.map(Double.init)  // row-major (2B, K)
        var metrics: [String: Double] = [
            "mean_reward": values.reduce(0, +) / Double(values.count),
            "min_reward": values.min() ?? 0,
            "max_reward": values.max() ?? 0,
        ]
        var accuracies: [Double] = [], margins: [Double] = []
        for head in 0..<heads {
            let differences = (0..<count).map { values[$0 * heads + head] - values[(count + $0) * heads + head] }
            let counts = weights?[head].map(Double.init) ?? [Double](repeating: 1, count: count)
            let total = counts.reduce(0, +)
            guard total > 0 else { continue }  // this head has no pair in the batch
            let accuracy = zip(differences, counts).map { ($0 > 0 ? 1.0 : 0) * $1 }.reduce(0, +) / total
            accuracies.append(accuracy)
            margins.append(zip(differences, counts).map { $0 * $1 }.reduce(0, +) / total)
            if heads > 1 { metrics["accuracy/\(model.labelNames[head])"] = accuracy }
        }
        metrics["accuracy"] = accuracies.isEmpty ? 0 : accuracies.reduce(0, +) / Double(accuracies.count)
        metrics["margin"] = margins.isEmpty ? 0 : margins.reduce(0, +) / Double(margins.count)
        return (loss, metrics, sequences.reduce(0) { $0 + $1.count })
    }
}
