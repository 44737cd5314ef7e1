import Datasets
import Foundation
import LanguageModels
import Tensors

/// Shared-trunk ensembles (`charter reward --ensemble K --shared-trunk`): K reward heads on one trunk, saved as one
/// transformers sequence-classification folder `OUTPUT/trunk` with `num_labels` K (`id2label` member-1 … member-K, or
/// the principles' names), so `AutoModelForSequenceClassification` gives logits (batch, K). Head k is member k, as
/// `ensemble.json`'s `column` k: the members share the trunk's memory, its training steps and one forward pass per
/// scored batch, and differ only by their score rows and what their losses count.
///
/// Head k's row starts from seed + k exactly as the separately trained member k's head would. The loss is the sum over
/// heads of each head's Bradley–Terry loss (``RewardTrainer``, `exampleWeights`); with `bootstrap`, head k counts each
/// pair as often as member k's bootstrap resample holds it (the same draw as ``train(configuration:base:chatTemplate:examples:size:bootstrap:log:train:)``,
/// so each head sees member k's multiset of pairs; Poisson(1) weights would only approximate that multinomial count).
extension RewardEnsembleTraining {
    /// Trains K heads on one trunk on `examples` (all pairs, or each head's bootstrap resample).
    /// - Throws: `TrainingError.data` for a size below 1; what loading and training throw.
    public static func trainSharedTrunk(configuration: RewardConfiguration, base: URL, chatTemplate: String?, examples: [Example], size: Int,
                                        bootstrap: Bool, log: (String) -> Void,
                                        train: (RewardTrainer, TrainingArguments) throws -> Void) throws -> RewardEnsembleManifest {
        guard size >= 1 else { throw TrainingError.data("ensemble size must be at least 1 (got \(size))") }
        let seeds = (0..<size).map { configuration.training.seed &+ UInt64($0) }
        let weights: [[Float]]? = bootstrap ? seeds.map { seed in
            var counts = [Float](repeating: 0, count: examples.count)
            for index in resample(count: examples.count, seed: seed) { counts[index] += 1 }
            return counts
        } : nil
        return try runSharedTrunk(configuration: configuration, base: base, chatTemplate: chatTemplate, examples: examples, weights: weights,
                                  labels: (1...size).map { "member-\($0)" }, heads: nil, bootstrap: bootstrap, log: log, train: train)
    }

    /// Trains one head per principle on one trunk: head k's loss counts only head k's pairs.
    /// - Throws: `TrainingError.data` for no heads, a repeated or malformed name, or a head without pairs; what loading
    ///   and training throw.
    public static func trainSharedTrunk(configuration: RewardConfiguration, base: URL, chatTemplate: String?,
                                        heads: [(name: String, examples: [Example])], log: (String) -> Void,
                                        train: (RewardTrainer, TrainingArguments) throws -> Void) throws -> RewardEnsembleManifest {
        try check(heads)
        let examples = heads.flatMap(\.examples)
        var start = 0
        let weights: [[Float]] = heads.map { head in
            defer { start += head.examples.count }
            return examples.indices.map { (start..<(start + head.examples.count)).contains($0) ? 1 : 0 }
        }
        return try runSharedTrunk(configuration: configuration, base: base, chatTemplate: chatTemplate, examples: examples, weights: weights,
                                  labels: heads.map(\.name), heads: heads.map(\.name), bootstrap: false, log: log, train: train)
    }

    /// The trunk folder's name under the output folder.
    public static let trunkFolder = "trunk"

    static func runSharedTrunk(configuration: RewardConfiguration, base: URL, chatTemplate: String?, examples: [Example], weights: [[Float]]?,
                               labels: [String], heads: [String]?, bootstrap: Bool, log: (String) -> Void,
                               train: (RewardTrainer, TrainingArguments) throws -> Void) throws -> RewardEnsembleManifest {
        let output = URL(fileURLWithPath: configuration.training.outputDirectory)
        var settings = configuration
        settings.training.outputDirectory = output.appendingPathComponent(trunkFolder).path
        let seed = configuration.training.seed
        log("shared trunk: \(labels.count) heads (seeds \(seed) … \(seed &+ UInt64(labels.count - 1))), \(examples.count) pairs"
            + (bootstrap ? " (a bootstrap resample per head)" : heads == nil ? "" : " (each head its own principle's)"))
        let encoder = try ExampleEncoder.load(directory: base, chatTemplate: chatTemplate)
        let model = try SequenceClassifier.load(directory: base, seed: seed, labels: labels.count)
        model.labelNames = labels
        let trainer = try RewardTrainer(configuration: settings, model: model, sourceDirectory: base, encoder: encoder, train: examples,
                                        exampleWeights: weights)
        try train(trainer, settings.training)
        let scales = try trainer.rewardScales()
        let manifest = RewardEnsembleManifest(members: labels.indices.map { k in
            .init(path: trunkFolder, seed: seed &+ UInt64(k), trainingPairs: trainer.trainingPairCount(head: k), bootstrap: bootstrap,
                  rewardMean: scales[k].mean, rewardStandardDeviation: scales[k].deviation, head: heads?[k], column: k)
        })
        try manifest.write(to: output)
        return manifest
    }
}
