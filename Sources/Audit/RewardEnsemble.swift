import Alignment
import Datasets
import Foundation
import JSON
import LanguageModels
import Reports
import Runtime

/// Where the reward models of the model-based findings come from.
public enum RewardModels: Sendable, Equatable {
    /// Cross-fitted ensembles ("Secrets of RLHF Part II", Wang et al. 2024, §2): the pairs are split into `folds`
    /// folds by prompt (so copies of a pair share a fold); for each of `repeats` random splits, one reward model per
    /// fold is trained from `base` with Charter's `RewardTrainer` on the other folds, and scores only its own fold.
    /// Every pair is thus scored by `repeats` models that never saw it. The models are saved under `directory`.
    case crossFitted(base: URL, folds: Int, repeats: Int, configuration: RewardConfiguration, directory: URL)
    /// Reward-model folders (sequence classifiers) that score every pair.
    case given([URL])
}

/// Model-based findings: suspected mislabels (the reward models confidently prefer the rejected response) and
/// "both bad" candidates (both responses score like typical rejected responses).
struct RewardEnsemble {
    let models: RewardModels
    /// Flag a suspected mislabel when the mean P(chosen ≻ rejected) over the models is at most 1 − this.
    let mislabelConfidence: Double
    let log: (String) -> Void

    /// One model's scores of the pairs it scored.
    struct ModelScores {
        var name: String
        var trainingPairs: Int
        var seconds: Double
        /// Row → (reward of chosen, reward of rejected).
        var rewards: [Int: (chosen: Double, rejected: Double)]

        /// The reward below which a response looks like a typical rejected one: midway between the medians of the
        /// chosen and of the rejected rewards of the pairs this model scored.
        var lowThreshold: Double {
            func median(_ values: [Double]) -> Double {
                let sorted = values.sorted()
                guard !sorted.isEmpty else { return 0 }
                return sorted.count % 2 == 1 ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
            }
            return (median(rewards.values.map(\.chosen)) + median(rewards.values.map(\.rejected))) / 2
        }

        /// Share of scored pairs where the model agrees with the label.
        var agreement: Double? {
            rewards.isEmpty ? nil : Double(rewards.values.filter { $0.chosen > $0.rejected }.count) / Double(rewards.count)
        }
    }

    /// Trains (when cross-fitted) and scores; returns each model's scores.
    /// - Parameters:
    ///   - examples: the readable pairs' examples, in the order of `pairs`.
    /// - Throws: model-loading and training errors, naming the folder or the line.
    func score(examples: [Example], pairs: [AuditPair]) throws -> [ModelScores] {
        switch models {
        case let .given(folders):
            return try folders.map { folder in
                let start = Date()
                let model = try SequenceClassifier.load(directory: folder)
                let encoder = try ExampleEncoder.load(directory: folder, chatTemplate: nil)
                log("scoring \(pairs.count) pairs with \(folder.lastPathComponent)")
                let rewards = try Self.rewards(model: model, encoder: encoder, examples: examples, rows: Array(examples.indices))
                return ModelScores(name: folder.path, trainingPairs: 0, seconds: Date().timeIntervalSince(start), rewards: rewards)
            }
        case let .crossFitted(base, folds, repeats, configuration, directory):
            let encoder = try ExampleEncoder.load(directory: base, chatTemplate: nil)
            var result: [ModelScores] = []
            for repeatIndex in 0..<repeats {
                let assignment = pairs.map { Self.fold(promptKey: $0.promptKey, repeatIndex: repeatIndex, folds: folds) }
                for fold in 0..<folds {
                    let start = Date()
                    let heldOut = assignment.indices.filter { assignment[$0] == fold }
                    let training = assignment.indices.filter { assignment[$0] != fold }.map { examples[$0] }
                    guard !heldOut.isEmpty, !training.isEmpty else { continue }
                    let name = "repeat-\(repeatIndex + 1)-fold-\(fold + 1)"
                    var settings = configuration
                    settings.training.outputDirectory = directory.appendingPathComponent(name).path
                    settings.training.seed = configuration.training.seed &+ UInt64(repeatIndex * folds + fold)
                    try? FileManager.default.removeItem(atPath: settings.training.outputDirectory)
                    log("\(name): training a reward model on \(training.count) pairs, scoring \(heldOut.count)")
                    let model = try SequenceClassifier.load(directory: base, seed: settings.training.seed)
                    let trainer = try RewardTrainer(configuration: settings, model: model, sourceDirectory: base, encoder: encoder, train: training)
                    _ = try TrainingLoop(arguments: settings.training).run(trainer)
                    let rewards = try Self.rewards(model: model, encoder: encoder, examples: examples, rows: heldOut)
                    result.append(ModelScores(name: name, trainingPairs: trainer.exampleCount, seconds: Date().timeIntervalSince(start), rewards: rewards))
                }
            }
            return result
        }
    }

    /// The fold of a prompt in one repeat: a hash of the prompt's key and the repeat, so a pair's copies (same
    /// prompt) never straddle training and scoring.
    static func fold(promptKey: UInt64, repeatIndex: Int, folds: Int) -> Int {
        var random = SplitMix64(seed: promptKey ^ (UInt64(repeatIndex + 1) &* 0x9E37_79B9_7F4A_7C15))
        return Int(random.next() % UInt64(folds))
    }

    /// Rewards of chosen and rejected for `rows`, tokenized as the reward trainer tokenizes; pairs longer than the
    /// model's context are left out (and counted by the caller as unscored).
    static func rewards(model: SequenceClassifier, encoder: ExampleEncoder, examples: [Example], rows: [Int]) throws
        -> [Int: (chosen: Double, rejected: Double)] {
        if model.padTokenId == nil { model.padTokenId = encoder.padding }
        let context = model.body.maximumSequenceLength
        var scorable: [(row: Int, pair: RewardPair)] = []
        for row in rows {
            guard let pair = try RewardPair.pairs(from: examples[row], encoder: encoder).first else { continue }
            if let context, max(pair.chosenIds.count, pair.rejectedIds.count) > context { continue }
            scorable.append((row, pair))
        }
        // Sorted by length so each batch pads little.
        scorable.sort { max($0.pair.chosenIds.count, $0.pair.rejectedIds.count) < max($1.pair.chosenIds.count, $1.pair.rejectedIds.count) }
        let scores = try model.scores(scorable.flatMap { [$0.pair.chosenIds, $0.pair.rejectedIds] }, batchSize: 16)
        var rewards: [Int: (chosen: Double, rejected: Double)] = [:]
        for (index, item) in scorable.enumerated() { rewards[item.row] = (Double(scores[2 * index]), Double(scores[2 * index + 1])) }
        return rewards
    }

    /// Whether a model's scores carry signal: it agrees with more than ½ + `TrainingChecks.chanceMargin` of the labels
    /// of the pairs it scored. Models at chance are reported but give no findings.
    static func informative(_ model: ModelScores) -> Bool { (model.agreement ?? 0) > 0.5 + TrainingChecks.chanceMargin }

    /// The findings per row from the informative models' scores, and the summary for `audit.json`.
    /// With `relevance` (a reference model's gaps), a row with a gap is flagged when the mean of the models' mean
    /// P(chosen ≻ rejected) and the reference's vote is at most 1 − `mislabelConfidence`.
    func findings(_ scores: [ModelScores], rows: Int, relevance: ReferenceRelevance.Votes? = nil)
        -> (findings: [Int: [Finding]], summary: RewardModelSummary) {
        let thresholds = scores.map(\.lowThreshold)
        var findings: [Int: [Finding]] = [:]
        var preferences: [Double] = []
        var scored = 0, mislabels = 0, bothBad = 0
        for row in 0..<rows {
            let all = scores.enumerated().compactMap { index, model in model.rewards[row].map { (index, $0) } }
            guard !all.isEmpty else { continue }
            scored += 1
            let per = all.filter { Self.informative(scores[$0.0]) }
            guard !per.isEmpty else { continue }
            let probabilities = per.map { 1 / (1 + exp(-($0.1.chosen - $0.1.rejected))) }
            let mean = probabilities.reduce(0, +) / Double(probabilities.count)
            let spread = probabilities.count > 1
                ? (probabilities.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(probabilities.count - 1)).squareRoot() : 0
            preferences.append(mean)
            let gap = per.reduce(0) { $0 + $1.1.chosen - $1.1.rejected } / Double(per.count)
            var evidence: [JSONValue.Member] = [
                .init("mean_chosen_preference", .numeric(mean)), .init("spread", .numeric(spread)),
                .init("mean_reward_gap", .numeric(gap)), .init("models", .integer(per.count)),
            ]
            var combined = mean
            if let relevance, let relevanceGap = relevance.gaps[row] {
                let vote = relevance.reference.vote(gap: relevanceGap)
                combined = (mean + vote) / 2
                evidence += [.init("relevance_gap", .numeric(relevanceGap)), .init("relevance_vote", .numeric(vote)),
                             .init("combined_chosen_preference", .numeric(combined))]
            }
            if combined <= 1 - mislabelConfidence {
                mislabels += 1
                findings[row, default: []].append(Finding(.suspectedMislabel, .object(evidence)))
            }
            let low = per.filter { $0.1.chosen < thresholds[$0.0] && $0.1.rejected < thresholds[$0.0] }.count
            if 2 * low > per.count {
                bothBad += 1
                findings[row, default: []].append(Finding(.bothBad, .object([
                    .init("chosen_reward", .numeric(per.reduce(0) { $0 + $1.1.chosen } / Double(per.count))),
                    .init("rejected_reward", .numeric(per.reduce(0) { $0 + $1.1.rejected } / Double(per.count))),
                    .init("low_threshold", .numeric(per.reduce(0) { $0 + thresholds[$1.0] } / Double(per.count))),
                    .init("models_finding_both_low", .integer(low)), .init("models", .integer(per.count)),
                ])))
            }
        }
        let summary = RewardModelSummary(
            source: models, mislabelConfidence: mislabelConfidence,
            models: zip(scores, thresholds).map { .init(name: $0.name, trainingPairs: $0.trainingPairs, scoredPairs: $0.rewards.count,
                                                        agreement: $0.agreement, lowThreshold: $1, seconds: $0.seconds) },
            scoredPairs: scored, unscoredPairs: rows - scored, suspectedMislabels: mislabels, bothBad: bothBad, chosenPreferences: preferences,
            reference: relevance)
        return (findings, summary)
    }
}

/// The model-based part of an audit, as `audit.json` and the report show it.
public struct RewardModelSummary: Sendable {
    public struct Model: Sendable {
        public let name: String
        /// Pairs it was trained on (0 for given models).
        public let trainingPairs: Int
        public let scoredPairs: Int
        /// Share of its scored pairs where it prefers the labelled chosen response.
        public let agreement: Double?
        /// Its "low reward" threshold for both-bad.
        public let lowThreshold: Double
        /// Training and scoring time.
        public let seconds: Double
    }

    public let source: RewardModels
    public let mislabelConfidence: Double
    public let models: [Model]
    public let scoredPairs: Int
    /// Pairs no model could score (longer than the context, or in no fold).
    public let unscoredPairs: Int
    public let suspectedMislabels: Int
    public let bothBad: Int
    /// Per scored pair, the informative models' mean P(chosen ≻ rejected) (σ of the reward gap); pairs scored only by
    /// models at chance are left out.
    public let chosenPreferences: [Double]
    /// The reference model's relevance votes, when one was given.
    public let reference: ReferenceRelevance.Votes?

    /// Training and scoring time of every model, and the reference model's time.
    public var seconds: Double { models.reduce(0) { $0 + $1.seconds } + (reference?.seconds ?? 0) }

    var jsonValue: JSONValue {
        var members: [JSONValue.Member] = []
        switch source {
        case let .crossFitted(base, folds, repeats, configuration, directory):
            members += [.init("source", .string("cross_fitted")), .init("base_model", .string(base.path)), .init("folds", .integer(folds)),
                        .init("repeats", .integer(repeats)), .init("models_directory", .string(directory.path)),
                        .init("max_steps", .integer(configuration.training.maximumSteps)),
                        .init("num_train_epochs", .numeric(Double(configuration.training.epochs))),
                        .init("learning_rate", .float(configuration.training.learningRate)),
                        .init("per_device_train_batch_size", .integer(configuration.training.batchSize))]
        case let .given(folders):
            members += [.init("source", .string("given")), .init("reward_models", .array(folders.map { .string($0.path) }))]
        }
        members += [
            .init("mislabel_confidence", .numeric(mislabelConfidence)), .init("scored_pairs", .integer(scoredPairs)),
            .init("unscored_pairs", .integer(unscoredPairs)), .init("suspected_mislabels", .integer(suspectedMislabels)),
            .init("both_bad", .integer(bothBad)), .init("seconds", .numeric(seconds)),
            .init("reference", reference.map { reference in
                .object([.init("model", .string(reference.reference.model.path)), .init("relevance_scale", .numeric(reference.reference.scale)),
                         .init("other_prompts", .integer(reference.reference.otherPrompts)), .init("scored_pairs", .integer(reference.scoredPairs)),
                         .init("seconds", .numeric(reference.seconds))])
            } ?? .null),
            .init("models", .array(models.map {
                .object([.init("name", .string($0.name)), .init("training_pairs", .integer($0.trainingPairs)),
                         .init("scored_pairs", .integer($0.scoredPairs)), .init("agreement_with_labels", $0.agreement.map(JSONValue.numeric) ?? .null),
                         .init("low_threshold", .numeric($0.lowThreshold)), .init("seconds", .numeric($0.seconds))])
            })),
        ]
        return .object(members)
    }
}
