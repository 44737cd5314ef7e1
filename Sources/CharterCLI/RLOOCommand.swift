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
            Prompts, rewards (--reward exact-match|length|cmd:PROGRAM|http(s)://URL|a reward model or ensemble folder, with \
            --reward-aggregation), batches and the reference are as for \
            charter grpo. The KL penalty (beta, default 0.05) is subtracted from each completion's reward; its baseline \
            is the mean reward of the other completions of its prompt. Example: charter rloo --model sft/ \
            --dataset arithmetic.jsonl --reward exact-match --num-generations 4 --batch-size 8 --output-dir runs/rloo
            """)

    @OptionGroup var options: TrainerOptions
    @OptionGroup var rollout: GroupRolloutFlags
    @Flag(help: "normalize_advantages") var normalizeAdvantages = false

    func run() throws {
        var extra = try rollout.recipeValues()
        extra["normalize_advantages"] = normalizeAdvantages ? true : nil
        let recipe = try options.recipe(keys: RLOOConfiguration.keys + [RewardFunctionSpec.recipeKey], extra: extra)
        let configuration = try recipe.decode(RLOOConfiguration.self)
        try configuration.validate()
        let setup = try GroupRolloutOptions.setUp(options, recipe: recipe, training: configuration.training, beta: configuration.beta,
                                                  maximumCompletionLength: configuration.maximumCompletionLength, ensemble: configuration.ensemble)
        let trainer = try RLOOTrainer(configuration: configuration, policy: setup.policy, reference: setup.reference, rewards: setup.rewards,
                                      encoder: setup.encoder, prompts: setup.prompts, evaluationPrompts: setup.evaluationPrompts)
        note("RLOO: \(setup.prompts.count) prompts, \(trainer.iterations) iterations of \(configuration.generationCount) completions per prompt; "
             + "rewards \(setup.rewards.map(\.name).joined(separator: ", "))")
        try GroupRolloutOptions.train(trainer.train, options: options, recipe: recipe, configuration: configuration,
                                      policy: setup.policy, outputDirectory: configuration.training.outputDirectory)
    }
}
