import Foundation

/// Every size of `charter experiment frontier`: the review language, the reference model, the preference pairs, the
/// DPO and PPO sweeps and the evaluation. ``full`` is the default run (≈ 4 minutes on two cores, release build);
/// ``reduced`` is `--reduced`, a quick look at the same pipeline.
public struct FrontierConfiguration: Codable, Equatable, Sendable {
    /// Items whose prompts are kept for evaluation (never seen by the preference trainers).
    public var heldOutItems = 8
    /// Prompt–completion documents in the reference model's SFT corpus.
    public var corpusSize = 4000
    /// Byte-level BPE vocabulary trained on the corpus (large enough that every word is one token).
    public var vocabularySize = 512
    // The reference Llama, trained from scratch.
    public var hiddenSize = 64
    public var layerCount = 2
    public var headCount = 4
    public var intermediateSize = 192
    public var contextLength = 64
    /// SFT steps of the reference model (batch 32).
    public var referenceSteps = 400
    public var referenceLearningRate = 3e-3
    /// Preference pairs sampled per training prompt (two completions each, labelled by the ground truth).
    public var pairsPerPrompt = 30
    /// Longest sampled continuation (tokens), for pairs, PPO rollouts and evaluation.
    public var responseLength = 16
    /// DPO's β values (Rafailov et al. 2023 sweep β to trace the frontier).
    public var betas = [0.05, 0.1, 0.3, 1.0]
    public var dpoSteps = 200
    public var dpoLearningRate = 5e-4
    /// Steps of the reward model PPO optimises (Bradley–Terry loss on the same pairs).
    public var rewardSteps = 150
    public var rewardLearningRate = 1e-3
    /// Targets (nats per response) of PPO's adaptive KL controller (Ziegler et al. 2019), one run each.
    public var klTargets = [1.0, 2.0, 4.0, 8.0]
    /// PPO rollouts in total per run (batch 32), learning rate, initial KL coefficient and controller horizon.
    public var ppoEpisodes = 3072
    public var ppoLearningRate = 5e-4
    public var ppoInitialKLCoefficient = 0.1
    /// Short enough that β can move several-fold within a run (Ziegler et al. use 10 000 episodes for long runs).
    public var ppoKLHorizon = 64.0
    /// Sampled continuations per evaluated model (held-out prompts cycled), at temperature 1.
    public var evaluationSamples = 256
    /// Points evaluated along each DPO and PPO run (evenly spaced checkpoints, the last one the final model), as
    /// Rafailov et al. evaluate every 100 steps: the frontier is the upper envelope of all of them.
    public var checkpointsPerRun = 4

    public init() {}

    public static let full = FrontierConfiguration()

    /// A smaller run of the same pipeline (about a minute in a release build).
    public static var reduced: FrontierConfiguration {
        var c = FrontierConfiguration()
        c.corpusSize = 2000
        c.referenceSteps = 200
        c.pairsPerPrompt = 4
        c.betas = [0.1, 1.0]
        c.dpoSteps = 60
        c.rewardSteps = 60
        c.klTargets = [1.0, 4.0]
        c.ppoEpisodes = 1024
        c.evaluationSamples = 128
        c.checkpointsPerRun = 2
        return c
    }

    /// Checks values a run cannot start with, naming the option (or field) at fault.
    /// - Throws: `ExperimentError` saying which value is wrong and what is allowed.
    public func validate() throws {
        func require(_ condition: Bool, _ name: String, _ message: String) throws {
            if !condition { throw ExperimentError("\(name): \(message)") }
        }
        try require(!betas.isEmpty, "--betas", "give at least one β")
        try require(!klTargets.isEmpty, "--kl-targets", "give at least one KL target")
        for (name, values) in [("--betas", betas), ("--kl-targets", klTargets)] {
            try require(values.allSatisfy { $0.isFinite && $0 > 0 }, name, "every value must be a positive number (got \(values.map(Self.format).joined(separator: ",")))")
            try require(Set(values).count == values.count, name, "values must be distinct (got \(values.map(Self.format).joined(separator: ",")))")
        }
        try require(heldOutItems >= 1 && heldOutItems < FrontierTask.items.count, "heldOutItems", "must be in 1..<\(FrontierTask.items.count)")
        for (name, value) in [("corpusSize", corpusSize), ("referenceSteps", referenceSteps), ("pairsPerPrompt", pairsPerPrompt),
                              ("responseLength", responseLength), ("dpoSteps", dpoSteps), ("rewardSteps", rewardSteps),
                              ("ppoEpisodes", ppoEpisodes), ("evaluationSamples", evaluationSamples),
                              ("checkpointsPerRun", checkpointsPerRun)] {
            try require(value >= 1, name, "must be at least 1 (got \(value))")
        }
        try require(evaluationSamples >= 2, "evaluationSamples", "needs at least 2 samples for a standard error")
        try require(hiddenSize % headCount == 0, "hiddenSize", "must be a multiple of headCount (\(hiddenSize) and \(headCount))")
        try require(contextLength > responseLength + 8, "contextLength", "must leave room for a prompt and \(responseLength) response tokens")
    }

    /// PPO iterations of one run (batch 32).
    public var ppoIterations: Int { (ppoEpisodes + 31) / 32 }

    /// Steps (DPO) or iterations (PPO) between checkpoints of a run of `total`.
    func checkpointInterval(_ total: Int) -> Int { max(1, total / checkpointsPerRun) }

    /// Parses a command-line list such as `0.05,0.1,0.3` for `option` (named in errors).
    /// - Throws: `ExperimentError` naming the option and the entry that is not a positive number.
    public static func parseList(_ text: String, option: String) throws -> [Double] {
        let entries = text.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
        guard !(entries.count == 1 && entries[0].isEmpty) else {
            throw ExperimentError("\(option): empty; give comma-separated positive numbers such as 0.1,0.3,1")
        }
        return try entries.map { entry in
            guard let value = Double(entry), value.isFinite, value > 0 else {
                throw ExperimentError("\(option): \"\(entry)\" is not a positive number; give comma-separated positive numbers such as 0.1,0.3,1")
            }
            return value
        }
    }

    /// A sweep value as written in stage names and labels: "0.05", "4".
    static func format(_ value: Double) -> String {
        value == value.rounded() && abs(value) < 1e9 ? String(Int(value)) : String(format: "%g", value)
    }
}
