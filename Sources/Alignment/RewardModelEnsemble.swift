import Datasets
import Foundation
import JSON
import LanguageModels
import Runtime
import Settings
import Tensors

/// How the scores of a reward-model ensemble's members become one reward (Coste et al. 2024, "Reward model ensembles
/// help mitigate overoptimization", §3): each member's score is first standardised (see ``RewardEnsembleManifest``),
/// then
/// - `mean`: the members' mean;
/// - `worstCase` (recipe name `min`): the lowest member score (WCO);
/// - `uncertaintyWeighted(penalty: λ)` (recipe name `uncertainty`): mean − λ · variance across members (UWO).
public enum RewardAggregation: Equatable, Sendable, CustomStringConvertible {
    case mean
    case worstCase
    case uncertaintyWeighted(penalty: Double)

    /// The recipe names, in the order the help text lists them.
    public static let names = ["mean", "min", "uncertainty"]

    /// Reads `reward_aggregation` (and `reward_uncertainty_penalty` for `uncertainty`).
    /// - Throws: `SettingsError` naming the key and the accepted values.
    public init(name: String, penalty: Double = 1) throws {
        switch name {
        case "mean": self = .mean
        case "min", "worst_case": self = .worstCase
        case "uncertainty", "uncertainty_weighted":
            guard penalty.isFinite, penalty >= 0 else {
                throw SettingsError(key: "reward_uncertainty_penalty", message: "must be a finite number ≥ 0 (got \(penalty))")
            }
            self = .uncertaintyWeighted(penalty: penalty)
        default:
            throw SettingsError(key: "reward_aggregation", message: "unknown value \(name.debugDescription); use one of \(Self.names.joined(separator: ", "))")
        }
    }

    public var description: String {
        switch self {
        case .mean: "mean"
        case .worstCase: "min"
        case let .uncertaintyWeighted(penalty): "uncertainty (λ = \(penalty))"
        }
    }

    /// The aggregate of one sample's standardised member scores.
    public func aggregate(_ scores: [Double]) -> Double {
        precondition(!scores.isEmpty, "an ensemble has at least one member")
        switch self {
        case .mean: return Self.mean(scores)
        case .worstCase: return scores.min()!
        case let .uncertaintyWeighted(penalty): return Self.mean(scores) - penalty * Self.variance(scores)
        }
    }

    static func mean(_ values: [Double]) -> Double { values.reduce(0, +) / Double(values.count) }

    /// The population variance across members (0 for one member), as Coste et al.'s intra-ensemble variance.
    static func variance(_ values: [Double]) -> Double {
        let m = mean(values)
        return values.reduce(0) { $0 + ($1 - m) * ($1 - m) } / Double(values.count)
    }
}

/// `ensemble.json`: what makes a folder a reward-model ensemble. Members are sequence-classification folders (paths
/// relative to the ensemble folder, or absolute). Each member's rewards are standardised by the mean and standard
/// deviation of that member's rewards on its training pairs' responses (chosen and rejected), so that `min` and the
/// variance compare members on one scale; a one-member ensemble is its member, rescaled.
public struct RewardEnsembleManifest: Codable, Equatable, Sendable {
    public static let fileName = "ensemble.json"

    public struct Member: Codable, Equatable, Sendable {
        public var path: String
        public var seed: UInt64
        /// Pairs the member trained on (with repeats when bootstrapped).
        public var trainingPairs: Int
        public var bootstrap: Bool
        public var rewardMean: Double
        public var rewardStandardDeviation: Double

        enum CodingKeys: String, CodingKey {
            case path, seed, bootstrap
            case trainingPairs = "training_pairs", rewardMean = "reward_mean", rewardStandardDeviation = "reward_std"
        }
    }

    public var members: [Member]

    public init(members: [Member]) { self.members = members }

    /// Whether `directory` holds an ensemble.json.
    public static func isEnsemble(_ directory: URL) -> Bool {
        FileManager.default.fileExists(atPath: directory.appendingPathComponent(fileName).path)
    }

    /// Reads and checks `directory/ensemble.json`.
    /// - Throws: `TrainingError.data` naming the file and the field (no members, a missing member folder, a
    ///   non-positive standard deviation).
    public static func load(directory: URL) throws -> RewardEnsembleManifest {
        let url = directory.appendingPathComponent(fileName)
        let manifest: RewardEnsembleManifest
        do {
            manifest = try JSONDecoder().decode(RewardEnsembleManifest.self, from: try Data(contentsOf: url))
        } catch let error as DecodingError {
            throw TrainingError.data("\(url.path): not a reward-model ensemble manifest (\(error.localizedDescription)); it needs members: [{path, seed, training_pairs, bootstrap, reward_mean, reward_std}]")
        } catch {
            throw TrainingError.data("\(url.path): cannot read (\(error.localizedDescription))")
        }
        guard !manifest.members.isEmpty else { throw TrainingError.data("\(url.path): members is empty; an ensemble needs at least one reward model") }
        for (index, member) in manifest.members.enumerated() {
            guard member.rewardStandardDeviation.isFinite, member.rewardStandardDeviation > 0, member.rewardMean.isFinite else {
                throw TrainingError.data("\(url.path): members[\(index)] (\(member.path)): reward_mean must be finite and reward_std finite and > 0")
            }
            let folder = manifest.folder(of: member, in: directory)
            guard FileManager.default.fileExists(atPath: folder.appendingPathComponent("config.json").path) else {
                throw TrainingError.data("\(url.path): members[\(index)]: \(folder.path) has no config.json (is the member folder missing?)")
            }
        }
        return manifest
    }

    /// A member's folder: its path relative to the ensemble folder, or absolute.
    public func folder(of member: Member, in directory: URL) -> URL {
        member.path.hasPrefix("/") ? URL(fileURLWithPath: member.path) : directory.appendingPathComponent(member.path)
    }

    /// The first member's folder: the one whose tokenizer and `score` layer stand for the ensemble (a PPO critic
    /// initialised from "the reward model" starts from it).
    public func firstFolder(in directory: URL) -> URL { folder(of: members[0], in: directory) }

    public func write(to directory: URL) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try AtomicFile.write(try encoder.encode(self), to: directory.appendingPathComponent(Self.fileName))
    }
}

/// A reward-model ensemble as PPO's (or best-of-n's) reward: every member scores every rollout; the standardised
/// scores are aggregated by ``RewardAggregation``. ``lastMetrics`` reports the spread of the last batch (the mean over
/// rollouts of the members' standard deviation), which PPO logs as `objective/ensemble_std`.
public final class EnsembleReward: RewardFunction {
    public let members: [RewardFunction]
    public let standardisation: [(mean: Double, deviation: Double)]
    public let aggregation: RewardAggregation
    public private(set) var lastMetrics: [String: Double] = [:]

    public init(members: [RewardFunction], standardisation: [(mean: Double, deviation: Double)], aggregation: RewardAggregation) {
        precondition(!members.isEmpty && members.count == standardisation.count, "one standardisation per member")
        self.members = members
        self.standardisation = standardisation
        self.aggregation = aggregation
    }

    /// Loads an ensemble folder (see ``RewardEnsembleManifest``); members score by token id when `sharesTokenizer`.
    /// - Throws: the manifest's errors and what loading a member throws.
    public static func load(directory: URL, aggregation: RewardAggregation, sharesTokenizer: Bool, seed: UInt64 = 42,
                            batchSize: Int = 8) throws -> EnsembleReward {
        let manifest = try RewardEnsembleManifest.load(directory: directory)
        let members = try manifest.members.map { member in
            RewardModelScorer(model: try SequenceClassifier.load(directory: manifest.folder(of: member, in: directory), seed: seed),
                              sharesTokenizer: sharesTokenizer, batchSize: batchSize)
        }
        return EnsembleReward(members: members, standardisation: manifest.members.map { ($0.rewardMean, $0.rewardStandardDeviation) },
                              aggregation: aggregation)
    }

    /// Standardised scores, member-major: `[member][rollout]`.
    public func memberScores(_ rollouts: [ScoredRollout]) throws -> [[Double]] {
        try zip(members, standardisation).map { member, scale in
            let raw = try member.scores(rollouts)
            guard raw.count == rollouts.count else {
                throw TrainingError.data("an ensemble member returned \(raw.count) scores for \(rollouts.count) rollouts")
            }
            return raw.map { (Double($0) - scale.mean) / scale.deviation }
        }
    }

    /// Aggregates member-major standardised scores: per rollout, the aggregate and the members' standard deviation.
    public static func aggregate(_ memberScores: [[Double]], _ aggregation: RewardAggregation) -> (values: [Double], spread: [Double]) {
        let count = memberScores.first?.count ?? 0
        var values: [Double] = [], spread: [Double] = []
        values.reserveCapacity(count)
        spread.reserveCapacity(count)
        for index in 0..<count {
            let column = memberScores.map { $0[index] }
            values.append(aggregation.aggregate(column))
            spread.append(RewardAggregation.variance(column).squareRoot())
        }
        return (values, spread)
    }

    public func scores(_ rollouts: [ScoredRollout]) throws -> [Float] {
        let scores = try memberScores(rollouts)
        let (values, spread) = Self.aggregate(scores, aggregation)
        lastMetrics = [
            "objective/ensemble_std": spread.isEmpty ? 0 : spread.reduce(0, +) / Double(spread.count),
            "objective/ensemble_mean": values.isEmpty ? 0 : scores.map { $0.reduce(0, +) }.reduce(0, +) / Double(scores.count * values.count),
        ]
        return values.map { Float($0) }
    }
}

/// Trains a reward-model ensemble (`charter reward --ensemble K`): K reward models from the same base with seeds
/// seed, seed + 1, …, each on all pairs (Coste et al.'s members differ by seed) or, with `bootstrap`, on a resample
/// of the pairs with replacement drawn from its seed. Members are saved as `member-1` … `member-K` under the output
/// folder, each a complete sequence-classification folder, and `ensemble.json` records their standardisation.
public enum RewardEnsembleTraining {
    /// - Parameters:
    ///   - train: runs one member's trainer with its arguments (the CLI prints progress; the pipeline runs silently).
    /// - Throws: `TrainingError.data` for a size below 1; what loading and training throw.
    public static func train(configuration: RewardConfiguration, base: URL, chatTemplate: String?, examples: [Example], size: Int,
                             bootstrap: Bool, log: (String) -> Void,
                             train: (RewardTrainer, TrainingArguments) throws -> Void) throws -> RewardEnsembleManifest {
        guard size >= 1 else { throw TrainingError.data("ensemble size must be at least 1 (got \(size))") }
        let output = URL(fileURLWithPath: configuration.training.outputDirectory)
        let encoder = try ExampleEncoder.load(directory: base, chatTemplate: chatTemplate)
        var members: [RewardEnsembleManifest.Member] = []
        for index in 0..<size {
            var settings = configuration
            let seed = configuration.training.seed &+ UInt64(index)
            settings.training.seed = seed
            settings.training.outputDirectory = output.appendingPathComponent("member-\(index + 1)").path
            var memberExamples = examples
            if bootstrap {
                var generator = SeededGenerator(seed: seed ^ 0xB0_075)
                memberExamples = (0..<examples.count).map { _ in examples[Int(generator.next() % UInt64(examples.count))] }
            }
            log("member \(index + 1) of \(size): seed \(seed), \(memberExamples.count) pairs\(bootstrap ? " (bootstrap resample)" : "")")
            let model = try SequenceClassifier.load(directory: base, seed: seed)
            let trainer = try RewardTrainer(configuration: settings, model: model, sourceDirectory: base, encoder: encoder, train: memberExamples)
            try train(trainer, settings.training)
            let (mean, deviation) = try trainer.rewardScale()
            members.append(.init(path: "member-\(index + 1)", seed: seed, trainingPairs: trainer.exampleCount, bootstrap: bootstrap,
                                 rewardMean: mean, rewardStandardDeviation: deviation))
        }
        let manifest = RewardEnsembleManifest(members: members)
        try manifest.write(to: output)
        return manifest
    }
}

extension RewardTrainer {
    /// The mean and standard deviation of the model's rewards over its training pairs' responses (chosen and
    /// rejected), the ensemble's standardisation. A constant reward gives deviation 1 (nothing to rescale).
    func rewardScale() throws -> (mean: Double, deviation: Double) {
        let sequences = pairs.flatMap { [$0.chosenIds, $0.rejectedIds] }
        let rewards = try model.scores(sequences, batchSize: configuration.training.evaluationBatchSize).map(Double.init)
        guard !rewards.isEmpty else { return (0, 1) }
        let mean = rewards.reduce(0, +) / Double(rewards.count)
        let variance = rewards.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(rewards.count)
        let deviation = variance.squareRoot()
        return (mean, deviation > 1e-12 && deviation.isFinite ? deviation : 1)
    }
}
