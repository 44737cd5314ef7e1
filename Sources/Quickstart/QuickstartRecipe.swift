import Foundation

/// The quickstart's `charter pipeline` recipe: helpful-only model → SL-CAI (critique → revision → SFT on revisions
/// mixed with helpful data) → sampled pairs → RLAIF labels → preference model → PPO,
/// and DPO from the same SL-CAI model. `Recipes/quickstart.yaml` is this text for the default sizes.
public enum QuickstartRecipe {
    /// The recipe YAML; paths are relative to the run folder (where it is written).
    /// - Parameters:
    ///   - constitution: "default" or a constitution file path.
    public static func yaml(_ c: QuickstartConfiguration, seed: UInt64, constitution: String = "default") -> String {
        """
        # Constitutional AI on Charter's toy world. `charter quickstart` writes this recipe into runs/<name>/seed-<seed>/,
        # next to the world/ folder it generates (the paths are relative to the recipe), and runs it with `charter pipeline`'s Pipeline.
        name: quickstart
        seed: \(seed)
        constitution: \(constitution)
        stages:
          # The helpful-only assistant, trained from scratch: answers benign requests, complies with harmful ones,
          # and has seen the critique/revision and (A)/(B) formats on the demonstrated intents.
          - name: helpful_only
            type: sft
            model: world/initial_model
            dataset: world/corpus.jsonl
            training: {max_steps: \(c.helpfulOnlySteps), per_device_train_batch_size: \(c.helpfulOnlyBatchSize), learning_rate: \(c.helpfulOnlyLearningRate), lr_scheduler_type: cosine, warmup_steps: 30, packing: true, max_length: \(c.helpfulOnlyBlockLength), logging_steps: 10}
          # SL-CAI (Bai et al. 2022, §3): the helpful-only model critiques and revises its answers to red-team prompts.
          - name: critique
            type: critique
            model: stage:helpful_only
            prompts: world/red_team.jsonl
            helpful: world/helpful.jsonl
            helpful_ratio: 0.5
            rounds: \(c.critiqueRounds)
            few_shot: 0
            sampling: {max_tokens: \(c.maximumResponseTokens), temperature: 0.7}
          - name: sl_cai
            type: sft
            model: stage:helpful_only
            dataset: stage:critique
            training: {max_steps: \(c.slCAISteps), per_device_train_batch_size: 16, learning_rate: \(c.slCAILearningRate), lr_scheduler_type: cosine, warmup_steps: 5, max_length: 256, logging_steps: 5}
          # RL-CAI (§4): pairs sampled from the SL-CAI model, labelled by the helpful-only model as feedback model.
          - name: pairs
            type: sample_pairs
            model: stage:sl_cai
            prompts: world/red_team.jsonl
            k: 2
            sampling: {max_tokens: \(c.maximumResponseTokens), temperature: 1.0}
          - name: label
            type: label
            model: stage:helpful_only
            pairs: stage:pairs
            principles_per_pair: \(c.principlesPerPair)
            both_orders: true
            few_shot: 0
          - name: reward
            type: reward
            model: stage:sl_cai
            dataset: stage:label
            training: {max_steps: \(c.rewardSteps), per_device_train_batch_size: 8, learning_rate: 5e-4, lr_scheduler_type: cosine, logging_steps: 5}
          # The SFT + DPO alternative, from the same SL-CAI model and labels.
          - name: dpo
            type: dpo
            model: stage:sl_cai
            dataset: stage:label
            training: {max_steps: \(c.dpoSteps), per_device_train_batch_size: 8, learning_rate: \(c.dpoLearningRate), beta: \(c.dpoBeta), lr_scheduler_type: cosine, logging_steps: 5, max_length: 256}
          - name: ppo
            type: ppo
            model: stage:sl_cai
            prompts: world/red_team.jsonl
            reward_model: stage:reward
            training: {total_episodes: \(c.ppoEpisodes), per_device_train_batch_size: 16, learning_rate: \(c.ppoLearningRate), kl_coef: \(c.ppoKLCoefficient), response_length: \(c.maximumResponseTokens), temperature: 1.0, stop_token: eos, num_ppo_epochs: 2, logging_steps: 1}

        """
    }

    /// The ablation: SL-CAI and RLAIF redone under another constitution from the same helpful-only model and
    /// red-team prompts (absolute paths into the main run), then DPO.
    public static func ablationYAML(_ c: QuickstartConfiguration, seed: UInt64, constitution: String, world: String, helpfulOnly: String) -> String {
        """
        # Ablation: the quickstart's SL-CAI and RLAIF stages under an irrelevant (style-only) constitution.
        name: quickstart-ablation
        seed: \(seed)
        constitution: \(constitution)
        stages:
          - name: critique
            type: critique
            model: \(helpfulOnly)
            prompts: \(world)/red_team.jsonl
            helpful: \(world)/helpful.jsonl
            helpful_ratio: 0.5
            rounds: \(c.critiqueRounds)
            few_shot: 0
            sampling: {max_tokens: \(c.maximumResponseTokens), temperature: 0.7}
          - name: sl_cai
            type: sft
            model: \(helpfulOnly)
            dataset: stage:critique
            training: {max_steps: \(c.slCAISteps), per_device_train_batch_size: 16, learning_rate: \(c.slCAILearningRate), lr_scheduler_type: cosine, warmup_steps: 5, max_length: 256, logging_steps: 5}
          - name: pairs
            type: sample_pairs
            model: stage:sl_cai
            prompts: \(world)/red_team.jsonl
            k: 2
            sampling: {max_tokens: \(c.maximumResponseTokens), temperature: 1.0}
          - name: label
            type: label
            model: \(helpfulOnly)
            pairs: stage:pairs
            principles_per_pair: \(c.principlesPerPair)
            both_orders: true
            few_shot: 0
          - name: dpo
            type: dpo
            model: stage:sl_cai
            dataset: stage:label
            training: {max_steps: \(c.dpoSteps), per_device_train_batch_size: 8, learning_rate: \(c.dpoLearningRate), beta: \(c.dpoBeta), lr_scheduler_type: cosine, logging_steps: 5, max_length: 256}

        """
    }
}
