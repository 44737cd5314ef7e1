import Alignment
import Constitutional
import Datasets
import Foundation
import LanguageModels

/// The `reward` and `dpo` stage trainers the quickstart registers with ``Pipeline``: Alignment's `RewardTrainer`
/// and `DPOTrainer`, set up as `charter reward` and `charter dpo` set them up (full fine-tuning; DPO's reference is
/// a frozen copy of the initial policy), configured by the stage's `training:` mapping (TRL keys).
public enum PipelineTrainers {
    /// Every trainer this build has. PPO (RL-CAI) is absent until Alignment has a PPO trainer.
    public static var available: [StageType: TrainingStage] { [.reward: reward, .dpo: dpo] }

    /// The stage's `training:` mapping as a TRL recipe, with `output_dir` and the default seed filled in.
    static func recipe(_ request: TrainingStageRequest, keys: [String]) throws -> TrainingRecipe {
        let file = request.output.deletingLastPathComponent().appendingPathComponent("training.yaml")
        try FileManager.default.createDirectory(at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
        try request.trainingYAML.write(to: file, atomically: true, encoding: .utf8)
        var recipe = try TrainingRecipe(file: file.path, allowedKeys: keys)
        var overrides: [String: Any] = ["output_dir": request.output.path]
        if recipe["seed"] == nil { overrides["seed"] = Int(request.seed) }
        try recipe.override(overrides)
        return recipe
    }

    static func dataset(_ request: TrainingStageRequest) throws -> [Example] {
        guard let url = request.dataset else { throw ConfigurationError(key: "dataset", message: "stage \(request.stage) needs a dataset") }
        return try Dataset.load(url).examples
    }

    public static let dpo: TrainingStage = { request in
        let recipe = try recipe(request, keys: DPOConfiguration.keys)
        let configuration = try recipe.decode(DPOConfiguration.self)
        let policy = try TrainableModel(directory: request.model)
        let reference = try PretrainedModel.load(directory: request.model)
        reference.setTrainable(false)
        let trainer = try DPOTrainer(configuration: configuration, policy: policy, reference: .model(reference),
                                     encoder: try ExampleEncoder.load(directory: request.model), train: try dataset(request))
        return try TrainingLoop(arguments: configuration.training).run(trainer, resume: true, effectiveConfiguration: try recipe.effective(configuration))
            .lastMetrics
    }

    public static let reward: TrainingStage = { request in
        let recipe = try recipe(request, keys: RewardConfiguration.keys)
        let configuration = try recipe.decode(RewardConfiguration.self)
        let model = try SequenceClassifier.load(directory: request.model, seed: configuration.training.seed)
        let trainer = try RewardTrainer(configuration: configuration, model: model, sourceDirectory: request.model,
                                        encoder: try ExampleEncoder.load(directory: request.model), train: try dataset(request))
        return try TrainingLoop(arguments: configuration.training).run(trainer, resume: true, effectiveConfiguration: try recipe.effective(configuration))
            .lastMetrics
    }
}
