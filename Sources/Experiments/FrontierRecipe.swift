import Foundation

/// The frontier experiment's two `charter pipeline` recipes, so that every model is trained by the same stages (and
/// cached by the same keys) as a hand-written pipeline: `reference.yaml` (SFT from scratch), and, once the pairs are
/// labelled, `training.yaml` (the reward model, DPO at each β, PPO at each KL target). Paths are relative to the
/// seed folder where both are written.
public enum FrontierRecipe {
    /// The folders, relative to a seed folder.
    static let world = "world", pairs = "pairs/preferences.jsonl", trainingPrompts = "world/training_prompts.jsonl"
    /// The two pipelines' run folders, and the reference model in the first.
    static let reference = "reference", training = "training", referenceModel = "reference/sft/model"

    /// Stage names of the sweeps (also the runs' names in results.json).
    public static func dpoStage(beta: Double) -> String { "dpo-beta-\(FrontierConfiguration.format(beta))" }
    public static func ppoStage(klTarget: Double) -> String { "ppo-kl-\(FrontierConfiguration.format(klTarget))" }

    /// The reference model: SFT of the randomly initialised Llama on the review corpus (loss on the continuations).
    public static func referenceYAML(_ c: FrontierConfiguration, seed: UInt64) -> String {
        """
        # The frontier experiment's reference policy (π_ref): a tiny Llama trained from scratch on generated reviews.
        name: frontier-reference
        seed: \(seed)
        constitution: default
        stages:
          - name: sft
            type: sft
            model: \(world)/initial_model
            dataset: \(world)/corpus.jsonl
            training: {max_steps: \(c.referenceSteps), per_device_train_batch_size: 32, learning_rate: \(c.referenceLearningRate), lr_scheduler_type: cosine, warmup_steps: 20, max_length: \(c.contextLength), logging_steps: 10}

        """
    }

    /// The preference trainers, all from the reference model and the ground-truth-labelled pairs. PPO samples at
    /// temperature 1, so the KL its controller steers is the KL the evaluation measures. DPO and PPO keep
    /// `checkpointsPerRun` checkpoints (`save_steps`) for the evaluation of their trajectories.
    public static func trainingYAML(_ c: FrontierConfiguration, seed: UInt64) -> String {
        var text = """
        # The frontier experiment's sweeps: DPO at each β and PPO (against a reward model learned from the same pairs)
        # at each target KL, every one starting from the reference model.
        name: frontier-training
        seed: \(seed)
        constitution: default
        stages:
          - name: reward
            type: reward
            model: \(referenceModel)
            dataset: \(pairs)
            training: {max_steps: \(c.rewardSteps), per_device_train_batch_size: 16, learning_rate: \(c.rewardLearningRate), lr_scheduler_type: cosine, max_length: \(c.contextLength), logging_steps: 5}

        """
        for beta in c.betas {
            text += """
              - name: \(dpoStage(beta: beta))
                type: dpo
                model: \(referenceModel)
                dataset: \(pairs)
                training: {max_steps: \(c.dpoSteps), per_device_train_batch_size: 16, learning_rate: \(c.dpoLearningRate), beta: \(beta), lr_scheduler_type: cosine, max_length: \(c.contextLength), logging_steps: 5, save_steps: \(c.checkpointInterval(c.dpoSteps))}

            """
        }
        for target in c.klTargets {
            text += """
              - name: \(ppoStage(klTarget: target))
                type: ppo
                model: \(referenceModel)
                prompts: \(trainingPrompts)
                reward_model: stage:reward
                training: {total_episodes: \(c.ppoIterations * 32), per_device_train_batch_size: 32, learning_rate: \(c.ppoLearningRate), kl_coef: \(c.ppoInitialKLCoefficient), kl_target: \(target), kl_horizon: \(c.ppoKLHorizon), response_length: \(c.responseLength), temperature: 1.0, stop_token: eos, num_ppo_epochs: 4, num_mini_batches: 2, logging_steps: 1, save_steps: \(c.checkpointInterval(c.ppoIterations))}

            """
        }
        return text
    }
}
