import Datasets
import Foundation
import LanguageModels

/// Group Relative Policy Optimization (Shao et al. 2024, DeepSeekMath), TRL's `GRPOTrainer`: each iteration samples
/// `num_generations` completions for each of its prompts, scores them with weighted reward functions (`NamedReward`:
/// built-in checks, an external command, an HTTP endpoint, a reward model, Swift closures), uses each reward's
/// standing in its group as the advantage of every token (`GRPOLoss.advantages`), and takes `num_iterations` steps of
/// the clipped loss with a k3 KL penalty to the reference (`GRPOLoss.loss`). No value model. Metrics carry TRL's names
/// (`reward`, `reward_std`, `rewards/<name>/mean`, `frac_reward_zero_std`, `kl`, `entropy`, `clip_ratio/…`,
/// `completions/mean_length`).
///
/// Where Charter deliberately differs from TRL 1.16's `GRPOTrainer`:
/// - A step (`max_steps`, `save_steps`, `logging_steps`, the learning-rate schedule) is one generation batch; TRL
///   counts optimizer steps, `num_iterations` per generation batch. With `num_iterations: 1` (the default) they agree.
/// - Completions are sampled by Charter's generator (seeded), so runs are reproducible but not TRL's samples.
public final class GRPOTrainer {
    public let configuration: GRPOConfiguration
    let core: GroupRolloutTrainer

    /// - Parameters:
    ///   - reference: π_ref of the KL penalty; needed when `beta` > 0, ignored at 0 (`ReferencePolicy.ppo` chooses it as
    ///     for PPO).
    ///   - rewards: the reward functions, weighted by `reward_weights`.
    ///   - prompts: prompt rows (standard or conversational); the rows' other columns (e.g. `answer`) reach the rewards.
    ///   - evaluationPrompts: held-out prompts whose greedy completions are scored every `eval_steps` and at the end.
    /// - Throws: `TrainingError.data` for unusable prompts, `SettingsError` for unusable settings.
    public init(configuration: GRPOConfiguration, policy: TrainableModel, reference: PPOReference?, rewards: [NamedReward],
                encoder: ExampleEncoder, prompts: [Example], evaluationPrompts: [Example] = []) throws {
        try configuration.validate()
        self.configuration = configuration
        core = try GroupRolloutTrainer(settings: configuration.rollout,
                                       method: .grpo(lossType: configuration.loss, scaling: configuration.rewardScaling,
                                                     biasCorrectedKL: configuration.useBiasCorrectionKL),
                                       policy: policy, reference: reference, rewards: rewards, encoder: encoder, prompts: prompts,
                                       evaluationPrompts: evaluationPrompts)
    }

    /// Generation batches (iterations) the run takes.
    public var iterations: Int { core.totalSteps }

    /// The result of a run: one record per iteration (TRL's metric names plus timings in seconds).
    public struct Summary {
        public var iterations: Int
        public var history: [[String: Double]]
    }

    /// Trains in the shared run skeleton (`TrainingLoop`): metrics.jsonl, trainer_state.json, checkpoints every
    /// `save_steps`, exact resume (`resume`), the final model in the output folder.
    /// - Parameter effectiveConfiguration: written as training_config.json (default: the configuration's keys).
    public func train(resume: Bool = false, stopAfter: Int? = nil, effectiveConfiguration: [String: Any] = [:]) throws -> Summary {
        try core.train(configuration: configuration, arguments: configuration.training, resume: resume, stopAfter: stopAfter,
                       effectiveConfiguration: effectiveConfiguration)
    }

    /// Held-out rewards of greedy completions of the evaluation prompts (`eval_reward`, `eval_rewards/<name>/mean`).
    public func evaluate() throws -> [String: Double] { try core.evaluate(step: 0, log: nil) }
}
