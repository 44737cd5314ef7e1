import Datasets
import Foundation
import LanguageModels

/// REINFORCE Leave-One-Out (Ahmadian et al. 2024, "Back to Basics"), TRL 1.16's `RLOOTrainer`: the same group
/// rollouts as `GRPOTrainer` (`num_generations` completions per prompt, weighted reward functions), but the KL penalty
/// to the reference is subtracted from the reward (`RLOOLoss.penalisedRewards`), each completion's baseline is the mean
/// reward of the other completions of its prompt (`RLOOLoss.advantages`), and the clipped ratio is per sequence
/// (`RLOOLoss.loss`). Metrics carry TRL's names (`reward`, `reward_std`, `rewards/<name>/mean`, `kl`, `entropy`,
/// `clip_ratio/…`, `completions/mean_length`).
///
/// As for GRPO, a step is one generation batch (TRL counts optimizer steps: the same with `num_iterations: 1`), and
/// completions come from Charter's seeded generator.
public final class RLOOTrainer {
    public let configuration: RLOOConfiguration
    let core: GroupRolloutTrainer

    /// - Parameters:
    ///   - reference: π_ref of the KL penalty; needed when `beta` > 0 (`ReferencePolicy.ppo` chooses it as for PPO).
    ///   - rewards: the reward functions, weighted by `reward_weights`.
    ///   - prompts: prompt rows; their other columns (e.g. `answer`) reach the reward functions.
    ///   - evaluationPrompts: held-out prompts whose greedy completions are scored every `eval_steps` and at the end.
    /// - Throws: `TrainingError.data` for unusable prompts, `SettingsError` for unusable settings.
    public init(configuration: RLOOConfiguration, policy: TrainableModel, reference: PPOReference?, rewards: [NamedReward],
                encoder: ExampleEncoder, prompts: [Example], evaluationPrompts: [Example] = []) throws {
        try configuration.validate()
        self.configuration = configuration
        core = try GroupRolloutTrainer(settings: configuration.rollout, method: .rloo(normalizeAdvantages: configuration.normalizeAdvantages),
                                       policy: policy, reference: reference, rewards: rewards, encoder: encoder, prompts: prompts,
                                       evaluationPrompts: evaluationPrompts)
    }

    /// Generation batches (iterations) the run takes.
    public var iterations: Int { core.totalSteps }

    /// Trains in the shared run skeleton (`TrainingLoop`), as `GRPOTrainer.train`.
    public func train(resume: Bool = false, stopAfter: Int? = nil, effectiveConfiguration: [String: Any] = [:]) throws -> GRPOTrainer.Summary {
        try core.train(configuration: configuration, arguments: configuration.training, resume: resume, stopAfter: stopAfter,
                       effectiveConfiguration: effectiveConfiguration)
    }

    /// Held-out rewards of greedy completions of the evaluation prompts (`eval_reward`, `eval_rewards/<name>/mean`).
    public func evaluate() throws -> [String: Double] { try core.evaluate(step: 0, log: nil) }
}
