import Foundation

/// The quickstart's `charter pipeline` recipes: helpful-only model → SL-CAI (critique → revision → SFT on revisions
/// mixed with helpful data) → sampled pairs → RLAIF labels → preference model → PPO, and DPO from the same SL-CAI
/// model; then the variants (another constitution from the same helpful-only model, chain-of-thought labels of the
/// same pairs). `Recipes/quickstart.yaml` is ``yaml(_:seed:)`` for the default sizes.
public enum QuickstartRecipe {
    /// The helpful-only stage (the first of the main recipe; the data-quality experiment runs it alone).
    static func helpfulOnlyStage(_ c: QuickstartConfiguration, world: String) -> String {
        """
          # The helpful-only assistant, trained from scratch: answers benign and borderline requests, complies with
          # harmful ones, and has seen critique/revision and (A)/(B) demonstrations under the world's principles.
          - name: helpful_only
            type: sft
            model: \(world)/initial_model
            dataset: \(world)/corpus.jsonl
            training: {max_steps: \(c.helpfulOnlySteps), per_device_train_batch_size: \(c.helpfulOnlyBatchSize), learning_rate: \(c.helpfulOnlyLearningRate), lr_scheduler_type: cosine, warmup_steps: 30, packing: true, packing_strategy: wrapped, max_length: \(c.helpfulOnlyBlockLength), logging_steps: 10}
        """
    }

    /// The main recipe; paths are relative to the seed folder (where it is written, next to `world/`).
    public static func yaml(_ c: QuickstartConfiguration, seed: UInt64) -> String {
        """
        # Constitutional AI on Charter's toy world. `charter quickstart` writes this recipe into runs/<name>/seed-<seed>/,
        # next to the world/ folder it generates (the paths are relative to the recipe), and runs it with `charter pipeline`'s Pipeline.
        name: quickstart
        seed: \(seed)
        constitution: world/constitution-full.yaml
        stages:
        \(helpfulOnlyStage(c, world: "world"))
        \(slCAIStages(c, model: "stage:helpful_only", world: "world"))
          # RL-CAI (§4): pairs sampled from the SL-CAI model on red-team and borderline prompts, labelled by the
          # helpful-only model as feedback model (an ensemble of principles, both orders).
          - name: pairs
            type: sample_pairs
            model: stage:sl_cai
            prompts: world/rl_prompts.jsonl
            k: 2
            redraw_identical: \(c.pairRedraws)
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
        \(mixIn(c, world: "world"))
            training: {max_steps: \(c.rewardSteps), per_device_train_batch_size: 8, learning_rate: 5e-4, lr_scheduler_type: cosine, logging_steps: 5}
          # The SFT + DPO alternative, from the same SL-CAI model and labels.
        \(dpoStage(c, world: "world"))
          - name: ppo
            type: ppo
            model: stage:sl_cai
            prompts: world/ppo_prompts.jsonl
            reward_model: stage:reward
            training: {total_episodes: \(c.ppoEpisodes), per_device_train_batch_size: 16, learning_rate: \(c.ppoLearningRate), kl_coef: \(c.ppoKLCoefficient), response_length: \(c.maximumResponseTokens), temperature: 1.0, stop_token: eos, num_ppo_epochs: 2, logging_steps: 1, save_steps: \(c.ppoSaveSteps)}
        \(onlineDPOStage(c))
        """
    }

    /// RL-CAI by online DPO: the label stage's judge (constitution, helpful-only feedback model) asked about pairs the
    /// policy samples as it trains; empty without `online_dpo` sizes.
    static func onlineDPOStage(_ c: QuickstartConfiguration) -> String {
        guard let o = c.onlineDPO else { return "" }
        return """
          # RL-CAI with on-policy pairs (online DPO): the SL-CAI model samples two responses per prompt, the helpful-only
          # model judges them by the constitution as the label stage does, and DPO trains on the verdict.
          - name: online_dpo
            type: online_dpo
            model: stage:sl_cai
            prompts: world/rl_prompts.jsonl
            judge: constitution
            feedback_model: stage:helpful_only
            training: {max_steps: \(o.steps), per_device_train_batch_size: \(o.batchSize), learning_rate: \(o.learningRate), beta: \(o.beta), max_new_tokens: \(c.maximumResponseTokens), temperature: 1.0, principles_per_pair: \(c.principlesPerPair), both_orders: true, few_shot: 0, logging_steps: 1, save_steps: 0}

        """
    }

    /// Critique → revision of the red-team prompts and SFT on the revisions mixed with helpful data.
    static func slCAIStages(_ c: QuickstartConfiguration, model: String, world: String) -> String {
        """
          # SL-CAI (Bai et al. 2022, §3): the helpful-only model critiques and revises its answers to red-team prompts.
          - name: critique
            type: critique
            model: \(model)
            prompts: \(world)/red_team.jsonl
            helpful: \(world)/helpful.jsonl
            helpful_ratio: 0.5
            rounds: \(c.critiqueRounds)
            few_shot: 0
            sampling: {max_tokens: \(c.critiqueTokens), temperature: 0.7}
          - name: sl_cai
            type: sft
            model: \(model)
            dataset: stage:critique
            training: {max_steps: \(c.slCAISteps), per_device_train_batch_size: 16, learning_rate: \(c.slCAILearningRate), lr_scheduler_type: cosine, warmup_steps: 5, max_length: 256, logging_steps: 5}
        """
    }

    static func dpoStage(_ c: QuickstartConfiguration, world: String) -> String {
        """
          - name: dpo
            type: dpo
            model: stage:sl_cai
            dataset: stage:label
        \(mixIn(c, world: world))
            training: {max_steps: \(c.dpoSteps), per_device_train_batch_size: 8, learning_rate: \(c.dpoLearningRate), beta: \(c.dpoBeta), lr_scheduler_type: cosine, logging_steps: 5, max_length: 256}
        """
    }

    /// The human helpfulness comparisons a preference stage mixes into the AI labels (as the paper's preference model
    /// is trained on human helpfulness and AI harmlessness data); a comment when the run has none.
    static func mixIn(_ c: QuickstartConfiguration, world: String) -> String {
        c.helpfulnessPairsPerIntent > 0 ? "    mix_in: \(world)/helpfulness_pairs.jsonl" : "    # no human helpfulness comparisons (helpfulness_pairs_per_intent: 0)"
    }

    /// A constitution variant: SL-CAI redone under `constitution` from the same helpful-only model and red-team
    /// prompts (absolute paths into the main run); with `rlaif`, also pairs, AI labels and DPO.
    public static func variantYAML(_ c: QuickstartConfiguration, seed: UInt64, name: String, constitution: String, world: String,
                                   helpfulOnly: String, rlaif: Bool) -> String {
        var text = """
        # The quickstart's SL-CAI\(rlaif ? " and RLAIF" : "") stages under another constitution (\(name)).
        name: quickstart-\(name)
        seed: \(seed)
        constitution: \(constitution)
        stages:
        \(slCAIStages(c, model: helpfulOnly, world: world))

        """
        if rlaif {
            text += """
              - name: pairs
                type: sample_pairs
                model: stage:sl_cai
                prompts: \(world)/rl_prompts.jsonl
                k: 2
                redraw_identical: \(c.pairRedraws)
                sampling: {max_tokens: \(c.maximumResponseTokens), temperature: 1.0}
              - name: label
                type: label
                model: \(helpfulOnly)
                pairs: stage:pairs
                principles_per_pair: \(c.principlesPerPair)
                both_orders: true
                few_shot: 0
            \(dpoStage(c, world: world))

            """
        }
        return text
    }

    /// Chain-of-thought AI labels (§4.1, clamped to [0.4, 0.6]) of the main run's pairs, for label quality only.
    public static func chainOfThoughtYAML(_ c: QuickstartConfiguration, seed: UInt64, constitution: String, pairs: String, feedbackModel: String) -> String {
        """
        # The quickstart's pairs labelled with chain-of-thought reasoning (measured, not trained on).
        name: quickstart-labels-cot
        seed: \(seed)
        constitution: \(constitution)
        stages:
          - name: label
            type: label
            model: \(feedbackModel)
            pairs: \(pairs)
            principles_per_pair: \(c.chainOfThoughtPrinciplesPerPair)
            both_orders: true
            few_shot: 0
            chain_of_thought: true
            reasoning: {max_tokens: \(c.maximumResponseTokens), temperature: 0}

        """
    }
}
