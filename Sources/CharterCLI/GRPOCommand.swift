import Alignment
import ArgumentParser
import Datasets
import Foundation
import LanguageModels

/// `charter grpo`: Group Relative Policy Optimization against reward functions (DeepSeekMath's GRPO, TRL's GRPOTrainer).
struct GRPOCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "grpo",
        abstract: "Train a policy with GRPO against reward functions (TRL's GRPOTrainer keys and metrics).",
        discussion: """
            The prompts come from --dataset (prompt-only TRL data; other columns such as "answer" reach the rewards). \
            --reward (repeatable, or reward_funcs in the recipe): exact-match (the completion's last number equals the \
            row's answer), length (DAPO's soft overlong punishment), cmd:PROGRAM ARGS (JSON lines on stdin, one number \
            per line on stdout), an http(s):// URL (POST {"rollouts": [...]}, answer {"rewards": [...]}) or a reward model \
            folder (a sequence classifier, or an ensemble folder whose members --reward-aggregation combines as charter \
            ppo does; its metrics are rewards/FOLDER/mean and, per head, rewards/FOLDER/head/HEAD/mean). \
            per_device_train_batch_size × gradient_accumulation_steps completions make one generation batch; \
            num_generations must divide it. With beta > 0 the reference is --ref-model, else the base model when \
            training LoRA adapters, else a frozen copy of the initial policy. --eval-dataset prompts are answered \
            greedily and scored (eval_reward) every eval_steps and at the end. Example: charter grpo --model sft/ \
            --dataset arithmetic.jsonl --reward exact-match --num-generations 8 --batch-size 8 --output-dir runs/grpo
            """)

    @OptionGroup var options: TrainerOptions
    @OptionGroup var rollout: GroupRolloutFlags
    @Option(help: "loss_type: grpo, dr_grpo, dapo or bnpo") var lossType: String?
    @Option(help: "scale_rewards: group, batch or none") var scaleRewards: String?

    func run() throws {
        var extra = try rollout.recipeValues()
        extra["loss_type"] = lossType
        extra["scale_rewards"] = scaleRewards
        let recipe = try options.recipe(keys: GRPOConfiguration.keys + [RewardFunctionSpec.recipeKey], extra: extra)
        let configuration = try recipe.decode(GRPOConfiguration.self)
        try configuration.validate()
        let setup = try GroupRolloutOptions.setUp(options, recipe: recipe, training: configuration.training, beta: configuration.beta,
                                                  maximumCompletionLength: configuration.maximumCompletionLength, ensemble: configuration.ensemble)
        let trainer = try GRPOTrainer(configuration: configuration, policy: setup.policy, reference: setup.reference, rewards: setup.rewards,
                                      encoder: setup.encoder, prompts: setup.prompts, evaluationPrompts: setup.evaluationPrompts)
        note("GRPO: \(setup.prompts.count) prompts, \(trainer.iterations) iterations of \(configuration.training.batchSize * configuration.training.gradientAccumulationSteps / configuration.generationCount) prompts × "
             + "\(configuration.generationCount) completions; rewards \(setup.rewards.map(\.name).joined(separator: ", "))")
        try GroupRolloutOptions.train(trainer.train, options: options, recipe: recipe, configuration: configuration,
                                      policy: setup.policy, outputDirectory: configuration.training.outputDirectory)
    }
}

/// The flags `charter grpo` and `charter rloo` share (TRL's keys of both configs), as recipe values.
struct GroupRolloutFlags: ParsableArguments {
    @Option(name: .customLong("reward"), help: "A reward: exact-match, length, cmd:PROGRAM ARGS, an http(s):// URL, or a reward model or ensemble folder (repeatable; reward_funcs).")
    var rewardFunctions: [String] = []
    @Option(help: "reward_weights: comma-separated, one per --reward") var rewardWeights: String?
    @Option(help: "Reference model folder (ref_model; used when beta > 0).") var refModel: String?
    @Option(help: "num_generations: completions per prompt") var numGenerations: Int?
    @Option(help: "max_completion_length") var maxCompletionLength: Int?
    @Option(help: "temperature of sampling") var temperature: Float?
    @Option(help: "top_p of sampling (1: off)") var topP: Float?
    @Option(help: "top_k of sampling (0: off)") var topK: Int?
    @Option(help: "min_p of sampling") var minP: Float?
    @Option(help: "beta: KL coefficient (0 loads no reference)") var beta: Float?
    @Option(help: "num_iterations: optimizer steps per generation batch") var numIterations: Int?
    @Option(help: "epsilon: lower clip range") var epsilon: Float?
    @Option(help: "epsilon_high: upper clip range (default epsilon)") var epsilonHigh: Float?
    @Flag(help: "mask_truncated_completions") var maskTruncatedCompletions = false
    @OptionGroup var aggregation: RewardAggregationFlags

    /// The flags given, as recipe keys (nil: not given, the recipe's or the default value stands).
    func recipeValues() throws -> [String: Any?] {
        [RewardFunctionSpec.recipeKey: rewardFunctions.isEmpty ? nil : rewardFunctions, "ref_model": refModel,
         "reward_weights": try rewardWeights.map(GroupRolloutOptions.weights),
         "num_generations": numGenerations, "max_completion_length": maxCompletionLength,
         "temperature": temperature.map { Double($0) }, "top_p": topP.map { Double($0) }, "top_k": topK, "min_p": minP.map { Double($0) },
         "beta": beta.map { Double($0) }, "num_iterations": numIterations,
         "epsilon": epsilon.map { Double($0) }, "epsilon_high": epsilonHigh.map { Double($0) },
         "mask_truncated_completions": maskTruncatedCompletions ? true : nil].merging(aggregation.recipeValues) { $1 }
    }
}

/// What `charter grpo` and `charter rloo` set up alike: the policy and encoder, the reward functions, the reference
/// (when beta > 0) and the prompts.
enum GroupRolloutOptions {
    /// Trains (continuing with --resume), records the effective recipe with its reward functions, says where the model
    /// went and prints the last metrics.
    static func train<Configuration: Encodable>(_ train: (Bool, Int?, [String: Any]) throws -> GRPOTrainer.Summary, options: TrainerOptions,
                                                recipe: TrainingRecipe, configuration: Configuration, policy: TrainableModel,
                                                outputDirectory: String) throws {
        var effective = try options.effective(recipe, configuration, lora: policy.adapterConfiguration)
        effective[RewardFunctionSpec.recipeKey] = recipe[RewardFunctionSpec.recipeKey]
        let summary = try train(options.resume, nil, effective)
        note("saved to \(outputDirectory) after \(summary.iterations) iterations")
        try printMetrics(summary.history.last ?? [:])
    }

    struct Setup {
        var encoder: ExampleEncoder
        var policy: TrainableModel
        var reference: PPOReference?
        var rewards: [NamedReward]
        var prompts: [Example]
        var evaluationPrompts: [Example]
    }

    /// "1, 0.5" → [1.0, 0.5].
    static func weights(_ text: String) throws -> [Double] {
        try text.split(separator: ",").map { part in
            guard let value = Double(part.trimmingCharacters(in: .whitespaces)) else {
                throw ValidationError("--reward-weights: \(String(part).debugDescription) is not a number (give e.g. 1,0.5)")
            }
            return value
        }
    }

    /// - Parameter ensemble: how a reward model folder that is an ensemble combines its members.
    static func setUp(_ options: TrainerOptions, recipe: TrainingRecipe, training: TrainingArguments, beta: Float,
                      maximumCompletionLength: Int, ensemble: RewardAggregationSettings) throws -> Setup {
        options.noteDefaultOutput(recipe, training)
        let directory = try options.modelDirectory(recipe)
        let rewards = try RewardFunctionSpec.rewards(recipe, maximumCompletionLength: maximumCompletionLength, policyFolder: directory,
                                                     aggregation: try ensemble.aggregation, seed: training.seed)
        let (train, evaluation) = try options.datasets(recipe)
        guard let train else { throw ValidationError("give the prompts with --dataset (or dataset_name in the recipe)") }
        for case let exactMatch as ExactMatchReward in rewards.map(\.function) {
            try exactMatch.check(train.examples, source: recipe["dataset_name"] as? String ?? "the dataset")
            if let evaluation { try exactMatch.check(evaluation.examples, source: recipe["eval_dataset_name"] as? String ?? "the eval dataset") }
        }
        let (encoder, policy) = try options.encoderAndPolicy(recipe, directory: directory, seed: training.seed)
        let reference = beta > 0
            ? try ReferencePolicy.ppo(policy: policy, policyFolder: directory,
                                      referenceModel: (recipe["ref_model"] as? String).map { URL(fileURLWithPath: $0) })
            : nil
        return Setup(encoder: encoder, policy: policy, reference: reference, rewards: rewards, prompts: train.examples,
                     evaluationPrompts: evaluation?.examples ?? [])
    }
}
