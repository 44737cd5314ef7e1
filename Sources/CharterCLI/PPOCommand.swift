import Alignment
import ArgumentParser
import Foundation
import LanguageModels
import Tensors

/// `charter ppo`: RLHF's third stage — PPO against a reward model with a per-token KL penalty to a frozen reference.
struct PPOCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ppo",
        abstract: "Train a policy with PPO against a reward model (TRL's PPOTrainer keys and metrics).",
        discussion: """
            The prompts come from --dataset (prompt-only TRL data; of prompt/completion or preference data only the \
            prompt is used). The critic is a value head on the policy's own trunk, or on --value-model (a reward or \
            causal-LM folder, trained alongside; its score layer starts the head). The reference is --ref-model, else \
            the base model when training LoRA adapters, else a frozen copy of the initial policy. Set kl_target for \
            Ziegler et al.'s adaptive KL coefficient. Example: charter ppo --model sft/ --reward-model rm/ \
            --dataset prompts.jsonl --stop-token eos --kl-target 6 --output-dir runs/ppo
            """)

    @OptionGroup var options: TrainerOptions
    @Option(help: "Reward model folder, a transformers sequence-classification model (reward_model_path).") var rewardModel: String?
    @Option(help: "Reference model folder (ref_model).") var refModel: String?
    @Option(help: "Critic folder (value_model_path); default: a value head on the policy's trunk.") var valueModel: String?
    @Option(help: "num_ppo_epochs") var numPpoEpochs: Int?
    @Option(help: "num_mini_batches") var numMiniBatches: Int?
    @Option(help: "total_episodes") var totalEpisodes: Int?
    @Option(help: "response_length: new tokens per rollout") var responseLength: Int?
    @Option(help: "temperature of rollouts") var temperature: Float?
    @Option(help: "stop_token: eos") var stopToken: String?
    @Option(help: "missing_eos_penalty") var missingEosPenalty: Float?
    @Option(help: "kl_coef (the initial β with kl_target)") var klCoef: Float?
    @Option(help: "kl_target: adaptive KL controller target in nats per response") var klTarget: Float?
    @Option(help: "kl_estimator: k1 or k3") var klEstimator: String?
    @Option(help: "cliprange") var cliprange: Float?
    @Option(help: "cliprange_value") var cliprangeValue: Float?
    @Option(help: "vf_coef") var vfCoef: Float?
    @Option(help: "gamma") var gamma: Float?
    @Option(help: "lam") var lam: Float?
    @Flag(help: "whiten_rewards") var whitenRewards = false
    @OptionGroup var aggregation: RewardAggregationFlags

    func run() throws {
        let extra: [String: Any?] = aggregation.recipeValues.merging([
            "reward_model_path": rewardModel, "ref_model": refModel, "value_model_path": valueModel,
            "num_ppo_epochs": numPpoEpochs, "num_mini_batches": numMiniBatches, "total_episodes": totalEpisodes,
            "response_length": responseLength, "temperature": temperature.map { Double($0) }, "stop_token": stopToken,
            "missing_eos_penalty": missingEosPenalty.map { Double($0) }, "kl_coef": klCoef.map { Double($0) },
            "kl_target": klTarget.map { Double($0) }, "kl_estimator": klEstimator, "cliprange": cliprange.map { Double($0) },
            "cliprange_value": cliprangeValue.map { Double($0) }, "vf_coef": vfCoef.map { Double($0) },
            "gamma": gamma.map { Double($0) }, "lam": lam.map { Double($0) }, "whiten_rewards": whitenRewards ? true : nil,
        ]) { $1 }
        let recipe = try options.recipe(keys: PPOConfiguration.keys + PPOModelFolders.recipeKeys, extra: extra)
        let configuration = try recipe.decode(PPOConfiguration.self)
        try configuration.validate()
        options.noteDefaultOutput(recipe, configuration.training)
        let directory = try options.modelDirectory(recipe)
        guard recipe["reward_model_path"] is String else {
            throw ValidationError("give the reward model folder with --reward-model (or reward_model_path in the recipe)")
        }
        let (train, evaluation) = try options.datasets(recipe)
        guard let train else { throw ValidationError("give the prompts with --dataset (or dataset_name in the recipe)") }

        let (encoder, policy) = try options.encoderAndPolicy(recipe, directory: directory, seed: configuration.training.seed)
        let folders = try PPOModelFolders(policy: directory, recipe: recipe)
        if !folders.sharesTokenizer { note("the reward model's tokenizer differs from the policy's: responses are re-tokenized for scoring") }
        let trainer = try PPOTrainer(configuration: configuration, policy: policy, folders: folders, encoder: encoder,
                                     prompts: train.examples, evaluationPrompts: evaluation?.examples ?? [])
        note("PPO: \(train.examples.count) prompts, \(configuration.iterations(promptCount: train.examples.count)) iterations of "
             + "\(configuration.batchSize) rollouts")
        var effective = try options.effective(recipe, configuration, lora: policy.adapterConfiguration)
        for key in PPOModelFolders.recipeKeys { if let value = recipe[key] { effective[key] = value } }
        let summary = try trainer.train(resume: options.resume, effectiveConfiguration: effective)
        note("saved to \(configuration.training.outputDirectory) after \(summary.iterations) iterations")
        try printMetrics(summary.history.last ?? [:])
    }

    /// hidden_size (Llama family) or n_embd (GPT-2) from config.json (the PPO benchmark's value head).
    static func hiddenSize(of directory: URL) throws -> Int { try PPOModelFolders.hiddenSize(of: directory) }
}
