import Datasets
import Foundation
import LanguageModels
import Settings
import Tensors

/// Reward-model training on pairwise preferences (TRL's `RewardTrainer`): a `SequenceClassifier` learns r so that
/// r(chosen) > r(rejected), with `PreferenceLoss.reward` (Bradley–Terry; margins, soft labels, centring).
/// K-way rankings expand to their pairs (`RewardPair.pairs(from:encoder:)`).
/// Metrics: loss, accuracy, margin, mean_reward, min_reward, max_reward, num_tokens (TRL's names).
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
    let padding: Int32
    /// Pairs dropped because chosen or rejected is longer than `max_length` (training + evaluation).
    public let droppedCount: Int
    public var counters: [String: Double] = ["num_tokens": 0]

    /// Tokenizes the data. The classifier's `padTokenId` is set from the encoder when it has none, as TRL does.
    /// - Throws: `SettingsError` for unusable settings, `TrainingError.data` naming the line for bad examples.
    public init(configuration: RewardConfiguration, model: SequenceClassifier, sourceDirectory: URL?, encoder: ExampleEncoder,
                train: [Example], evaluation: [Example] = []) throws {
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
        func tokenize(_ examples: [Example]) throws -> [RewardPair] {
            try examples.flatMap { try RewardPair.pairs(from: $0, encoder: encoder) }.compactMap { pair in
                if let limit = configuration.maximumLength, pair.chosenIds.count > limit || pair.rejectedIds.count > limit {
                    dropped += 1
                    return nil
                }
                return pair
            }
        }
        pairs = try tokenize(train)
        evaluationPairs = try tokenize(evaluation)
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
        try TrainableModel.assign(try SequenceClassifier.load(directory: directory).namedParameters(), to: model.namedParameters(),
                                  from: directory, modelName: "the reward model")
    }

    public func loss(examples indices: [Int], generator: inout SeededGenerator) throws -> (loss: Tensor, metrics: [String: Double]) {
        let batch = indices.map { pairs[$0] }
        let (loss, metrics, tokens) = compute(batch)
        counters["num_tokens", default: 0] += Double(tokens)
        return (loss, metrics.merging(["num_tokens": counters["num_tokens"] ?? 0]) { $1 })
    }

    /// Metrics on the evaluation pairs as TRL's `evaluate()` reports them (without the `eval_` prefix): the loss
    /// averaged over examples, every other metric averaged over batches of `per_device_eval_batch_size`.
    public func evaluate() throws -> [String: Double]? {
        HeldOutEvaluation.metrics(evaluationPairs, batchSize: configuration.training.evaluationBatchSize, tokensSeen: counters["num_tokens"] ?? 0) { chunk in
            let (loss, metrics, _) = compute(chunk)
            return (loss, metrics)
        }
    }

    /// Rewards of chosen (first B) and rejected (last B) in one right-padded batch; the loss, metrics and the
    /// number of real tokens.
    func compute(_ batch: [RewardPair]) -> (Tensor, [String: Double], Int) {
        let count = batch.count
        let sequences = batch.map(\.chosenIds) + batch.map(\.rejectedIds)
        let time = max(1, sequences.map(\.count).max() ?? 1)
        let ids = sequences.flatMap { $0 + [Int32](repeating: padding, count: time - $0.count) }
        let rewards = model.rewards(ids: ids, batch: 2 * count, time: time)  // (2B)
        let chosen = rewards.slice(axis: 0, 0..<count), rejected = rewards.slice(axis: 0, count..<(2 * count))
        let margin = batch.contains { $0.margin != nil } ? Tensor(shape: [count], scalars: batch.map { $0.margin ?? 0 }) : nil
        let probability = batch.contains { $0.chosenProbability != nil }
            ? Tensor(shape: [count], scalars: batch.map { $0.chosenProbability ?? 1 }) : nil
        let loss = PreferenceLoss.reward(chosen: chosen, rejected: rejected, margin: margin, chosenProbability: probability,
                                         centerCoefficient: configuration.centerRewardsCoefficient ?? 0).mean()
        let values = rewards.scalars.map(Double.init)
        let differences = (0..<count).map { values[$0] - values[count + $0] }
        let metrics: [String: Double] = [
            "accuracy": differences.map { $0 > 0 ? 1.0 : 0 }.reduce(0, +) / Double(count),
            "margin": differences.reduce(0, +) / Double(count),
            "mean_reward": values.reduce(0, +) / Double(values.count),
            "min_reward": values.min() ?? 0,
            "max_reward": values.max() ?? 0,
        ]
        return (loss, metrics, sequences.reduce(0) { $0 + $1.count })
    }
}
