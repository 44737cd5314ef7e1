import Datasets
import Foundation
import LanguageModels

/// Online DPO (Guo et al. 2024, "Direct Language Model Alignment from Online AI Feedback"), TRL 1.16's
/// `OnlineDPOTrainer`: each step samples two completions per prompt from the current policy, ranks them — by the
/// weighted score of reward functions (a reward model folder, built-in checks, a command, an endpoint) minus
/// `missing_eos_penalty` for a completion without eos, or by a `PairwiseJudge` such as the constitution's AI feedback —
/// and takes one optimizer step on the DPO loss (`PreferenceLoss.dpo`, sigmoid or IPO) of the (chosen, rejected)
/// pairs against the reference. Metrics carry TRL's names (`objective/kl`, `objective/entropy`,
/// `objective/non_score_reward`, `objective/rlhf_reward`, `objective/scores`, `objective/scores_margin`,
/// `rewards/chosen|rejected|accuracies|margins`, `logps/chosen|rejected`, `val/contain_eos_token`, `beta`).
///
/// It runs on the rollout machinery GRPO and RLOO share (`GroupRolloutTrainer` with groups of two), so sampling,
/// checkpoints, resume, metrics.jsonl and held-out evaluation are theirs. Where Charter deliberately differs from TRL:
/// - `objective/kl`, `objective/entropy` and `objective/non_score_reward` sum over each completion's own tokens; TRL
///   also sums the padding after a shorter completion's eos into them (equal for completions of equal length).
/// - Completions come from Charter's seeded generator; `max_length` keeps at least one prompt token.
/// - With a judge no scores exist, so the `objective/scores*` and `objective/rlhf_reward` statistics are absent (as
///   in TRL before 1.0, whose trainer took a judge) and `missing_eos_penalty` is refused.
public final class OnlineDPOTrainer {
    public let configuration: OnlineDPOConfiguration
    let core: GroupRolloutTrainer

    /// - Parameters:
    ///   - reference: π_ref of the loss (`ReferencePolicy.ppo` chooses it: `ref_model`, the LoRA base, or a frozen copy).
    ///   - rewards: reward functions whose weighted sum ranks each pair; empty when `judge` ranks them.
    ///   - judge: a pairwise judge instead of reward functions.
    ///   - prompts: prompt rows (standard or conversational); the rows' other columns reach the scorers.
    ///   - evaluationPrompts: held-out prompts answered greedily and scored by the reward functions every `eval_steps`
    ///     and at the end (`eval_reward`); not used with a judge.
    /// - Throws: `TrainingError.data` for unusable prompts, `SettingsError` for unusable settings or a missing judge.
    public init(configuration: OnlineDPOConfiguration, policy: TrainableModel, reference: PPOReference, rewards: [NamedReward] = [],
                judge: PairwiseJudge? = nil, encoder: ExampleEncoder, prompts: [Example], evaluationPrompts: [Example] = []) throws {
        try configuration.validate()
        self.configuration = configuration
        if configuration.disableDropout { LoRA.setTraining(policy.model, false) }
        core = try GroupRolloutTrainer(settings: configuration.rollout,
                                       method: .onlineDPO(loss: configuration.loss, betas: configuration.beta,
                                                          missingEOSPenalty: configuration.missingEOSPenalty),
                                       policy: policy, reference: reference, rewards: rewards, judge: judge, encoder: encoder,
                                       prompts: prompts, evaluationPrompts: evaluationPrompts)
    }

    /// Optimizer steps the run takes.
    public var steps: Int { core.totalSteps }

    /// Trains in the shared run skeleton (`TrainingLoop`), as `GRPOTrainer.train`: metrics.jsonl, trainer_state.json,
    /// checkpoints every `save_steps`, exact resume, the final model in the output folder.
    public func train(resume: Bool = false, stopAfter: Int? = nil, effectiveConfiguration: [String: Any] = [:]) throws -> GRPOTrainer.Summary {
        try core.train(configuration: configuration, arguments: configuration.training, resume: resume, stopAfter: stopAfter,
                       effectiveConfiguration: effectiveConfiguration)
    }

    /// Held-out scores of greedy completions of the evaluation prompts (`eval_reward`, `eval_rewards/<name>/mean`).
    public func evaluate() throws -> [String: Double] { try core.evaluate(step: 0, log: nil) }
}
