import Alignment
import Datasets
import Foundation
import LanguageModels
import Yams

extension Stages {
    /// The preference trainers a pipeline runs itself (PPO is not in this build: a `ppo` stage names what it needs).
    public static let builtInTrainers: [StageType: TrainingStage] = [.reward: { try reward($0) }, .dpo: { try dpo($0) }]

    /// A reward (preference) model trained on the labels with Alignment's `RewardTrainer` (TRL's RewardTrainer keys
    /// under `training:`; `chosen_probability` soft labels are used as the paper's preference-model targets).
    public static func reward(_ request: TrainingStageRequest) throws -> [String: Double] {
        let recipe = try trainingRecipe(request, keys: RewardConfiguration.keys)
        let configuration = try recipe.decode(RewardConfiguration.self)
        try configuration.validate()
        let dataset = try requireDataset(request)
        let encoder = try ExampleEncoder.load(directory: request.model, chatTemplate: recipe["chat_template_name"] as? String)
        let model = try SequenceClassifier.load(directory: request.model, seed: configuration.training.seed)
        let trainer = try RewardTrainer(configuration: configuration, model: model, sourceDirectory: request.model, encoder: encoder,
                                        train: try Dataset.load(dataset).examples)
        return try finish(TrainingLoop(arguments: configuration.training).run(trainer, resume: true, effectiveConfiguration: try recipe.effective(configuration)))
    }

    /// DPO on the labels with Alignment's `DPOTrainer` (TRL's DPOConfig keys under `training:`). The reference is
    /// `ref_model` when given, else a frozen copy of the initial policy (read once with `precompute_ref_log_probs`).
    public static func dpo(_ request: TrainingStageRequest) throws -> [String: Double] {
        let recipe = try trainingRecipe(request, keys: DPOConfiguration.keys)
        let configuration = try recipe.decode(DPOConfiguration.self)
        try configuration.validate()
        let dataset = try requireDataset(request)
        let encoder = try ExampleEncoder.load(directory: request.model, chatTemplate: recipe["chat_template_name"] as? String)
        let policy = try TrainableModel(directory: request.model)
        let reference: DPOReference
        if configuration.isReferenceFree {
            reference = .referenceFree
        } else if let path = recipe["ref_model"] as? String {
            reference = .model(try PretrainedModel.load(directory: URL(fileURLWithPath: path)))
        } else if configuration.precomputeReferenceLogProbabilities {
            reference = .initialPolicy
        } else {
            // Only read under `withoutGradients` by the trainer, and not given to the optimizer: frozen.
            reference = .model(try PretrainedModel.load(directory: request.model))
        }
        let trainer = try DPOTrainer(configuration: configuration, policy: policy, reference: reference, encoder: encoder,
                                     train: try Dataset.load(dataset).examples)
        return try finish(TrainingLoop(arguments: configuration.training).run(trainer, resume: true, effectiveConfiguration: try recipe.effective(configuration)))
    }

    /// The stage's `training:` YAML as a TRL recipe, with the output folder and the recipe's seed filled in
    /// (for trainers registered outside this module, such as the CLI's PPO stage).
    public static func trainingRecipe(_ request: TrainingStageRequest, keys: [String]) throws -> TrainingRecipe {
        var recipe = TrainingRecipe(allowedKeys: keys + TrainingRecipe.modelKeys)
        let values = try Yams.load(yaml: request.trainingYAML) as? [String: Any] ?? [:]
        try recipe.override(values)
        if recipe["seed"] == nil { try recipe.override(["seed": Int(request.seed)]) }
        try recipe.override(["output_dir": request.output.path])
        if recipe["use_peft"] as? Bool == true || recipe["lora_r"] != nil {
            throw ConstitutionalError("stage \(request.stage): LoRA training is not available in pipeline stages yet; train the full model, or run charter \(request.type.rawValue) with --lora-r on the stage's dataset")
        }
        return recipe
    }

    public static func requireDataset(_ request: TrainingStageRequest) throws -> URL {
        guard let dataset = request.dataset else { throw ConstitutionalError("stage \(request.stage) needs dataset (e.g. stage:label)") }
        return dataset
    }

    public static func finish(_ summary: TrainingLoop.Summary) -> [String: Double] {
        summary.lastMetrics.merging(["steps": Double(summary.steps)]) { $1 }
    }
}
