import Foundation
import Reports

/// A policy evaluated partway through a run.
public struct FrontierCheckpoint: Codable, Equatable, Sendable {
    /// Optimizer steps (DPO) or iterations (PPO) done.
    public var step: Int
    public var measurement: FrontierMeasurement
}

/// One evaluated policy: the reference, a DPO run or a PPO run.
public struct FrontierRunResult: Codable, Equatable, Sendable {
    /// "reference", "dpo-beta-0.1", "ppo-kl-4", … (the pipeline stage).
    public var name: String
    /// "reference", "DPO" or "PPO".
    public var method: String
    /// DPO's β, or PPO's KL target (nats per response).
    public var beta: Double?
    public var klTarget: Double?
    /// The final policy's measurement.
    public var measurement: FrontierMeasurement
    /// The run's checkpoints in step order, the final policy last (empty for the reference).
    public var trajectory: [FrontierCheckpoint]
    /// Wall-clock seconds of the training stage (for the reference, its SFT from scratch), as the pipeline manifest
    /// recorded them (so a cached stage keeps the time it took when it ran).
    public var trainingSeconds: Double?
    /// The training run's last logged metrics (TRL names).
    public var finalMetrics: [String: Double]

    /// "β 0.1", "KL target 4" or "reference".
    public var setting: String {
        if let beta { return "β \(FrontierConfiguration.format(beta))" }
        if let klTarget { return "KL target \(FrontierConfiguration.format(klTarget))" }
        return "reference"
    }
}

/// Everything one seed produced.
public struct FrontierSeedResult: Codable, Equatable, Sendable {
    public var seed: UInt64
    public var pairs: FrontierPairStatistics
    /// The reference first, then DPO by β, then PPO by KL target.
    public var runs: [FrontierRunResult]
    /// Seconds per phase of this invocation (world, reference pipeline, pairs, training pipeline, evaluation) and per
    /// pipeline stage (sft, reward, each DPO and PPO run) as the manifests recorded them.
    public var seconds: [String: Double]
    /// Per training stage (sft, reward, each DPO and PPO run), its logged metrics by step.
    public var curves: [String: [[String: Double]]]
    /// The first continuation of each run's final policy for the first held-out prompts, with its ground-truth
    /// reward (nil in results written before examples were kept).
    public var examples: [GenerationExample]? = nil
}

/// What `charter experiment frontier` measured (written as results.json).
public struct FrontierResults: Codable, Equatable, Sendable {
    public var name: String
    /// The ground-truth reward, in words.
    public var groundTruth = "r(y) = (#positive words − #negative words) / #words of the continuation, in [−1, 1]"
    /// How KL is estimated, in words.
    public var klEstimator = "mean over samples y ~ π (temperature 1) of Σ_t [log π(y_t | x, y_<t) − log π_ref(y_t | x, y_<t)], eos included"
    public var configuration: FrontierConfiguration
    public var seeds: [FrontierSeedResult]
    public var totalSeconds: Double

    public init(name: String, configuration: FrontierConfiguration, seeds: [FrontierSeedResult], totalSeconds: Double) {
        self.name = name
        self.configuration = configuration
        self.seeds = seeds
        self.totalSeconds = totalSeconds
    }

    /// The runs' names in order of first appearance over the seeds.
    var runNames: [String] {
        var names: [String] = []
        for seed in seeds { for run in seed.runs where !names.contains(run.name) { names.append(run.name) } }
        return names
    }

    /// Every seed's result of the run `name`.
    func runs(named name: String) -> [FrontierRunResult] { seeds.compactMap { $0.runs.first { $0.name == name } } }
}
