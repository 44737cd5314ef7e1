import Alignment
import ArgumentParser
import Foundation
import LanguageModels

/// `charter rloo`: REINFORCE Leave-One-Out against reward functions (Ahmadian et al. 2024, TRL's RLOOTrainer).
struct RLOOCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rloo",
        abstract: "Train a policy with RLOO against reward functions (TRL's RLOOTrainer keys and metrics).",
        discussion: """
            Prompts, rewards (--reward exact-match|length|cmd:PROGRAM|http(s)://URL), batches and the reference are as for \
            charter grpo. The KL penalty (beta, default 0.05) is subtracted from each completion's reward; its baseline \
            is the mean reward of the other completions of its prompt. Example: charter rloo --model sft/ \
            --dataset arithmetic.jsonl --reward exact-match --num-generations 4 --batch-size 8 --output-dir runs/rloo
            """)

    @OptionGroup var options: TrainerOptions
    @Option(name: .customLong("reward"), help: "A reward function: exact-match, length, cmd:PROGRAM ARGS or an http(s):// URL (repeatable; reward_funcs).")
    var rewardFunctions: [String] = []
    @Option(help: "reward_weights: comma-separated, one per --reward") var rewardWeights: String?
    @Option(help: "Reference model folder (ref_model; used when beta > 0).") var refModel: String?
    @Option(help: "num_generations: completions per prompt") var numGenerations: Int?
    @Option(help: "max_completion_length") var maxCompletionLength: Int?
    @Option(help: "temperature of sampling") var temperature: Float?
    @Option(help: "beta: KL coefficient in the reward (0 loads no reference)") var beta: Float?
    @Option(help: "num_iterations: optimizer steps per generation batch") var numIterations: Int?
    @Option(help: "epsilon: lower clip range") var epsilon: Float?
    @Option(help: "epsilon_high: upper clip range (default epsilon)") var epsilonHigh: Float?
    @Flag(help: "normalize_advantages") var normalizeAdvantages = false
    @Flag(help: "mask_truncated_completions") var maskTruncatedCompletions = false

    func run() throws {
        let extra: [String: Any?] = [
            RewardFunctionSpec.recipeKey: rewardFunctions.isEmpty ? nil : rewardFunctions, "ref_model": refModel,
            "reward_weights": try rewardWeights.map(GroupRolloutOptions.weights),
            "num_generations": numGenerations, "max_completion_length": maxCompletionLength,
            "temperature": temperature.map { Double($0) }, "beta": beta.map { Double($0) }, "num_iterations": numIterations,
            "epsilon": epsilon.map { Double($0) }, "epsilon_high": epsilonHigh.map { Double($0) },
            "normalize_advantages": normalizeAdvantages ? true : nil, "mask_truncated_completions": maskTruncatedCompletions ? true : nil,
        ]
        let recipe = try options.recipe(keys: RLOOConfiguration.keys + [RewardFunctionSpec.recipeKey], extra: extra)
        let configuration = try recipe.decode(RLOOConfiguration.self)
        try configuration.validate()
        let setup = try GroupRolloutOptions.setUp(options, recipe: recipe, training: configuration.training, beta: configuration.beta,
                                                  maximumCompletionLength: configuration.maximumCompletionLength)
        let trainer = try RLOOTrainer(configuration: configuration, policy: setup.policy, reference: setup.reference, rewards: setup.rewards,
                                      encoder: setup.encoder, prompts: setup.prompts, evaluationPrompts: setup.evaluationPrompts)
        note("RLOO: \(setup.prompts.count) prompts, \(trainer.iterations) iterations of \(configuration.generationCount) completions per prompt; "
             + "rewards \(setup.rewards.map(\.name).joined(separator: ", "))")
        var effective = try options.effective(recipe, configuration, lora: setup.policy.adapterConfiguration)
        effective[RewardFunctionSpec.recipeKey] = recipe[RewardFunctionSpec.recipeKey]
        let summary = try trainer.train(resume: options.resume, effectiveConfiguration: effective)
        note("saved to \(configuration.training.outputDirectory) after \(summary.iterations) iterations")
        try printMetrics(summary.history.last ?? [:])
    }
}
