import Alignment
import ArgumentParser
import Constitutional
import Foundation
import LanguageModels

/// `charter online-dpo`: online DPO (Guo et al. 2024) with a reward model, reward functions or the constitution as
/// judge (TRL 1.16's OnlineDPOTrainer).
struct OnlineDPOCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "online-dpo",
        abstract: "Train a policy with online DPO: two sampled completions per prompt, ranked by a reward model or an AI judge (TRL's OnlineDPOTrainer keys and metrics).",
        discussion: """
            The prompts come from --dataset (prompt-only TRL data; other columns reach the reward functions). Each step \
            samples two completions per prompt from the current policy; the pair is ranked by --reward-model (a \
            sequence-classification folder or a reward-model ensemble folder, its members combined by \
            --reward-aggregation as in charter ppo; reward_model_path) and/or --reward \
            functions (exact-match, length, cmd:PROGRAM, http(s)://URL; summed with reward_weights), minus \
            missing_eos_penalty for a completion without eos — or by --judge constitution: the constitution's \
            comparison principles asked of --feedback-model (a model folder or an endpoints file) in both orders, as \
            charter label asks. The DPO loss (loss_type sigmoid or ipo, beta: one or one per epoch) of the chosen over \
            the rejected completion is taken against --ref-model, else the base model when training LoRA adapters, \
            else a frozen copy of the initial policy. per_device_train_batch_size × gradient_accumulation_steps prompts \
            make one step. Example: charter online-dpo --model sft/ --dataset prompts.jsonl --judge constitution \
            --feedback-model sft/ --batch-size 4 --max-new-tokens 32 --output-dir runs/online-dpo
            """)

    @OptionGroup var options: TrainerOptions
    @Option(help: "Reward model folder (reward_model_path): a sequence classifier or a reward-model ensemble folder.") var rewardModel: String?
    @Option(name: .customLong("reward"), help: "A reward function: exact-match, length, cmd:PROGRAM ARGS or an http(s):// URL (repeatable; reward_funcs).")
    var rewardFunctions: [String] = []
    @Option(help: "reward_weights: comma-separated, one per reward (reward functions first, then the reward model)") var rewardWeights: String?
    @Option(help: "judge: constitution — rank pairs by the constitution's AI feedback instead of scores.") var judge: String?
    @Option(help: "The judge's constitution: a YAML file or 'default' (constitution).") var constitution: String?
    @Option(help: "The judge's feedback model: a model folder or an endpoints file (feedback_model).") var feedbackModel: String?
    @Option(help: "principles_per_pair: comparison principles the judge asks per pair") var principles: Int?
    @Flag(help: "Ask the judge in one order only (both_orders: false).") var singleOrder = false
    @Option(help: "Reference model folder (ref_model).") var refModel: String?
    @Option(help: "beta: one value, or comma-separated values one per epoch") var beta: String?
    @Option(help: "loss_type: sigmoid or ipo") var lossType: String?
    @Option(help: "max_new_tokens per completion") var maxNewTokens: Int?
    @Option(help: "temperature of sampling") var temperature: Float?
    @Option(help: "top_p of sampling") var topP: Float?
    @Option(help: "top_k of sampling") var topK: Int?
    @Option(help: "min_p of sampling") var minP: Float?
    @Option(help: "missing_eos_penalty: subtracted from the score of a completion without eos") var missingEosPenalty: Float?
    @OptionGroup var aggregation: RewardAggregationFlags

    func run() throws {
        let extra: [String: Any?] = aggregation.recipeValues.merging([
            "reward_model_path": rewardModel, BuiltInRewards.recipeKey: rewardFunctions.isEmpty ? nil : rewardFunctions,
            "reward_weights": try rewardWeights.map(GroupRolloutOptions.weights), "judge": judge, "constitution": constitution,
            "feedback_model": feedbackModel, "principles_per_pair": principles, "both_orders": singleOrder ? false : nil,
            "ref_model": refModel, "beta": try beta.map(GroupRolloutOptions.weights), "loss_type": lossType,
            "max_new_tokens": maxNewTokens, "temperature": temperature.map { Double($0) }, "top_p": topP.map { Double($0) },
            "top_k": topK, "min_p": minP.map { Double($0) }, "missing_eos_penalty": missingEosPenalty.map { Double($0) },
        ]) { $1 }
        let recipe = try options.recipe(keys: OnlineDPOConfiguration.keys + Self.recipeKeys, extra: extra)
        let configuration = try recipe.decode(OnlineDPOConfiguration.self)
        try configuration.validate()
        options.noteDefaultOutput(recipe, configuration.training)
        let directory = try options.modelDirectory(recipe)
        let seed = configuration.training.seed
        let rewards = try Self.rewards(recipe, policyFolder: directory, seed: seed, maximumCompletionLength: configuration.maximumNewTokens,
                                       aggregation: try configuration.ensemble.aggregation)
        let judge = try ConstitutionJudge.fromRecipe(recipe, seed: seed, makeModels: makeLanguageModels)
        let (train, evaluation) = try options.datasets(recipe)
        guard let train else { throw ValidationError("give the prompts with --dataset (or dataset_name in the recipe)") }
        let (encoder, policy) = try options.encoderAndPolicy(recipe, directory: directory, seed: seed)
        let reference = try ReferencePolicy.ppo(policy: policy, policyFolder: directory,
                                                referenceModel: (recipe["ref_model"] as? String).map { URL(fileURLWithPath: $0) })
        let trainer = try OnlineDPOTrainer(configuration: configuration, policy: policy, reference: reference, rewards: rewards, judge: judge,
                                           encoder: encoder, prompts: train.examples, evaluationPrompts: evaluation?.examples ?? [])
        note("online DPO: \(train.examples.count) prompts, \(trainer.steps) steps of \(configuration.training.batchSize * configuration.training.gradientAccumulationSteps) "
             + "prompts × 2 completions; ranked by \(judge.map { "the judge (\($0.name))" } ?? rewards.map(\.name).joined(separator: " + "))")
        var effective = try options.effective(recipe, configuration, lora: policy.adapterConfiguration)
        for key in Self.recipeKeys { if let value = recipe[key] { effective[key] = value } }
        let summary = try trainer.train(resume: options.resume, effectiveConfiguration: effective)
        note("saved to \(configuration.training.outputDirectory) after \(summary.iterations) steps")
        if let judge { note("the judge labelled \(judge.pairsJudged) pairs; \(judge.positionFlips) principle judgements flipped with the order") }
        try printMetrics(summary.history.last ?? [:])
    }

    /// Recipe keys besides `OnlineDPOConfiguration.keys`: the reward model, reward functions, reference and judge.
    static let recipeKeys = ["reward_model_path", BuiltInRewards.recipeKey, "ref_model"] + ConstitutionJudge.recipeKeys

    /// The scorers a recipe names: `reward_funcs` first, then `reward_model_path` (named by its folder, as TRL names a
    /// reward model by its id; an ensemble folder's members combined by `aggregation`); empty when a judge ranks the pairs.
    static func rewards(_ recipe: TrainingRecipe, policyFolder: URL, seed: UInt64, maximumCompletionLength: Int,
                        aggregation: RewardAggregation) throws -> [NamedReward] {
        var rewards = try BuiltInRewards.names(recipe[BuiltInRewards.recipeKey]).map {
            try RewardFunctionSpec.reward($0, maximumCompletionLength: maximumCompletionLength)
        }
        if let path = recipe["reward_model_path"] as? String {
            let folders = PPOModelFolders(policy: policyFolder, rewardModel: URL(fileURLWithPath: path))
            if !folders.sharesTokenizer { note("the reward model's tokenizer differs from the policy's: completions are re-tokenized for scoring") }
            rewards.append((URL(fileURLWithPath: path).lastPathComponent, try folders.rewardFunction(aggregation: aggregation, seed: seed)))
        }
        return BuiltInRewards.uniquelyNamed(rewards)
    }
}
