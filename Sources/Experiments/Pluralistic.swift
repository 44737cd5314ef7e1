import Alignment
import Datasets
import Foundation
import LanguageModels
import Pipelines
import Reports
import Runtime
import Tensors
import Tokenizers

/// `charter experiment pluralistic`: one reward head per group of people, combined at selection time by the user's
/// weights or by MaxMin (Chakraborty et al. 2024, "MaxMin-RLHF"), against one reward model trained on everyone's
/// pooled labels. Ground truth: the frontier experiment's review language with two groups whose preferences
/// partly conflict —
/// - **enthusiasts** want glowing reviews: r_e = (#positive − #negative) / #words (the frontier task's reward);
/// - **factual readers** want reviews without hype, praise or complaint: r_f = (#neutral − #positive − #negative) /
///   #words, so every sentiment word costs them.
///
/// Per seed: the reference model; `pairsPerPrompt` sampled pairs per training prompt, labelled once by each group
/// (the same comparisons shown to both, ties skipped per group); a head per group trained on its own labels
/// (`RewardEnsembleTraining`'s heads); a pooled reward model trained on one label per pair from a population that is
/// `majorityShare` enthusiasts (as a single reward model learns from a crowd). Best-of-n on held-out prompts then
/// selects by the weighted heads (factual weight 0 … 1), by MaxMin over the two heads, and by the pooled model; each
/// selection is scored by both groups' ground truth, standardised over the reference's samples so the groups' gains
/// are on one scale. The in-context alternative (``PluralisticInContext``): one policy, taught once to read a weight
/// line from the same labels, sampled with the sweep's weights in its prompt and no reward model.
public struct PluralisticConfiguration: Codable, Equatable, Sendable {
    /// The review language, the reference model and the response length (the frontier experiment's sizes).
    public var world = FrontierConfiguration()
    public var pairsPerPrompt = 4
    public var rewardSteps = 150
    public var rewardLearningRate = 1e-3
    /// The share of the pooled model's labels given by enthusiasts (the rest by factual readers).
    public var majorityShare = 0.8
    /// The best-of-n pool per held-out prompt.
    public var samplesPerPrompt = 64
    /// n of the best-of-n selection compared across methods (≤ `samplesPerPrompt`).
    public var selectionN = 16
    /// The factual head's weights swept by the weighted selection (the enthusiast head gets 1 − w).
    public var factualWeights = [0.0, 0.25, 0.5, 0.75, 1.0]
    /// PPO, besides best-of-n: the factual weights it is run with (then MaxMin and the pooled model); empty: no PPO.
    public var ppoFactualWeights = [0.0, 1.0]
    public var ppoEpisodes = 2048
    public var ppoLearningRate = 5e-4
    /// β of PPO's per-token KL penalty, fixed.
    public var ppoKLCoefficient = 0.05
    /// Samples from each trained policy on held-out prompts.
    public var evaluationSamples = 256
    /// SFT steps (batch 32) that teach the reference to read a weight line (``PluralisticInContext``); 0: no in-context policy.
    public var inContextSteps = 1200
    /// 3e-3, the reference's own rate: at 1e-3 the policy had not begun to read the line after 400 steps.
    public var inContextLearningRate = 3e-3
    /// How the in-context policy's conditioning data are made; results written before the heads design read as `.labels`.
    public var inContextDesign = PluralisticInContext.Design.heads
    /// Heads design: reference samples per training prompt, ranked by the weighted heads at each weight…
    public var inContextSamplesPerPrompt = 64
    /// … of which the best this many per prompt and weight are the SFT targets.
    public var inContextKeptPerPrompt = 8

    public init() {}

    /// A quick configuration for tests and smoke runs.
    public static var reduced: Self {
        var c = Self()
        c.world = .reduced
        c.pairsPerPrompt = 3
        c.rewardSteps = 60
        c.samplesPerPrompt = 16
        c.selectionN = 8
        c.factualWeights = [0, 0.5, 1]
        c.ppoFactualWeights = []
        c.ppoEpisodes = 256
        c.evaluationSamples = 64
        c.inContextSteps = 60
        c.inContextSamplesPerPrompt = 16
        c.inContextKeptPerPrompt = 4
        return c
    }

    /// - Throws: `ExperimentError` naming the field.
    public func validate() throws {
        try world.validate()
        func require(_ condition: Bool, _ name: String, _ message: String) throws { if !condition { throw ExperimentError("\(name): \(message)") } }
        try require(pairsPerPrompt >= 1, "--pairs-per-prompt", "must be at least 1 (got \(pairsPerPrompt))")
        try require(rewardSteps >= 1, "rewardSteps", "must be at least 1 (got \(rewardSteps))")
        try require(majorityShare.isFinite && (0.5...1).contains(majorityShare), "--majority-share", "must be in [0.5, 1] (got \(majorityShare))")
        try require(samplesPerPrompt >= 2, "--samples-per-prompt", "best-of-n needs at least 2 samples per prompt (got \(samplesPerPrompt))")
        try require((1...samplesPerPrompt).contains(selectionN), "--n", "must be in 1…\(samplesPerPrompt) (got \(selectionN))")
        try require(factualWeights.count >= 2 && factualWeights.allSatisfy { $0.isFinite && (0...1).contains($0) } && factualWeights == factualWeights.sorted(),
                    "factualWeights", "needs at least two increasing weights in [0, 1] (got \(factualWeights))")
        try require(ppoFactualWeights.allSatisfy { $0.isFinite && (0...1).contains($0) }, "ppoFactualWeights", "must be in [0, 1] (got \(ppoFactualWeights))")
        try require(ppoEpisodes >= 32, "--ppo-episodes", "must be at least one batch of 32 (got \(ppoEpisodes))")
        try require(ppoKLCoefficient.isFinite && ppoKLCoefficient >= 0, "--kl-coef", "must be ≥ 0 (got \(ppoKLCoefficient))")
        try require(evaluationSamples >= 2, "evaluationSamples", "needs at least 2 samples (got \(evaluationSamples))")
        try require(inContextSteps >= 0, "--in-context-steps", "must be ≥ 0 (0: no in-context policy; got \(inContextSteps))")
        try require(inContextLearningRate.isFinite && inContextLearningRate > 0, "inContextLearningRate", "must be positive (got \(inContextLearningRate))")
        if inContextSteps > 0 && inContextDesign == .heads {
            try require(factualWeights.allSatisfy(PluralisticInContext.crowdCanState), "factualWeights",
                        "the in-context policy's crowd line states weights in steps of 1/\(PluralisticInContext.crowdSize) (got \(factualWeights)); "
                        + "use such weights, --in-context-design labels, or --no-in-context")
            try require(inContextSamplesPerPrompt >= 2, "inContextSamplesPerPrompt", "needs at least 2 samples to rank (got \(inContextSamplesPerPrompt))")
            try require((1...inContextSamplesPerPrompt).contains(inContextKeptPerPrompt), "inContextKeptPerPrompt",
                        "must be in 1…\(inContextSamplesPerPrompt) (got \(inContextKeptPerPrompt))")
        }
    }
}

/// The two groups' ground truth.
public enum ReviewGroups {
    public static let enthusiast = "enthusiast", factual = "factual"

    /// Enthusiasts' reward: the frontier task's (#positive − #negative) / #words.
    public static func enthusiastReward(_ text: String) -> Double { FrontierTask.reward(text) }

    /// Factual readers' reward: (#neutral − #positive − #negative) / #words, in [−1, 1] (0 without words).
    public static func factualReward(_ text: String) -> Double {
        let counts = FrontierTask.wordCounts(text)
        guard counts.words > 0 else { return 0 }
        let sentiment = counts.positive + counts.negative
        return Double(counts.words - 2 * sentiment) / Double(counts.words)
    }

    /// The heads' weights for factual weight w, as `principle_weights` spells them: "enthusiast=1−w,factual=w".
    static func weights(factual weight: Double) -> String { "\(enthusiast)=\(1 - weight),\(factual)=\(weight)" }

    /// The weighted aggregation of the two heads at factual weight w (what best-of-n, PPO and the in-context targets rank by).
    static func weighted(factual weight: Double) throws -> RewardAggregation { try RewardAggregation(name: "weighted", weights: weights(factual: weight)) }
}

/// One selection rule's best-of-n outcome: each group's mean ground truth of the selected continuations, raw and
/// standardised (by the mean and deviation of that group's reward over the reference's samples).
public struct PluralisticSelection: Codable, Equatable, Sendable {
    /// "best-of-n", "PPO" or "in-context".
    public var policy = "best-of-n"
    /// "weighted", "maxmin" or "pooled".
    public var method: String
    /// The factual head's weight (weighted only).
    public var factualWeight: Double?
    public var enthusiast: Double
    public var factual: Double
    public var enthusiastStandardised: Double
    public var factualStandardised: Double
    /// PPO and in-context: the policy's KL from the reference on held-out prompts (nats per continuation; in-context: the
    /// prompted policy against the reference on the bare prompt).
    public var kl: Double?

    /// The worse-off group's standardised gain (MaxMin's objective, measured on the ground truth).
    public var worstGroup: Double { min(enthusiastStandardised, factualStandardised) }

    public var label: String { (policy == "best-of-n" ? "" : "\(policy): ") + (factualWeight.map { String(format: "weighted (factual %.2f)", $0) } ?? method) }
}

public struct PluralisticSeed: Codable, Equatable, Sendable {
    public var seed: UInt64
    /// Pairs kept per group (ties skipped) and for the pooled model.
    public var pairs: [String: Int]
    /// Agreement with each group's ground truth on fresh pairs of reference samples (held-out prompts, ties skipped):
    /// keys "enthusiast head/enthusiast", "pooled/factual", ….
    public var accuracy: [String: Double]
    public var selections: [PluralisticSelection]
    public var seconds: [String: Double]
    /// The in-context policy's conditioning examples (nil: not trained).
    public var inContextExamples: Int? = nil
}

extension PluralisticConfiguration {
    /// Reads a results.json configuration; one written before the in-context condition existed has no `inContext…`
    /// fields and reads as `inContextSteps` 0 (no in-context policy), and one written before the heads design has no
    /// `inContextDesign` and reads as `.labels`, so `--report-only` still renders such runs as they were made.
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init()
        world = try c.decode(FrontierConfiguration.self, forKey: .world)
        pairsPerPrompt = try c.decode(Int.self, forKey: .pairsPerPrompt)
        rewardSteps = try c.decode(Int.self, forKey: .rewardSteps)
        rewardLearningRate = try c.decode(Double.self, forKey: .rewardLearningRate)
        majorityShare = try c.decode(Double.self, forKey: .majorityShare)
        samplesPerPrompt = try c.decode(Int.self, forKey: .samplesPerPrompt)
        selectionN = try c.decode(Int.self, forKey: .selectionN)
        factualWeights = try c.decode([Double].self, forKey: .factualWeights)
        ppoFactualWeights = try c.decode([Double].self, forKey: .ppoFactualWeights)
        ppoEpisodes = try c.decode(Int.self, forKey: .ppoEpisodes)
        ppoLearningRate = try c.decode(Double.self, forKey: .ppoLearningRate)
        ppoKLCoefficient = try c.decode(Double.self, forKey: .ppoKLCoefficient)
        evaluationSamples = try c.decode(Int.self, forKey: .evaluationSamples)
        inContextSteps = try c.decodeIfPresent(Int.self, forKey: .inContextSteps) ?? 0
        inContextLearningRate = try c.decodeIfPresent(Double.self, forKey: .inContextLearningRate) ?? inContextLearningRate
        inContextDesign = try c.decodeIfPresent(PluralisticInContext.Design.self, forKey: .inContextDesign) ?? .labels
        inContextSamplesPerPrompt = try c.decodeIfPresent(Int.self, forKey: .inContextSamplesPerPrompt) ?? inContextSamplesPerPrompt
        inContextKeptPerPrompt = try c.decodeIfPresent(Int.self, forKey: .inContextKeptPerPrompt) ?? inContextKeptPerPrompt
    }
}

public enum Pluralistic {
    public static func run(_ c: PluralisticConfiguration, seed: UInt64, folder: URL,
                           log: @escaping @Sendable (String) -> Void) async throws -> PluralisticSeed {
        var clock = PhaseClock()
        let (task, referenceFolder) = try await ReviewWorldSetup.reference(c.world, name: "pluralistic", seed: seed, folder: folder, log: log)
        clock.lap("reference")

        let reference = try PretrainedModel.load(directory: referenceFolder)
        let tokenizer = try Tokenizer(directory: referenceFolder)
        let prompts = task.trainingPrompts
        let samples = FrontierPairs.sample(model: reference, tokenizer: tokenizer, prompts: prompts, pairsPerPrompt: c.pairsPerPrompt,
                                           maximumNewTokens: c.world.responseLength, seed: seed &+ 0x9A1)
        // Each pair labelled once by each group (nil: that group's rewards tie).
        let labelled = stride(from: 0, to: samples.count - 1, by: 2).map { start in
            let prompt = prompts[samples[start].promptIndex], first = samples[start].text, second = samples[start + 1].text
            return PluralisticInContext.LabelledPair(prompt: prompt,
                                                     enthusiast: FrontierPairs.label(prompt: prompt, first, second, reward: ReviewGroups.enthusiastReward),
                                                     factual: FrontierPairs.label(prompt: prompt, first, second, reward: ReviewGroups.factualReward))
        }
        let enthusiastPairs = labelled.compactMap(\.enthusiast), factualPairs = labelled.compactMap(\.factual)
        // The pooled crowd: each pair labelled by one person, an enthusiast with probability majorityShare.
        var crowd = SeededGenerator(seed: seed &+ 0xC20D)
        var pooledPairs: [FrontierPreference] = []
        for start in stride(from: 0, to: samples.count - 1, by: 2) {
            let reward = Double(crowd.nextUniform()) < c.majorityShare ? ReviewGroups.enthusiastReward : ReviewGroups.factualReward
            if let pair = FrontierPairs.label(prompt: prompts[samples[start].promptIndex], samples[start].text, samples[start + 1].text, reward: reward) {
                pooledPairs.append(pair)
            }
        }
        let pairsFolder = folder.appendingPathComponent("pairs")
        try FileManager.default.createDirectory(at: pairsFolder, withIntermediateDirectories: true)
        var files: [String: URL] = [:]
        for (name, pairs) in [(ReviewGroups.enthusiast, enthusiastPairs), (ReviewGroups.factual, factualPairs), ("pooled", pooledPairs)] {
            let url = pairsFolder.appendingPathComponent("\(name).jsonl")
            try FrontierPairs.write(pairs, to: url)
            files[name] = url
        }
        let pairCounts = [ReviewGroups.enthusiast: enthusiastPairs.count, ReviewGroups.factual: factualPairs.count, "pooled": pooledPairs.count]
        log("[seed \(seed)] pairs: \(enthusiastPairs.count) labelled by enthusiasts, \(factualPairs.count) by factual readers, "
            + "\(pooledPairs.count) by the pooled crowd (\(Int(100 * c.majorityShare))% enthusiasts)")

        let headsFolder = folder.appendingPathComponent("heads"), pooledFolder = folder.appendingPathComponent("pooled")
        var rewardConfiguration = ReviewWorldSetup.rewardConfiguration(c.world, steps: c.rewardSteps, learningRate: c.rewardLearningRate, seed: seed,
                                                                       output: headsFolder)
        _ = try RewardEnsembleTraining.train(configuration: rewardConfiguration, base: referenceFolder, chatTemplate: nil,
                                             heads: try [ReviewGroups.enthusiast, ReviewGroups.factual].map { ($0, try Dataset.load(files[$0]!).examples) },
                                             log: { log("[seed \(seed)] \($0)") }) { _ = try TrainingLoop(arguments: $1).run($0, resume: true) }
        rewardConfiguration.training.outputDirectory = pooledFolder.path
        _ = try RewardEnsembleTraining.train(configuration: rewardConfiguration, base: referenceFolder, chatTemplate: nil,
                                             examples: try Dataset.load(files["pooled"]!).examples, size: 1, bootstrap: false,
                                             log: { log("[seed \(seed)] pooled \($0)") }) { _ = try TrainingLoop(arguments: $1).run($0, resume: true) }
        clock.lap("reward models")

        log("[seed \(seed)] best-of-n pool: \(c.samplesPerPrompt) samples for each of \(task.heldOutPrompts.count) held-out prompts")
        let heldOut = task.heldOutPrompts
        let pool = FrontierEvaluation.sample(reference, tokenizer: tokenizer, prompts: heldOut, count: c.samplesPerPrompt * heldOut.count,
                                             maximumNewTokens: c.world.responseLength, seed: seed &+ 0xB0B)
        let rollouts = pool.map { ScoredRollout(promptIds: $0.promptIds, responseIds: $0.responseIds, prompt: heldOut[$0.promptIndex], response: $0.text,
                                                endsWithStopToken: $0.responseIds.last == tokenizer.eosTokenId.map(Int32.init)) }
        let heads = try EnsembleReward.load(directory: headsFolder, aggregation: .mean, sharesTokenizer: true, batchSize: 64)
        let headScores = try heads.memberScores(rollouts)
        let pooledScores = try EnsembleReward.load(directory: pooledFolder, aggregation: .mean, sharesTokenizer: true, batchSize: 64).memberScores(rollouts)[0]
        let gold = [ReviewGroups.enthusiast: pool.map { ReviewGroups.enthusiastReward($0.text) },
                    ReviewGroups.factual: pool.map { ReviewGroups.factualReward($0.text) }]
        let promptIndices = pool.map(\.promptIndex)
        var accuracy: [String: Double] = [:]
        for (scorer, scores) in [("\(ReviewGroups.enthusiast) head", headScores[heads.heads.firstIndex(of: ReviewGroups.enthusiast)!]),
                                 ("\(ReviewGroups.factual) head", headScores[heads.heads.firstIndex(of: ReviewGroups.factual)!]), ("pooled", pooledScores)] {
            for group in [ReviewGroups.enthusiast, ReviewGroups.factual] {
                accuracy["\(scorer)/\(group)"] = Overoptimization.pairAccuracy(scores: scores, gold: gold[group]!, prompts: promptIndices)
            }
        }
        log("[seed \(seed)] agreement with each group on fresh pairs: "
            + accuracy.sorted { $0.key < $1.key }.map { String(format: "%@ %.1f%%", $0.key, 100 * $0.value) }.joined(separator: ", "))

        let scale = gold.mapValues { values -> (mean: Double, deviation: Double) in
            let mean = Statistics.mean(values)
            let deviation = (values.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(values.count)).squareRoot()
            return (mean, deviation > 0 ? deviation : 1)
        }
        func select(_ method: String, weight: Double?, objective: [Double]) -> PluralisticSelection {
            let enthusiast = Overoptimization.bestOfN(c.selectionN, objective: objective, gold: gold[ReviewGroups.enthusiast]!, prompts: promptIndices).gold
            let factual = Overoptimization.bestOfN(c.selectionN, objective: objective, gold: gold[ReviewGroups.factual]!, prompts: promptIndices).gold
            return standardised(PluralisticSelection(method: method, factualWeight: weight, enthusiast: enthusiast, factual: factual,
                                                     enthusiastStandardised: 0, factualStandardised: 0))
        }
        func standardised(_ selection: PluralisticSelection) -> PluralisticSelection {
            var selection = selection
            let e = scale[ReviewGroups.enthusiast]!, f = scale[ReviewGroups.factual]!
            selection.enthusiastStandardised = (selection.enthusiast - e.mean) / e.deviation
            selection.factualStandardised = (selection.factual - f.mean) / f.deviation
            return selection
        }
        var selections: [PluralisticSelection] = try c.factualWeights.map { weight in
            select("weighted", weight: weight, objective: EnsembleReward.aggregate(headScores, try ReviewGroups.weighted(factual: weight), heads: heads.heads).values)
        }
        let maxMin = try RewardAggregation(name: "maxmin", groups: "\(ReviewGroups.enthusiast),\(ReviewGroups.factual)")
        selections.append(select("maxmin", weight: nil, objective: EnsembleReward.aggregate(headScores, maxMin, heads: heads.heads).values))
        selections.append(select("pooled", weight: nil, objective: pooledScores))
        for selection in selections {
            log(String(format: "[seed \(seed)] best-of-\(c.selectionN) by %@: enthusiast %.3f (z %+.2f), factual %.3f (z %+.2f)", selection.label,
                       selection.enthusiast, selection.enthusiastStandardised, selection.factual, selection.factualStandardised))
        }
        clock.lap("best-of-n")

        // The in-context policy: taught once to read the weights (from the labels, or from the heads' ranking of
        // reference samples on training prompts), then prompted with each weight.
        var inContextExamples: Int?
        if c.inContextSteps > 0 {
            let examples: [(prompt: String, completion: String)]
            switch c.inContextDesign {
            case .labels:
                examples = PluralisticInContext.conditioningExamples(labelled, factualWeights: c.factualWeights, seed: seed &+ 0x1C7)
            case .heads:
                let candidates = FrontierEvaluation.sample(reference, tokenizer: tokenizer, prompts: prompts, count: c.inContextSamplesPerPrompt * prompts.count,
                                                           maximumNewTokens: c.world.responseLength, seed: seed &+ 0x1C7)
                let scores = try heads.memberScores(candidates.map {
                    ScoredRollout(promptIds: $0.promptIds, responseIds: $0.responseIds, prompt: prompts[$0.promptIndex], response: $0.text,
                                  endsWithStopToken: $0.responseIds.last == tokenizer.eosTokenId.map(Int32.init))
                })
                let objectives = try c.factualWeights.map { weight in
                    EnsembleReward.aggregate(scores, try ReviewGroups.weighted(factual: weight), heads: heads.heads).values
                }
                examples = PluralisticInContext.selectedExamples(prompts: prompts, samples: candidates.map { ($0.promptIndex, $0.text) }, objectives: objectives,
                                                                 factualWeights: c.factualWeights, kept: c.inContextKeptPerPrompt)
            }
            let policyFolder = try await PluralisticInContext.train(c, examples: examples, tokenizer: tokenizer, seed: seed, folder: folder, log: log)
            inContextExamples = examples.count
            clock.lap("in-context training")
            let policy = try PretrainedModel.load(directory: policyFolder)
            for weight in c.factualWeights {
                let (samples, kl) = try PluralisticInContext.sample(policy, reference: reference, tokenizer: tokenizer, prompts: heldOut, design: c.inContextDesign, factualWeight: weight,
                                                                    count: c.evaluationSamples, maximumNewTokens: c.world.responseLength, seed: seed &+ 0xE7A1)
                var selection = standardised(PluralisticSelection(
                    policy: "in-context", method: "weighted", factualWeight: weight,
                    enthusiast: Statistics.mean(samples.map { ReviewGroups.enthusiastReward($0.text) }),
                    factual: Statistics.mean(samples.map { ReviewGroups.factualReward($0.text) }), enthusiastStandardised: 0, factualStandardised: 0))
                selection.kl = kl
                selections.append(selection)
                log(String(format: "[seed \(seed)] in-context (factual %.2f): KL %.2f, enthusiast %.3f (z %+.2f), factual %.3f (z %+.2f)", weight, kl,
                           selection.enthusiast, selection.enthusiastStandardised, selection.factual, selection.factualStandardised))
            }
            clock.lap("in-context sampling")
        }

        // PPO against the same rewards: each run's final policy sampled on held-out prompts and scored by both groups.
        let runs = c.ppoFactualWeights.map { weight in
            (name: String(format: "weighted-%.2f", weight), method: "weighted", weight: Optional(weight), folder: headsFolder,
             aggregation: "weighted", weights: Optional(ReviewGroups.weights(factual: weight)), groups: String?.none)
        } + (c.ppoFactualWeights.isEmpty ? [] : [
            (name: "maxmin", method: "maxmin", weight: nil, folder: headsFolder, aggregation: "maxmin", weights: nil,
             groups: Optional("\(ReviewGroups.enthusiast),\(ReviewGroups.factual)")),
            (name: "pooled", method: "pooled", weight: nil, folder: pooledFolder, aggregation: "mean", weights: nil, groups: nil),
        ])
        let encoder = try ExampleEncoder.load(directory: referenceFolder, chatTemplate: nil)
        let trainingPrompts = prompts.enumerated().map { Example(.promptOnly(prompt: .standard($0.element)), line: $0.offset + 1) }
        for run in runs {
            let output = folder.appendingPathComponent("ppo-\(run.name)")
            var ppo = ReviewWorldSetup.ppoConfiguration(c.world, iterations: (c.ppoEpisodes + ReviewWorldSetup.ppoBatchSize - 1) / ReviewWorldSetup.ppoBatchSize, learningRate: c.ppoLearningRate,
                                                        klCoefficient: c.ppoKLCoefficient, seed: seed, output: output)
            ppo.training.loggingSteps = 8
            ppo.training.saveSteps = 1_000_000
            ppo.ensemble.name = run.aggregation
            ppo.ensemble.principleWeights = run.weights
            ppo.ensemble.principleGroups = run.groups
            log("[seed \(seed)] PPO against \(run.name), \(ppo.totalEpisodes! / 32) iterations, β = \(c.ppoKLCoefficient)")
            let trainer = try PPOTrainer(configuration: ppo, policy: try TrainableModel(directory: referenceFolder),
                                         folders: PPOModelFolders(policy: referenceFolder, rewardModel: run.folder), encoder: encoder, prompts: trainingPrompts)
            _ = try trainer.train(resume: true)
            let (measurement, samples, _) = try FrontierEvaluation.measure(policy: try PretrainedModel.load(directory: output), reference: reference, tokenizer: tokenizer,
                                                                           prompts: heldOut, count: c.evaluationSamples, maximumNewTokens: c.world.responseLength,
                                                                           seed: seed &+ 0xE7A1)
            var selection = standardised(PluralisticSelection(
                policy: "PPO", method: run.method, factualWeight: run.weight,
                enthusiast: Statistics.mean(samples.map { ReviewGroups.enthusiastReward($0.text) }),
                factual: Statistics.mean(samples.map { ReviewGroups.factualReward($0.text) }), enthusiastStandardised: 0, factualStandardised: 0))
            selection.kl = measurement.kl
            selections.append(selection)
            log(String(format: "[seed \(seed)] PPO %@: KL %.2f, enthusiast %.3f (z %+.2f), factual %.3f (z %+.2f)", run.name, measurement.kl,
                       selection.enthusiast, selection.enthusiastStandardised, selection.factual, selection.factualStandardised))
            clock.lap("ppo-\(run.name)")
        }
        return PluralisticSeed(seed: seed, pairs: pairCounts, accuracy: accuracy, selections: selections, seconds: clock.laps,
                               inContextExamples: inContextExamples)
    }
}
