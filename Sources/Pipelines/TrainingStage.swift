import Constitutional
import Foundation

/// What a pipeline hands the trainer of a `reward`, `dpo` or `ppo` stage.
public struct TrainingStageRequest: Sendable {
    public var stage: String
    public var type: StageType
    /// The model to train (a local Hugging Face folder; for ppo the policy).
    public var model: URL
    /// TRL preference JSONL with `chosen_probability` soft labels (reward, dpo): usually `stage:label`.
    public var dataset: URL?
    /// Prompts for rollouts (ppo).
    public var prompts: URL?
    /// The preference model folder (ppo): usually `stage:reward`.
    public var rewardModel: URL?
    /// The folder the trained model must be written to (the stage's `model` output).
    public var output: URL
    /// The stage's `training:` mapping as YAML, with TRL's config keys, for the trainer's own configuration type.
    public var trainingYAML: String
    /// The recipe's seed, for trainers whose `training:` sets none.
    public var seed: UInt64
    /// A second preference file whose pairs are added to `dataset`'s (reward, dpo; the stage's `mix_in:`), e.g. human
    /// helpfulness comparisons next to AI harmlessness labels as the Constitutional AI paper's preference model has them.
    public var mixIn: URL? = nil
    /// online_dpo with `judge: constitution`: the pipeline's constitution, which ranks the pairs.
    public var judge: Constitution? = nil
    /// The model folder the judge asks (online_dpo's `feedback_model:`, e.g. the SL-CAI model `stage:sft`).
    public var feedbackModel: URL? = nil
    /// A reward stage's `heads_from_labels`: train one head per principle of `dataset`'s label records.
    public var headsFromLabels = false
    /// A reward stage's `heads:` files, one head each, in the recipe's order.
    public var heads: [(name: String, dataset: URL)] = []
}

/// Trains for a pipeline stage and returns the final metrics (TRL names) for the manifest.
///
/// The pipeline knows the SFT trainer itself; reward-model, DPO and PPO trainers are registered by whoever
/// constructs the ``Pipeline`` — usually ``Stages/builtInTrainers`` (Alignment's trainers, set up as the `charter`
/// commands set them up); tests and other front ends may substitute their own.
public typealias TrainingStage = @Sendable (TrainingStageRequest) async throws -> [String: Double]
