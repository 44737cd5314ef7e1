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
/// - `uncertaintyWeighted(penalty: λ)` (recipe name `uncertainty`): mean − λ · variance across members (UWO);
///
/// and, for an ensemble whose members are named heads, one per principle or group (``RewardEnsembleManifest/Member/head``):
/// - `weighted` (recipe name `weighted`, weights in `principle_weights`): Σ wₕ sₕ / Σ wₕ, the user's trade-off;
/// - `maxMin` (recipe name `maxmin`, groups in `principle_groups`): the lowest of the groups' mean scores, MaxMin-RLHF's
///   egalitarian objective (Chakraborty et al. 2024, eq. 5), with a group's utility the mean of its heads.
public enum RewardAggregation: Equatable, Sendable, CustomStringConvertible {
    case mean
    case worstCase
    case uncertaintyWeighted(penalty: Double)
    /// Head name → weight (≥ 0, not all 0).
    case weighted([String: Double])
    /// Groups of head names; every head in at most one group.
    case maxMin([[String]])

    /// The recipe names, in the order the help text lists them.
    public static let names = ["mean", "min", "uncertainty", "weighted", "maxmin"]

    /// Reads `reward_aggregation` (and `reward_uncertainty_penalty` for `uncertainty`, `principle_weights` for
    /// `weighted`, `principle_groups` for `maxmin`).
    /// - Parameters:
    ///   - weights: `"harmless=0.7,helpful=0.3"`.
    ///   - groups: `"harmless+honest,helpful"`: groups separated by commas, a group's heads by `+`.
    /// - Throws: `SettingsError` naming the key and the accepted values.
    public init(name: String, penalty: Double = 1, weights: String? = nil, groups: String? = nil) throws {
        if name != "weighted", weights != nil {
            throw SettingsError(key: "principle_weights", message: "applies to reward_aggregation: weighted (got \(name.debugDescription))")
        }
        if name != "maxmin", groups != nil {
            throw SettingsError(key: "principle_groups", message: "applies to reward_aggregation: maxmin (got \(name.debugDescription))")
        }
        switch name {
        case "mean": self = .mean
        case "min", "worst_case": self = .worstCase
        case "uncertainty", "uncertainty_weighted":
            guard penalty.isFinite, penalty >= 0 else {
                throw SettingsError(key: "reward_uncertainty_penalty", message: "must be a finite number ≥ 0 (got \(penalty))")
            }
            self = .uncertaintyWeighted(penalty: penalty)
        case "weighted":
            guard let weights else { throw SettingsError(key: "principle_weights", message: "reward_aggregation: weighted needs the heads' weights, e.g. harmless=0.7,helpful=0.3") }
            self = .weighted(try Self.parseWeights(weights))
        case "maxmin", "max_min":
            guard let groups else { throw SettingsError(key: "principle_groups", message: "reward_aggregation: maxmin needs the groups of heads, e.g. harmless+honest,helpful") }
            self = .maxMin(try Self.parseGroups(groups))
        default:
            throw SettingsError(key: "reward_aggregation", message: "unknown value \(name.debugDescription); use one of \(Self.names.joined(separator: ", "))")
        }
    }

    /// `"a=0.7,b=0.3"` → [a: 0.7, b: 0.3].
    /// - Throws: `SettingsError` for an entry without `=`, a repeated head, a weight that is not a finite number ≥ 0, or
    ///   weights that are all 0.
    public static func parseWeights(_ text: String) throws -> [String: Double] {
        var weights: [String: Double] = [:]
        for entry in text.split(separator: ",", omittingEmptySubsequences: false) {
            let parts = entry.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard parts.count == 2, !parts[0].isEmpty else {
                throw SettingsError(key: "principle_weights", message: "\(String(entry).debugDescription) is not head=weight (write e.g. harmless=0.7,helpful=0.3)")
            }
            guard let weight = Double(parts[1]), weight.isFinite, weight >= 0 else {
                throw SettingsError(key: "principle_weights", message: "the weight of \(parts[0]) must be a finite number ≥ 0 (got \(parts[1].debugDescription))")
            }
            guard weights.updateValue(weight, forKey: parts[0]) == nil else {
                throw SettingsError(key: "principle_weights", message: "\(parts[0]) is given twice")
            }
        }
        guard weights.values.contains(where: { $0 > 0 }) else {
            throw SettingsError(key: "principle_weights", message: "at least one weight must be positive")
        }
        return weights
    }

    /// `"a+b,c"` → [[a, b], [c]].
    /// - Throws: `SettingsError` for an empty group or head, or a head in two groups.
    public static func parseGroups(_ text: String) throws -> [[String]] {
        var seen = Set<String>()
        return try text.split(separator: ",", omittingEmptySubsequences: false).map { group in
            let heads = group.split(separator: "+", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
            for head in heads {
                guard !head.isEmpty else {
                    throw SettingsError(key: "principle_groups", message: "\(String(group).debugDescription) has an empty head name (write e.g. harmless+honest,helpful)")
                }
                guard seen.insert(head).inserted else { throw SettingsError(key: "principle_groups", message: "\(head) is in two groups") }
            }
            return heads
        }
    }

    public var description: String {
        switch self {
        case .mean: "mean"
        case .worstCase: "min"
        case let .uncertaintyWeighted(penalty): "uncertainty (λ = \(penalty))"
        case let .weighted(weights): "weighted (" + weights.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ", ") + ")"
        case let .maxMin(groups): "maxmin (" + groups.map { $0.joined(separator: "+") }.joined(separator: ", ") + ")"
        }
    }

    /// Whether the aggregation combines named heads (and so needs an ensemble whose members have them).
    public var usesHeads: Bool {
        switch self {
        case .weighted, .maxMin: true
        default: false
        }
    }

    /// Checks that a head-combining aggregation names exactly the ensemble's heads: every head named once, no name
    /// that is not a head (a head left out would be dropped without a word; give it weight 0 to ignore it).
    /// - Throws: `TrainingError.data` naming the missing or unknown heads.
    public func check(heads: [String?], ensemble: String) throws {
        guard usesHeads else { return }
        guard heads.allSatisfy({ $0 != nil }) else {
            throw TrainingError.data("\(ensemble): reward_aggregation \(self) combines named heads, but some members have no head (train one head per principle with charter reward --head NAME=FILE or --heads-from-labels)")
        }
        let available = Set(heads.compactMap { $0 })
        let named: Set<String>
        switch self {
        case let .weighted(weights): named = Set(weights.keys)
        case let .maxMin(groups): named = Set(groups.joined())
        default: return
        }
        let unknown = named.subtracting(available).sorted(), missing = available.subtracting(named).sorted()
        guard unknown.isEmpty else {
            throw TrainingError.data("\(ensemble): no head named \(unknown.joined(separator: ", ")); its heads are \(available.sorted().joined(separator: ", "))")
        }
        guard missing.isEmpty else {
            throw TrainingError.data("\(ensemble): reward_aggregation \(self) does not name head(s) \(missing.joined(separator: ", ")); give each a weight or a group (weight 0 ignores a head)")
        }
    }

    /// The aggregate of one sample's standardised member scores; `heads[i]` names member i (needed by `weighted` and
    /// `maxMin`, which ``check(heads:ensemble:)`` has validated).
    public func aggregate(_ scores: [Double], heads: [String?] = []) -> Double {
        precondition(!scores.isEmpty, "an ensemble has at least one member")
        switch self {
        case .mean: return Self.mean(scores)
        case .worstCase: return scores.min()!
        case let .uncertaintyWeighted(penalty): return Self.mean(scores) - penalty * Self.variance(scores)
        case let .weighted(weights):
            precondition(heads.count == scores.count, "weighted aggregation needs the members' heads")
            var total = 0.0, weightTotal = 0.0
            for (score, head) in zip(scores, heads) {
                let weight = weights[head ?? ""] ?? 0
                total += weight * score
                weightTotal += weight
            }
            return total / weightTotal
        case let .maxMin(groups):
            precondition(heads.count == scores.count, "maxmin aggregation needs the members' heads")
            return groups.map { group in Self.mean(zip(scores, heads).filter { group.contains($0.1 ?? "") }.map(\.0)) }.min()!
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
/// relative to the ensemble folder, or absolute), or columns of one: members of a shared-trunk ensemble share a
/// `path` whose folder has `num_labels` K, and each names its `column` (0 … K−1) of the score layer. Each member's rewards are standardised by the mean and standard
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
        /// The principle (or group) this member scores, when the ensemble is one head per principle; nil for members
        /// that differ only by seed or resample.
        public var head: String?
        /// The member's column of a shared trunk's score layer (`num_labels` K > 1); nil for a folder of its own
        /// (`num_labels` 1).
        public var column: Int?

        public init(path: String, seed: UInt64, trainingPairs: Int, bootstrap: Bool, rewardMean: Double, rewardStandardDeviation: Double,
                    head: String? = nil, column: Int? = nil) {
            self.path = path
            self.seed = seed
            self.trainingPairs = trainingPairs
            self.bootstrap = bootstrap
            self.rewardMean = rewardMean
            self.rewardStandardDeviation = rewardStandardDeviation
            self.head = head
            self.column = column
        }

        enum CodingKeys: String, CodingKey {
            case path, seed, bootstrap, head, column
            case trainingPairs = "training_pairs", rewardMean = "reward_mean", rewardStandardDeviation = "reward_std"
        }
    }

    public var members: [Member]

    public init(members: [Member]) { self.members = members }

    /// The members' heads, in member order.
    public var heads: [String?] { members.map(\.head) }

    /// Whether `directory` holds an ensemble.json.
    public static func isEnsemble(_ directory: URL) -> Bool {
        FileManager.default.fileExists(atPath: directory.appendingPathComponent(fileName).path)
    }

    /// Reads and checks `directory/ensemble.json`.
    /// - Throws: `TrainingError.data` naming the file and the field (no members, a missing member folder, a
    ///   non-positive standard deviation, a `column` outside the folder's `num_labels`, a missing `column` for a
    ///   folder with `num_labels` > 1).
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
        let heads = manifest.members.compactMap(\.head)
        if let repeated = Dictionary(grouping: heads, by: { $0 }).first(where: { $0.value.count > 1 })?.key {
            throw TrainingError.data("\(url.path): two members have head \(repeated.debugDescription); each head is one principle's reward model")
        }
        if let empty = manifest.members.firstIndex(where: { $0.head?.isEmpty == true }) {
            throw TrainingError.data("\(url.path): members[\(empty)].head is empty; name the principle or leave head out")
        }
        var labelCounts: [URL: Int] = [:]
        for (index, member) in manifest.members.enumerated() {
            guard member.rewardStandardDeviation.isFinite, member.rewardStandardDeviation > 0, member.rewardMean.isFinite else {
                throw TrainingError.data("\(url.path): members[\(index)] (\(member.path)): reward_mean must be finite and reward_std finite and > 0")
            }
            let folder = manifest.folder(of: member, in: directory).standardizedFileURL
            let config = folder.appendingPathComponent("config.json")
            guard FileManager.default.fileExists(atPath: config.path) else {
                throw TrainingError.data("\(url.path): members[\(index)]: \(folder.path) has no config.json (is the member folder missing?)")
            }
            let labels: Int
            if let known = labelCounts[folder] {
                labels = known
            } else {
                do { labels = try SequenceClassifier.labelCount(directory: folder) } catch {
                    throw TrainingError.data("\(url.path): members[\(index)]: \(error)")
                }
                labelCounts[folder] = labels
            }
            switch member.column {
            case nil where labels != 1:
                throw TrainingError.data("\(url.path): members[\(index)] has no column, but \(config.path) has num_labels \(labels) (a shared trunk); "
                                         + "give members[\(index)].column, 0 … \(labels - 1)")
            case let column? where !(0..<labels).contains(column):
                throw TrainingError.data("\(url.path): members[\(index)].column is \(column), but \(config.path) has num_labels \(labels) "
                                         + "(columns 0 … \(labels - 1))")
            default: break
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
///
/// Members are columns of ``scorers``: a member of its own is its scorer's only column; the K members of a shared
/// trunk are columns of one ``RewardModelScorer``, which scores all K in one forward pass.
public final class EnsembleReward: RewardFunction {
    /// The models that score: one per member folder (a shared trunk is one scorer for its K members).
    public let scorers: [RewardFunction]
    /// Member i's score is column `columns[i].column` of scorer `columns[i].scorer`.
    public let columns: [(scorer: Int, column: Int)]
    public let standardisation: [(mean: Double, deviation: Double)]
    public let aggregation: RewardAggregation
    /// The members' heads (nil for a member without one), in member order.
    public let heads: [String?]
    public private(set) var lastMetrics: [String: Double] = [:]

    /// Members that each score on their own (one column each).
    /// - Precondition: a head-combining aggregation was checked against `heads` (``RewardAggregation/check(heads:ensemble:)``).
    public convenience init(members: [RewardFunction], standardisation: [(mean: Double, deviation: Double)], aggregation: RewardAggregation,
                            heads: [String?]? = nil) {
        self.init(scorers: members, columns: members.indices.map { ($0, 0) }, standardisation: standardisation, aggregation: aggregation, heads: heads)
    }

    /// Members as columns of scorers; a scorer with more than one column is a ``RewardModelScorer`` of a shared trunk.
    /// - Precondition: a head-combining aggregation was checked against `heads` (``RewardAggregation/check(heads:ensemble:)``).
    public init(scorers: [RewardFunction], columns: [(scorer: Int, column: Int)], standardisation: [(mean: Double, deviation: Double)],
                aggregation: RewardAggregation, heads: [String?]? = nil) {
        precondition(!columns.isEmpty && columns.count == standardisation.count, "one standardisation per member")
        precondition(columns.allSatisfy { scorers.indices.contains($0.scorer) && $0.column >= 0 }, "every member reads a scorer's column")
        self.scorers = scorers
        self.columns = columns
        self.standardisation = standardisation
        self.aggregation = aggregation
        self.heads = heads ?? Array(repeating: nil, count: columns.count)
        precondition(self.heads.count == columns.count, "one head (or nil) per member")
    }

    /// The number of members.
    public var memberCount: Int { columns.count }

    /// Loads an ensemble folder (see ``RewardEnsembleManifest``); members score by token id when `sharesTokenizer`.
    /// Members that share a folder (a shared trunk's columns) load it once and score in one forward pass.
    /// - Throws: the manifest's errors, an aggregation that does not name the ensemble's heads exactly, and what
    ///   loading a member throws.
    public static func load(directory: URL, aggregation: RewardAggregation, sharesTokenizer: Bool, seed: UInt64 = 42,
                            batchSize: Int = 8) throws -> EnsembleReward {
        let manifest = try RewardEnsembleManifest.load(directory: directory)
        try aggregation.check(heads: manifest.heads, ensemble: directory.appendingPathComponent(RewardEnsembleManifest.fileName).path)
        var scorers: [RewardFunction] = [], byFolder: [URL: Int] = [:]
        let columns = try manifest.members.map { member in
            let folder = manifest.folder(of: member, in: directory).standardizedFileURL
            if byFolder[folder] == nil {
                byFolder[folder] = scorers.count
                // The manifest has checked the folder's num_labels against the columns that read it.
                scorers.append(RewardModelScorer(model: try SequenceClassifier.load(directory: folder, seed: seed, labels: member.column == nil ? 1 : nil),
                                                 sharesTokenizer: sharesTokenizer, batchSize: batchSize))
            }
            return (scorer: byFolder[folder]!, column: member.column ?? 0)
        }
        return EnsembleReward(scorers: scorers, columns: columns, standardisation: manifest.members.map { ($0.rewardMean, $0.rewardStandardDeviation) },
                              aggregation: aggregation, heads: manifest.heads)
    }

    /// Standardised scores, member-major: `[member][rollout]`. Each scorer runs once.
    public func memberScores(_ rollouts: [ScoredRollout]) throws -> [[Double]] {
        let raw: [[[Float]]] = try scorers.map { scorer in  // [scorer][column][rollout]
            let columns = try (scorer as? RewardModelScorer).flatMap { $0.model.labelCount > 1 ? try $0.headScores(rollouts) : nil }
                ?? [try scorer.scores(rollouts)]
            guard columns.allSatisfy({ $0.count == rollouts.count }) else {
                throw TrainingError.data("an ensemble member returned \(columns.map(\.count)) scores for \(rollouts.count) rollouts")
            }
            return columns
        }
        return zip(columns, standardisation).map { source, scale in
            raw[source.scorer][source.column].map { (Double($0) - scale.mean) / scale.deviation }
        }
    }

    /// Aggregates member-major standardised scores: per rollout, the aggregate and the members' standard deviation.
    /// `heads` names the members for `weighted` and `maxmin`.
    public static func aggregate(_ memberScores: [[Double]], _ aggregation: RewardAggregation, heads: [String?] = []) -> (values: [Double], spread: [Double]) {
        let count = memberScores.first?.count ?? 0
        var values: [Double] = [], spread: [Double] = []
        values.reserveCapacity(count)
        spread.reserveCapacity(count)
        for index in 0..<count {
            let column = memberScores.map { $0[index] }
            values.append(aggregation.aggregate(column, heads: heads))
            spread.append(RewardAggregation.variance(column).squareRoot())
        }
        return (values, spread)
    }

    public func scores(_ rollouts: [ScoredRollout]) throws -> [Float] {
        let scores = try memberScores(rollouts)
        let (values, spread) = Self.aggregate(scores, aggregation, heads: heads)
        var metrics = [
            "objective/ensemble_std": spread.isEmpty ? 0 : spread.reduce(0, +) / Double(spread.count),
            "objective/ensemble_mean": values.isEmpty ? 0 : scores.map { $0.reduce(0, +) }.reduce(0, +) / Double(scores.count * values.count),
        ]
        // Each named head's mean standardised score, so a run shows where along the trade-off it moves.
        for (head, column) in zip(heads, scores) where head != nil && !column.isEmpty {
            metrics["objective/head/\(head!)"] = column.reduce(0, +) / Double(column.count)
        }
        lastMetrics = metrics
        return values.map { Float($0) }
    }
}

/// Trains a reward-model ensemble (`charter reward --ensemble K`): K reward models from the same base with seeds
/// seed, seed + 1, …, each on all pairs (Coste et al.'s members differ by seed) or, with `bootstrap`, on a resample
/// of the pairs with replacement drawn from its seed. Members are saved as `member-1` … `member-K` under the output
/// folder, each a complete sequence-classification folder, and `ensemble.json` records their standardisation.
///
/// ``train(configuration:base:chatTemplate:heads:log:train:)`` trains one reward model per named head instead (one
/// principle's or group's pairs each, `charter reward --head NAME=FILE`), saved as `head-NAME`.
public enum RewardEnsembleTraining {
    /// One member to train: its folder name under the output, its pairs, its seed and head.
    struct MemberPlan {
        var path: String
        var seed: UInt64
        var examples: [Example]
        var bootstrap: Bool
        var head: String?
    }

    /// - Parameters:
    ///   - train: runs one member's trainer with its arguments (the CLI prints progress; the pipeline runs silently).
    /// - Throws: `TrainingError.data` for a size below 1; what loading and training throw.
    public static func train(configuration: RewardConfiguration, base: URL, chatTemplate: String?, examples: [Example], size: Int,
                             bootstrap: Bool, log: (String) -> Void,
                             train: (RewardTrainer, TrainingArguments) throws -> Void) throws -> RewardEnsembleManifest {
        guard size >= 1 else { throw TrainingError.data("ensemble size must be at least 1 (got \(size))") }
        let plans = (0..<size).map { index in
            let seed = configuration.training.seed &+ UInt64(index)
            let memberExamples = bootstrap ? resample(count: examples.count, seed: seed).map { examples[$0] } : examples
            return MemberPlan(path: "member-\(index + 1)", seed: seed, examples: memberExamples, bootstrap: bootstrap, head: nil)
        }
        return try run(plans, configuration: configuration, base: base, chatTemplate: chatTemplate, log: log, train: train)
    }

    /// Trains one reward model per head on that head's pairs (seed, seed + 1, … in the order given), into
    /// `head-NAME` folders, and writes `ensemble.json` naming each member's head.
    /// - Throws: `TrainingError.data` for no heads, a repeated or malformed name, or a head without pairs; what
    ///   loading and training throw.
    public static func train(configuration: RewardConfiguration, base: URL, chatTemplate: String?, heads: [(name: String, examples: [Example])],
                             log: (String) -> Void, train: (RewardTrainer, TrainingArguments) throws -> Void) throws -> RewardEnsembleManifest {
        try check(heads)
        let plans = heads.enumerated().map { index, head in
            MemberPlan(path: "head-\(head.name)", seed: configuration.training.seed &+ UInt64(index), examples: head.examples, bootstrap: false, head: head.name)
        }
        return try run(plans, configuration: configuration, base: base, chatTemplate: chatTemplate, log: log, train: train)
    }

    /// Bootstrap resample of `count` items with replacement: `count` indices drawn uniformly from the generator
    /// seeded with a member's `seed` (so a member's resample is the same whether it trains alone or as a trunk's head).
    static func resample(count: Int, seed: UInt64) -> [Int] {
        guard count > 0 else { return [] }
        var generator = SeededGenerator(seed: seed ^ 0xB0_075)
        return (0..<count).map { _ in Int(generator.next() % UInt64(count)) }
    }

    /// - Throws: `TrainingError.data` for no heads, a repeated or malformed name, or a head without pairs.
    static func check(_ heads: [(name: String, examples: [Example])]) throws {
        guard !heads.isEmpty else { throw TrainingError.data("no heads to train (give --head NAME=FILE or --heads-from-labels FILE)") }
        var seen = Set<String>()
        for head in heads {
            guard head.name.range(of: "^[A-Za-z0-9_.-]+$", options: .regularExpression) != nil else {
                throw TrainingError.data("head name \(head.name.debugDescription) must be letters, digits, _ . or - (it names a folder)")
            }
            guard seen.insert(head.name).inserted else { throw TrainingError.data("head \(head.name) is given twice") }
            guard !head.examples.isEmpty else { throw TrainingError.data("head \(head.name) has no preference pairs") }
        }
    }

    static func run(_ plans: [MemberPlan], configuration: RewardConfiguration, base: URL, chatTemplate: String?, log: (String) -> Void,
                    train: (RewardTrainer, TrainingArguments) throws -> Void) throws -> RewardEnsembleManifest {
        let output = URL(fileURLWithPath: configuration.training.outputDirectory)
        let encoder = try ExampleEncoder.load(directory: base, chatTemplate: chatTemplate)
        var members: [RewardEnsembleManifest.Member] = []
        for (index, plan) in plans.enumerated() {
            var settings = configuration
            settings.training.seed = plan.seed
            settings.training.outputDirectory = output.appendingPathComponent(plan.path).path
            log("\(plan.head.map { "head \($0)" } ?? "member \(index + 1)") of \(plans.count): seed \(plan.seed), \(plan.examples.count) pairs"
                + (plan.bootstrap ? " (bootstrap resample)" : ""))
            let model = try SequenceClassifier.load(directory: base, seed: plan.seed)
            let trainer = try RewardTrainer(configuration: settings, model: model, sourceDirectory: base, encoder: encoder, train: plan.examples)
            try train(trainer, settings.training)
            let (mean, deviation) = try trainer.rewardScale()
            members.append(.init(path: plan.path, seed: plan.seed, trainingPairs: trainer.exampleCount, bootstrap: plan.bootstrap,
                                 rewardMean: mean, rewardStandardDeviation: deviation, head: plan.head))
        }
        let manifest = RewardEnsembleManifest(members: members)
        try manifest.write(to: output)
        return manifest
    }
}

extension RewardTrainer {
    /// The mean and standard deviation of the model's rewards over its training pairs' responses (chosen and
    /// rejected), the ensemble's standardisation. A constant reward gives deviation 1 (nothing to rescale).
    func rewardScale() throws -> (mean: Double, deviation: Double) { try rewardScales()[0] }

    /// ``rewardScale()`` of every head, each over the responses of the pairs it trained on, counted as often as its
    /// loss counts them (`exampleWeights`).
    func rewardScales() throws -> [(mean: Double, deviation: Double)] {
        let sequences = pairs.flatMap { [$0.chosenIds, $0.rejectedIds] }
        let rows = try model.labelScores(sequences, batchSize: configuration.training.evaluationBatchSize)
        return (0..<model.labelCount).map { head in
            let weights = pairWeights?[head].flatMap { [Double($0), Double($0)] } ?? [Double](repeating: 1, count: rows.count)
            let total = weights.reduce(0, +)
            guard total > 0 else { return (0, 1) }
            let rewards = rows.map { Double($0[head]) }
            let mean = zip(rewards, weights).reduce(0) { $0 + $1.0 * $1.1 } / total
            let variance = zip(rewards, weights).reduce(0) { $0 + $1.1 * ($1.0 - mean) * ($1.0 - mean) } / total
            let deviation = variance.squareRoot()
            return (mean, deviation > 1e-12 && deviation.isFinite ? deviation : 1)
        }
    }

    /// The pairs head `head` trained on, with repeats (all pairs without `exampleWeights`).
    func trainingPairCount(head: Int) -> Int {
        pairWeights.map { Int($0[head].reduce(0, +).rounded()) } ?? pairs.count
    }
}
