import Foundation
import Settings

/// The settings GRPO, RLOO and online DPO share (each configuration maps its TRL keys onto these).
struct GroupRolloutSettings: Equatable, Sendable {
    var training: TrainingArguments
    var generationCount: Int
    var maximumCompletionLength: Int
    var temperature: Float
    var beta: Float
    var iterationCount: Int
    var epsilonLow: Float
    var epsilonHigh: Float
    var rewardWeights: [Float]?
    var maskTruncatedCompletions: Bool
    /// Nucleus, top-k and min-p sampling (TRL's `top_p`, `top_k`, `min_p`). They shape the sampling only: the
    /// log-probabilities of the loss are the (tempered) policy's over the whole vocabulary, as in TRL.
    var topP: Float = 1
    var topK = 0
    var minP: Float = 0
    /// Longest prompt + completion the loss sees; longer ones lose their leftmost prompt tokens (online DPO's
    /// `max_length`); nil: no limit.
    var maximumLength: Int? = nil
    /// How an ensemble folder among the rewards combines its members (`reward_aggregation`, …); anything but mean
    /// needs one (``GroupRolloutTrainer`` checks).
    var ensemble = RewardAggregationSettings()

    /// Completions per generation batch (TRL's `generation_batch_size` with `steps_per_generation` =
    /// `gradient_accumulation_steps`): `per_device_train_batch_size` × `gradient_accumulation_steps`.
    var generationBatchSize: Int { training.batchSize * training.gradientAccumulationSteps }
    /// Distinct prompts per generation batch.
    var promptsPerStep: Int { generationBatchSize / generationCount }

    /// Generation batches (steps) for `promptCount` prompts: `max_steps`, else `num_train_epochs` passes.
    func iterations(promptCount: Int) -> Int {
        if training.maximumSteps > 0 { return training.maximumSteps }
        let prompts = Int((training.epochs * Float(promptCount)).rounded(.up))
        return max(1, (prompts + promptsPerStep - 1) / promptsPerStep)
    }

    /// - Throws: `SettingsError` when the generation batch does not hold whole groups, or the ensemble keys do not
    ///   name an aggregation.
    func validate() throws {
        _ = try ensemble.aggregation
        guard generationBatchSize % generationCount == 0 else {
            throw SettingsError(key: "num_generations", message: "must divide the generation batch (per_device_train_batch_size × "
                                + "gradient_accumulation_steps = \(generationBatchSize)) (got \(generationCount))")
        }
    }
}

/// A configuration of GRPO or RLOO: the TRL keys both have (and the ensemble keys PPO reads too) are declared once
/// here (`sharedFields`), and
/// `rollout` maps them onto the settings the shared trainer reads.
public protocol GroupRolloutConfiguration: KeyedSettings {
    var training: TrainingArguments { get set }
    var generationCount: Int { get set }
    var maximumCompletionLength: Int { get set }
    var temperature: Float { get set }
    var beta: Float { get set }
    var iterationCount: Int { get set }
    var epsilon: Float { get set }
    var epsilonHigh: Float? { get set }
    var rewardWeights: [Float]? { get set }
    var maskTruncatedCompletions: Bool { get set }
    var topP: Float { get set }
    var topK: Int { get set }
    var minP: Float? { get set }
    var ensemble: RewardAggregationSettings { get set }
}

extension GroupRolloutConfiguration {
    /// The training arguments and the keys GRPOConfig and RLOOConfig share, in TRL's order.
    /// - Parameter method: named in the temperature's error ("GRPO samples its completions").
    static func sharedFields(method: String) -> [SettingsField<Self>] {
        let limits = TrainingArguments.Limits.self
        return [.flattened(\.training), .init("num_generations", \.generationCount, where: .from(2, to: limits.batchSize)),
                .init("max_completion_length", \.maximumCompletionLength, where: .from(1, to: limits.sequenceLength)),
                .init("temperature", \.temperature,
                      where: SettingsCheck { $0.isFinite && $0 > 0 ? nil : "must be positive (\(method) samples its completions)" }.and(.atMost(100))),
                .init("beta", \.beta, where: SettingsCheck.finite.and(.atLeast(0))),
                .init("num_iterations", \.iterationCount, where: .from(1, to: 1000)),
                .init("epsilon", \.epsilon, where: SettingsCheck.finite.and(.from(0, to: 1))),
                .init("epsilon_high", \.epsilonHigh, where: SettingsCheck.finite.and(.atLeast(0)), omitsNil: true),
                .init("top_p", \.topP, where: SettingsCheck { $0.isFinite && $0 > 0 && $0 <= 1 ? nil : "must be in (0, 1]" }),
                .init("top_k", \.topK, where: .from(0, to: 1_000_000)),
                .init("min_p", \.minP, where: .within(0...1)), .flattened(\.ensemble)]
    }

    /// The settings the shared trainer reads.
    var rollout: GroupRolloutSettings {
        GroupRolloutSettings(training: training, generationCount: generationCount, maximumCompletionLength: maximumCompletionLength,
                             temperature: temperature, beta: beta, iterationCount: iterationCount, epsilonLow: epsilon,
                             epsilonHigh: epsilonHigh ?? epsilon, rewardWeights: rewardWeights,
                             maskTruncatedCompletions: maskTruncatedCompletions, topP: topP, topK: topK, minP: minP ?? 0, ensemble: ensemble)
    }
}

/// One generation batch of GRPO or RLOO: `groupSize` completions per prompt, laid out group by group, and what the
/// trainers derive from them before the update.
///
/// Per-token arrays have one entry per completion token (the eos that ended a completion included); the entry for
/// token t belongs to the prediction made at position `promptLength + t − 1` of the sequence (as in `PPORollouts`).
struct GroupRollouts {
    /// Prompt followed by the (eos-cut) completion, per completion.
    var sequences: [[Int32]]
    var promptLengths: [Int]
    var groupSize: Int
    /// Whether the completion ended without eos (it hit `max_completion_length`).
    var truncated: [Bool]
    /// Whether the completion takes part in the loss (false for truncated ones with `mask_truncated_completions`).
    var included: [Bool]
    /// log π_old of the completion tokens; nil: the policy being trained, detached (one iteration per batch).
    var oldLogProbabilities: [[Float]]?
    /// log π_ref of the completion tokens; nil when β = 0.
    var referenceLogProbabilities: [[Float]]?
    /// rewards[function][completion], unweighted, as each reward function returned them.
    var rewardsPerFunction: [[Float]] = []
    /// What the reward functions reported about these scores (an ensemble's heads and spread), as the trainer logs them.
    var rewardMetrics: [String: Double] = [:]
    /// The weighted sum of the reward functions per completion.
    var rewards: [Float] = []
    /// One advantage per completion (shared by its tokens).
    var advantages: [Float] = []
    /// Online DPO: per prompt (group of two), whether its first completion is the chosen one.
    var firstIsChosen: [Bool] = []

    init(sequences: [[Int32]], promptLengths: [Int], groupSize: Int, endOfSequence: Int32?, maskTruncated: Bool) {
        precondition(sequences.count == promptLengths.count && sequences.count % groupSize == 0,
                     "GroupRollouts: \(sequences.count) sequences, \(promptLengths.count) prompt lengths, groups of \(groupSize)")
        self.sequences = sequences
        self.promptLengths = promptLengths
        self.groupSize = groupSize
        truncated = zip(sequences, promptLengths).map { sequence, promptLength in
            endOfSequence.map { sequence.count == promptLength || sequence.last != $0 } ?? true
        }
        included = truncated.map { !(maskTruncated && $0) }
    }

    var count: Int { sequences.count }

    func completion(_ index: Int) -> ArraySlice<Int32> { sequences[index][promptLengths[index]...] }
    func completionLength(_ index: Int) -> Int { sequences[index].count - promptLengths[index] }
    /// Completion tokens that count in the loss (0 for an excluded completion).
    func lossTokens(_ index: Int) -> Int { included[index] ? completionLength(index) : 0 }

    /// Right-padded model input for the completions at `indices`.
    func batch(_ indices: [Int], padding: Int32) -> PPOBatch {
        PPOBatch(sequences: indices.map { sequences[$0] }, promptLengths: indices.map { promptLengths[$0] }, padding: padding)
    }

    /// Per-token rows of `value(index)` for the completions at `indices` (each repeated over its tokens).
    func tokenRows(_ indices: [Int], _ value: (Int) -> Float) -> [[Float]] {
        indices.map { [Float](repeating: value($0), count: completionLength($0)) }
    }

    /// Drops the leftmost prompt tokens of every sequence longer than `maximumLength`, keeping the completion whole
    /// and at least one prompt token (the position that predicts the completion's first token), as TRL's online DPO
    /// truncates before its forward passes.
    mutating func truncatePrompts(toFit maximumLength: Int) {
        for index in sequences.indices where sequences[index].count > maximumLength {
            let cut = min(sequences[index].count - maximumLength, promptLengths[index] - 1)
            guard cut > 0 else { continue }
            sequences[index].removeFirst(cut)
            promptLengths[index] -= cut
        }
    }
}
