import Alignment
import Datasets
import Foundation
import LanguageModels
import Pipelines
import Reports
import Runtime
import Tensors
import Tokenizers

/// `charter experiment overoptimization` (Gao et al. 2023, "Scaling laws for reward model overoptimization"; Coste et
/// al. 2024, "Reward model ensembles help mitigate overoptimization") on the frontier experiment's review language,
/// whose ground-truth reward is the gold reward. Per seed: the reference model; `pairsPerPrompt` gold-labelled pairs
/// per training prompt; an ensemble of `ensembleSize` proxy reward models trained on them (seeds differ, Coste et
/// al.'s setting); then
/// - best-of-n on held-out prompts for n = 1, 2, 4, … `samplesPerPrompt`, ranked by each aggregation of the proxies
///   (member 1 alone, mean, min, mean − λ·variance), with gold and proxy reward against KL_bon = log n − (n − 1)/n;
/// - PPO with a small fixed KL coefficient against member 1 alone and against the ensemble under the `ppoAggregations`,
///   its checkpoints measured by gold and proxy reward against the KL from the reference; the single-proxy run is
///   watched by the reward-hacking alarm, whose monitor is `monitorSize` reward models trained on their own
///   `monitorPairsPerPrompt` gold-labelled pairs per prompt (the spot-check budget), and the gold reward of that run's
///   rollouts is recorded every iteration beside the monitor's and the proxy's scores (the alarm trace).
public struct OveroptimizationConfiguration: Codable, Equatable, Sendable {
    /// The review language, the reference model and the response length (the frontier experiment's sizes).
    public var world = FrontierConfiguration()
    /// Gold-labelled pairs per training prompt for the proxies (few, so the proxies are imperfect, as in Gao et al.'s
    /// small-data regime).
    public var pairsPerPrompt = 2
    public var ensembleSize = 4
    /// Train the proxy ensemble as `ensembleSize` heads on one shared trunk (`charter reward --shared-trunk`) instead of
    /// separate models; "single" is then head 1 of that trunk. nil (results written before the option): separate.
    public var sharedTrunk: Bool?
    /// Each proxy (or head) trains on its own bootstrap resample of the pairs (`charter reward --bootstrap`), as well as
    /// from its own seed. nil (results written before the option): no resampling.
    public var bootstrap: Bool?
    public var rewardSteps = 150
    public var rewardLearningRate = 1e-3
    /// Best-of-n pool per held-out prompt; n runs over the powers of 2 up to it.
    public var samplesPerPrompt = 256
    /// λ of the uncertainty-weighted aggregation (standardised rewards, so λ is in units of reward per variance).
    public var uncertaintyPenalty = 1.0
    public var ppoEpisodes = 4096
    public var ppoLearningRate = 5e-4
    /// β of the per-token KL penalty, fixed (small, so PPO can over-optimise the proxy).
    public var ppoKLCoefficient = 0.01
    /// Aggregations PPO is run with, besides member 1 alone ("single"); names of `reward_aggregation`.
    public var ppoAggregations = ["min", "uncertainty"]
    /// Checkpoints measured along each PPO run (the last is the final model).
    public var ppoCheckpoints = 8
    /// `monitor_tolerance` of the single-proxy run's reward-hacking alarm. Below ½ on purpose: a monitor that tracked
    /// gold exactly would fall by ½ of its rise just when gold has fallen by half, so at ½ (plus the smoothing's lag)
    /// the alarm could only ever be late.
    public var monitorTolerance = 0.25
    /// Reward models in the alarm's monitor, each trained on the same independent set of gold-labelled pairs (seeds
    /// differ).
    public var monitorSize = 3
    /// The monitor's spot-check budget: gold-labelled pairs per training prompt, sampled from the reference
    /// independently of the proxies' (whose budget is `pairsPerPrompt`).
    public var monitorPairsPerPrompt = 8
    /// Samples per measured PPO checkpoint (held-out prompts cycled).
    public var evaluationSamples = 256
    /// Live spot checks, replayed beside the monitor: for each k, the alarm (same tolerance, smoothing
    /// `judgeSmoothing`) whose monitor is the gold judge's mean on the first k rollouts of each iteration of the
    /// single-proxy run — what PPO's `monitor_samples: k` with the judge as `monitor_reward_model` reads, k labels per
    /// iteration. The PPO run is the same (a monitor only observes), so every k is measured on one run. nil (results
    /// written before them): none.
    public var judgeSamples: [Int]? = [4, 8, 16, 32]
    /// `monitor_smoothing` of the live spot checks: the newest reading's weight in the alarm's moving averages, below
    /// the default 0.3 because a few samples are a noisy reading. nil (results written before it): 0.3.
    public var judgeSmoothing: Double? = 0.15

    public init() {}

    /// A quick configuration for tests and smoke runs.
    public static var reduced: Self {
        var c = Self()
        c.world = .reduced
        c.ensembleSize = 3
        c.rewardSteps = 40
        c.samplesPerPrompt = 32
        c.ppoEpisodes = 256
        c.ppoCheckpoints = 2
        c.evaluationSamples = 64
        c.ppoAggregations = ["min"]
        c.monitorSize = 1
        return c
    }

    /// - Throws: `ExperimentError` naming the field.
    public func validate() throws {
        try world.validate()
        func require(_ condition: Bool, _ name: String, _ message: String) throws { if !condition { throw ExperimentError("\(name): \(message)") } }
        for (name, value) in [("pairsPerPrompt", pairsPerPrompt), ("rewardSteps", rewardSteps), ("ppoEpisodes", ppoEpisodes),
                              ("ppoCheckpoints", ppoCheckpoints)] {
            try require(value >= 1, name, "must be at least 1 (got \(value))")
        }
        try require(ensembleSize >= 2, "--ensemble-size", "an ensemble needs at least 2 members (got \(ensembleSize))")
        try require(monitorSize >= 1, "monitorSize", "the alarm needs at least one monitor reward model (got \(monitorSize))")
        try require(monitorPairsPerPrompt >= 1, "--monitor-pairs-per-prompt",
                    "the monitor needs at least 1 gold-labelled pair per prompt (got \(monitorPairsPerPrompt))")
        try require(monitorTolerance.isFinite && monitorTolerance > 0, "--monitor-tolerance",
                    "must be a fraction of the monitor's rise above 0 (got \(monitorTolerance))")
        try require(samplesPerPrompt >= 2, "--samples-per-prompt", "best-of-n needs at least 2 samples per prompt (got \(samplesPerPrompt))")
        try require(evaluationSamples >= 2, "evaluationSamples", "needs at least 2 samples (got \(evaluationSamples))")
        try require(uncertaintyPenalty.isFinite && uncertaintyPenalty >= 0, "uncertaintyPenalty", "must be ≥ 0 (got \(uncertaintyPenalty))")
        if let judgeSmoothing {
            try require(judgeSmoothing > 0 && judgeSmoothing <= 1, "--judge-smoothing", "must be in (0, 1] (got \(judgeSmoothing))")
        }
        for k in judgeSamples ?? [] {
            try require((1...ReviewWorldSetup.ppoBatchSize).contains(k), "--judge-samples",
                        "each k must be from 1 to the PPO batch, \(ReviewWorldSetup.ppoBatchSize) (got \(k))")
        }
        for name in ppoAggregations { _ = try RewardAggregation(name: name, penalty: uncertaintyPenalty) }
    }

    /// The aggregations best-of-n ranks by: member 1 alone, then mean, min and uncertainty.
    var bestOfNAggregations: [(name: String, aggregation: RewardAggregation?)] {
        [("single", nil), ("mean", .mean), ("min", .worstCase), ("uncertainty", .uncertaintyWeighted(penalty: uncertaintyPenalty))]
    }

    /// The n of best-of-n: 1, 2, 4, … up to `samplesPerPrompt`.
    var bestOfNValues: [Int] { Array(sequence(first: 1) { $0 * 2 }.prefix { $0 <= samplesPerPrompt }) }
}

/// One point of a curve: gold and proxy reward at a KL from the reference.
public struct OveroptimizationPoint: Codable, Equatable, Sendable {
    /// n of best-of-n, or the PPO iteration.
    public var x: Int
    /// KL(π‖π_ref) in nats: log n − (n − 1)/n for best-of-n (Stiennon et al. 2020), the Monte-Carlo estimate for PPO.
    public var kl: Double
    public var gold: Double
    /// The optimised reward (the run's own aggregation of the standardised proxies).
    public var proxy: Double
}

/// A best-of-n or PPO curve under one aggregation.
public struct OveroptimizationCurve: Codable, Equatable, Sendable {
    public var method: String
    public var aggregation: String
    public var points: [OveroptimizationPoint]
}

public struct OveroptimizationSeed: Codable, Equatable, Sendable {
    public var seed: UInt64
    public var pairs: FrontierPairStatistics
    /// Each proxy's agreement with the gold labels on fresh pairs from the reference (held-out prompts, ties skipped).
    public var proxyAccuracy: [Double]
    public var curves: [OveroptimizationCurve]
    /// The PPO iteration at which the single-proxy run's reward-hacking alarm fired (monitor: reward models trained on
    /// independent gold-labelled pairs).
    public var alarmIteration: Int?
    public var seconds: [String: Double]
    /// The monitor's spot-check pairs (gold-labelled, independent of the proxies').
    public var monitorPairs = FrontierPairStatistics()
    /// The monitor's agreement with gold (its members' mean, as the alarm reads it) on the proxies' fresh pairs.
    public var monitorAccuracy: Double?
    /// Every iteration of the single-proxy PPO run: the proxy's, the monitor's and gold's mean on its rollouts.
    public var alarmTrace: [OveroptimizationTracePoint] = []

    /// The first measured PPO iteration (single proxy) at which gold has fallen by half of its rise from the start
    /// to its peak: gold ≤ peak − ½ (peak − gold at iteration 0); nil when it never does.
    public var goldHalfFallIteration: Int? {
        guard let points = curves.first(where: { $0.method == "PPO" && $0.aggregation == "single" })?.points, let start = points.first else { return nil }
        let peakIndex = points.indices.max { points[$0].gold < points[$1].gold }!
        let peak = points[peakIndex].gold
        guard peak > start.gold else { return nil }
        return points[peakIndex...].first { $0.gold <= peak - (peak - start.gold) / 2 }?.x
    }
}

/// One PPO iteration as the alarm saw it: batch means over the iteration's rollouts (training prompts).
public struct OveroptimizationTracePoint: Codable, Equatable, Sendable {
    public var iteration: Int
    /// The optimised proxy's mean score (`monitor/proxy`).
    public var proxy: Double
    /// The monitor's mean score (`monitor/reward`).
    public var monitor: Double
    /// The gold reward's mean on the same rollouts (recorded for the report; the alarm never reads it).
    public var gold: Double
    /// The proxy ensemble's disagreement on the same rollouts: the mean over rollouts of the standard deviation of the
    /// members' standardised scores (the uncertainty of Coste et al. 2024, Eisenstein et al. 2023). Recorded to see
    /// whether disagreement rises as gold falls; the alarm never reads it. nil in results written before it was recorded.
    public var proxySpread: Double?
    /// The gold reward of each rollout, in batch order: what a judge spot-checking the first k rollouts would have read
    /// (``OveroptimizationConfiguration/judgeSamples``). nil in results written before it was recorded.
    public var goldScores: [Double]?
}

/// A monitor that also records the gold reward of what it scores, so the experiment can set the alarm's readings
/// beside the truth per iteration. Scores are the wrapped monitor's, unchanged.
final class GoldRecordingMonitor: RewardFunction {
    let monitor: RewardFunction
    /// Whose disagreement is recorded beside gold (the proxy ensemble); nil: none.
    let ensemble: EnsembleReward?
    /// The gold reward of each call's rollouts, in call order.
    private(set) var goldScores: [[Double]] = []
    /// The ensemble's mean per-rollout spread of each call's rollouts, in call order (empty without an ensemble).
    private(set) var spreads: [Double] = []

    init(_ monitor: RewardFunction, ensemble: EnsembleReward? = nil) { (self.monitor, self.ensemble) = (monitor, ensemble) }

    func scores(_ rollouts: [ScoredRollout]) throws -> [Float] {
        goldScores.append(rollouts.map { FrontierTask.reward($0.response) })
        if let ensemble { spreads.append(Self.spread(try ensemble.memberScores(rollouts))) }
        return try monitor.scores(rollouts)
    }

    /// Mean over rollouts of the members' standard deviation (`scores[member][rollout]`): the ensemble's own spread, as
    /// PPO logs it in `objective/ensemble_std`.
    static func spread(_ scores: [[Double]]) -> Double { Statistics.mean(EnsembleReward.aggregate(scores, .mean).spread) }
}

/// Runs the experiment for one seed.
public enum Overoptimization {
    public static func run(_ c: OveroptimizationConfiguration, seed: UInt64, folder: URL,
                           log: @escaping @Sendable (String) -> Void) async throws -> OveroptimizationSeed {
        var clock = PhaseClock()
        var worldConfiguration = c.world
        worldConfiguration.pairsPerPrompt = c.pairsPerPrompt
        let frontier = FrontierRun(name: "overoptimization", configuration: worldConfiguration, seeds: [seed], directory: folder.deletingLastPathComponent())
        let (task, referenceFolder) = try await ReviewWorldSetup.reference(c.world, name: "overoptimization", seed: seed, folder: folder, log: log)
        clock.lap("reference")

        let pairs = try frontier.writePairs(seed: seed, task: task, folder: folder)
        log("[seed \(seed)] \(pairs.labelled) gold-labelled pairs (\(pairs.ties) ties skipped)")
        let proxies = folder.appendingPathComponent("proxies")
        let rewardConfiguration = ReviewWorldSetup.rewardConfiguration(c.world, steps: c.rewardSteps, learningRate: c.rewardLearningRate, seed: seed,
                                                                       output: proxies)
        let examples = try Dataset.load(folder.appendingPathComponent(FrontierRecipe.pairs)).examples
        let trainProxy: (RewardTrainer, TrainingArguments) throws -> Void = { _ = try TrainingLoop(arguments: $1).run($0, resume: true) }
        let manifest = c.sharedTrunk == true
            ? try RewardEnsembleTraining.trainSharedTrunk(configuration: rewardConfiguration, base: referenceFolder, chatTemplate: nil, examples: examples,
                                                          size: c.ensembleSize, bootstrap: c.bootstrap == true, log: { log("[seed \(seed)] proxy \($0)") }, train: trainProxy)
            : try RewardEnsembleTraining.train(configuration: rewardConfiguration, base: referenceFolder, chatTemplate: nil, examples: examples,
                                               size: c.ensembleSize, bootstrap: c.bootstrap == true, log: { log("[seed \(seed)] proxy \($0)") }, train: trainProxy)
        // Member 1 alone, as an ensemble of one (the same standardisation; a shared trunk's column 0).
        let single = folder.appendingPathComponent("proxy-single")
        try FileManager.default.createDirectory(at: single, withIntermediateDirectories: true)
        var first = manifest.members[0]
        first.path = manifest.folder(of: first, in: proxies).path
        try RewardEnsembleManifest(members: [first]).write(to: single)
        // The reward-hacking monitor of the single-proxy PPO run: reward models trained like the proxies but on their own
        // gold-labelled pairs (fresh samples from the reference), so they do not share the proxies' training data.
        let monitor = folder.appendingPathComponent("monitor")
        let (monitorPairs, monitorPairStatistics) = FrontierPairs.make(model: try PretrainedModel.load(directory: referenceFolder),
                                                                       tokenizer: try Tokenizer(directory: referenceFolder),
                                                                       prompts: task.trainingPrompts, pairsPerPrompt: c.monitorPairsPerPrompt,
                                                                       maximumNewTokens: c.world.responseLength, seed: seed &+ 0x3017)
        log("[seed \(seed)] monitor: \(monitorPairStatistics.labelled) gold-labelled spot-check pairs (\(c.monitorPairsPerPrompt) per prompt)")
        let monitorPairsURL = folder.appendingPathComponent("pairs/monitor.jsonl")
        try FrontierPairs.write(monitorPairs, to: monitorPairsURL)
        var monitorConfiguration = rewardConfiguration
        monitorConfiguration.training.seed = (seed << 16) &+ 0xA1A
        monitorConfiguration.training.outputDirectory = monitor.path
        _ = try RewardEnsembleTraining.train(configuration: monitorConfiguration, base: referenceFolder, chatTemplate: nil,
                                             examples: try Dataset.load(monitorPairsURL).examples, size: c.monitorSize, bootstrap: false,
                                             log: { log("[seed \(seed)] monitor \($0)") }) {
            _ = try TrainingLoop(arguments: $1).run($0, resume: true)
        }
        clock.lap("proxies")

        let reference = try PretrainedModel.load(directory: referenceFolder)
        let tokenizer = try Tokenizer(directory: referenceFolder)
        let ensemble = try EnsembleReward.load(directory: proxies, aggregation: .mean, sharesTokenizer: true, batchSize: 64)
        func rollouts(_ samples: [FrontierSample], prompts: [String]) -> [ScoredRollout] {
            samples.map { ScoredRollout(promptIds: $0.promptIds, responseIds: $0.responseIds, prompt: prompts[$0.promptIndex], response: $0.text,
                                        endsWithStopToken: $0.responseIds.last == tokenizer.eosTokenId.map(Int32.init)) }
        }

        log("[seed \(seed)] best-of-n pool: \(c.samplesPerPrompt) samples for each of \(task.heldOutPrompts.count) held-out prompts")
        let prompts = task.heldOutPrompts
        let pool = FrontierEvaluation.sample(reference, tokenizer: tokenizer, prompts: prompts, count: c.samplesPerPrompt * prompts.count,
                                             maximumNewTokens: c.world.responseLength, seed: seed &+ 0xB0B)
        let memberScores = try ensemble.memberScores(rollouts(pool, prompts: prompts))
        let gold = pool.map { FrontierTask.reward($0.text) }
        let accuracy = memberScores.map { Self.pairAccuracy(scores: $0, gold: gold, prompts: pool.map(\.promptIndex)) }
        log("[seed \(seed)] proxy agreement with gold on fresh pairs: " + accuracy.map { String(format: "%.1f%%", 100 * $0) }.joined(separator: ", "))
        let monitorScores = try EnsembleReward.load(directory: monitor, aggregation: .mean, sharesTokenizer: true, batchSize: 64)
            .memberScores(rollouts(pool, prompts: prompts))
        let monitorAccuracy = Self.pairAccuracy(scores: EnsembleReward.aggregate(monitorScores, .mean).values, gold: gold, prompts: pool.map(\.promptIndex))
        log("[seed \(seed)] monitor (members' mean) agreement with gold on the same pairs: " + String(format: "%.1f%%", 100 * monitorAccuracy))
        var curves: [OveroptimizationCurve] = []
        for (name, aggregation) in c.bestOfNAggregations {
            let objective = aggregation.map { EnsembleReward.aggregate(memberScores, $0).values } ?? memberScores[0]
            curves.append(OveroptimizationCurve(method: "best-of-n", aggregation: name, points: c.bestOfNValues.map { n in
                let (goldValue, proxyValue) = Self.bestOfN(n, objective: objective, gold: gold, prompts: pool.map(\.promptIndex))
                return OveroptimizationPoint(x: n, kl: Self.bestOfNKL(n), gold: goldValue, proxy: proxyValue)
            }))
        }
        for curve in curves {
            log("[seed \(seed)] best-of-n \(curve.aggregation): " + curve.points.map { String(format: "n %d gold %.3f proxy %.2f", $0.x, $0.gold, $0.proxy) }
                .joined(separator: "; "))
        }
        clock.lap("best-of-n")

        var alarmIteration: Int?
        var alarmTrace: [OveroptimizationTracePoint] = []
        for name in ["single"] + c.ppoAggregations {
            let output = folder.appendingPathComponent("ppo-\(name)")
            let iterations = (c.ppoEpisodes + ReviewWorldSetup.ppoBatchSize - 1) / ReviewWorldSetup.ppoBatchSize
            var ppo = ReviewWorldSetup.ppoConfiguration(c.world, iterations: iterations, learningRate: c.ppoLearningRate, klCoefficient: c.ppoKLCoefficient,
                                                        seed: seed, output: output)
            ppo.training.saveSteps = max(1, iterations / c.ppoCheckpoints)
            ppo.ensemble.name = name == "single" ? "mean" : name
            ppo.ensemble.uncertaintyPenalty = c.uncertaintyPenalty
            if name == "single" {
                ppo.monitorRewardModel = monitor.path
                ppo.monitorTolerance = c.monitorTolerance
            }
            log("[seed \(seed)] PPO against \(name == "single" ? "proxy 1 alone" : "the ensemble (\(name))"), \(iterations) iterations, β = \(c.ppoKLCoefficient)")
            let encoder = try ExampleEncoder.load(directory: referenceFolder, chatTemplate: nil)
            let trainingPrompts = task.trainingPrompts.enumerated().map { Example(.promptOnly(prompt: .standard($0.element)), line: $0.offset + 1) }
            let trainer = try PPOTrainer(configuration: ppo, policy: try TrainableModel(directory: referenceFolder),
                                         folders: PPOModelFolders(policy: referenceFolder, rewardModel: name == "single" ? single : proxies),
                                         encoder: encoder, prompts: trainingPrompts)
            let recorder = trainer.monitor.map { GoldRecordingMonitor($0, ensemble: ensemble) }
            trainer.monitor = recorder
            let history = try trainer.train(resume: true).history
            if name == "single", let recorder {
                alarmIteration = history.first { ($0["monitor/alarm"] ?? 0) > 0 }.flatMap { $0["step"] }.map { Int($0) }
                log("[seed \(seed)] reward-hacking alarm (monitor: \(c.monitorSize) reward models on \(monitorPairStatistics.labelled) spot-check pairs): "
                    + (alarmIteration.map { "fired at iteration \($0)" } ?? "did not fire"))
                // A resumed run records gold only for the iterations it ran; the trace then holds the last ones.
                let watched = history.filter { $0["monitor/reward"] != nil }.suffix(recorder.goldScores.count)
                alarmTrace = zip(watched, recorder.goldScores).enumerated().map { index, pair in
                    OveroptimizationTracePoint(iteration: Int(pair.0["step"] ?? 0), proxy: pair.0["monitor/proxy"] ?? 0, monitor: pair.0["monitor/reward"] ?? 0,
                                               gold: Statistics.mean(pair.1), proxySpread: recorder.spreads.indices.contains(index) ? recorder.spreads[index] : nil,
                                               goldScores: pair.1)
                }
            }
            let aggregation = name == "single" ? nil : try RewardAggregation(name: name, penalty: c.uncertaintyPenalty)
            var points: [OveroptimizationPoint] = []
            var policies = ExperimentFiles.checkpoints(in: output).filter { $0.step < iterations }.map { checkpoint in
                (checkpoint.step, { try FrontierRun.ppoPolicy(checkpoint.url, base: referenceFolder) } as () throws -> any CausalLanguageModel)
            }
            policies.insert((0, { reference }), at: 0)
            policies.append((iterations, { try PretrainedModel.load(directory: output) }))
            for (step, load) in policies {
                let (measurement, samples, _) = try FrontierEvaluation.measure(policy: try load(), reference: reference, tokenizer: tokenizer, prompts: prompts,
                                                                               count: c.evaluationSamples, maximumNewTokens: c.world.responseLength,
                                                                               seed: seed &+ 0xE7A1)
                let scores = try ensemble.memberScores(rollouts(samples, prompts: prompts))
                let objective = aggregation.map { EnsembleReward.aggregate(scores, $0).values } ?? scores[0]
                points.append(OveroptimizationPoint(x: step, kl: measurement.kl, gold: measurement.rewardMean, proxy: Statistics.mean(objective)))
            }
            log("[seed \(seed)] PPO \(name): " + points.map { String(format: "step %d KL %.2f gold %.3f proxy %.2f", $0.x, $0.kl, $0.gold, $0.proxy) }
                .joined(separator: "; "))
            curves.append(OveroptimizationCurve(method: "PPO", aggregation: name, points: points))
            clock.lap("ppo-\(name)")
        }
        return OveroptimizationSeed(seed: seed, pairs: pairs, proxyAccuracy: accuracy, curves: curves, alarmIteration: alarmIteration, seconds: clock.laps,
                                    monitorPairs: monitorPairStatistics, monitorAccuracy: monitorAccuracy, alarmTrace: alarmTrace)
    }

    /// KL(best-of-n ‖ base) = log n − (n − 1)/n nats (Stiennon et al. 2020, appendix; Gao et al. 2023 eq. 1).
    static func bestOfNKL(_ n: Int) -> Double { log(Double(n)) - Double(n - 1) / Double(n) }

    /// The expected gold and objective value of best-of-n by `objective`, averaged over prompts, computed exactly over
    /// every n-subset of each prompt's pool (the unbiased estimator of Nakano et al. 2021, appendix): with the pool
    /// sorted by objective ascending, the i-th sample (1-based) is the best of a random n-subset with probability
    /// C(i − 1, n − 1) / C(m, n).
    static func bestOfN(_ n: Int, objective: [Double], gold: [Double], prompts: [Int]) -> (gold: Double, proxy: Double) {
        var byPrompt: [Int: [Int]] = [:]
        for (index, prompt) in prompts.enumerated() { byPrompt[prompt, default: []].append(index) }
        var goldTotal = 0.0, proxyTotal = 0.0
        for (_, indices) in byPrompt {
            let sorted = indices.sorted { objective[$0] < objective[$1] }
            let m = sorted.count
            guard n <= m else { continue }
            let logTotal = logChoose(m, n)
            for (rank, index) in sorted.enumerated() where rank + 1 >= n {
                let weight = exp(logChoose(rank, n - 1) - logTotal)
                goldTotal += weight * gold[index]
                proxyTotal += weight * objective[index]
            }
        }
        return (goldTotal / Double(byPrompt.count), proxyTotal / Double(byPrompt.count))
    }

    static func logChoose(_ n: Int, _ k: Int) -> Double {
        lgamma(Double(n + 1)) - lgamma(Double(k + 1)) - lgamma(Double(n - k + 1))
    }

    /// The share of pairs with different gold rewards whose proxy scores order them as gold does; pairs are a prompt's
    /// samples taken two at a time in pool order (each sample in at most one pair).
    static func pairAccuracy(scores: [Double], gold: [Double], prompts: [Int]) -> Double {
        var byPrompt: [Int: [Int]] = [:]
        for (index, prompt) in prompts.enumerated() { byPrompt[prompt, default: []].append(index) }
        var agree = 0, total = 0
        for (_, indices) in byPrompt {
            for start in stride(from: 0, to: indices.count - 1, by: 2) {
                let a = indices[start], b = indices[start + 1]
                guard gold[a] != gold[b] else { continue }
                total += 1
                if (scores[a] > scores[b]) == (gold[a] > gold[b]) { agree += 1 }
            }
        }
        return total == 0 ? 0 : Double(agree) / Double(total)
    }
}
