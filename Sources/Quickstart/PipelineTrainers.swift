import Alignment
import Constitutional
import Datasets
import Foundation
import LanguageModels
import Tensors

/// The trainers the quickstart registers with ``Pipeline``: the Constitutional layer's built-in `reward` and `dpo`
/// stages, plus a `ppo` stage (RL-CAI) on Alignment's `PPOTrainer`, set up as `charter ppo` sets it up with its
/// defaults: the critic a value head on the policy's trunk, the reference a frozen copy of the initial policy,
/// the stage's `reward_model` (usually `stage:reward`) scoring rollouts.
public enum PipelineTrainers {
    public static var available: [StageType: TrainingStage] { Stages.builtInTrainers.merging([.ppo: { try ppo($0) }]) { $1 } }

    public static func ppo(_ request: TrainingStageRequest) throws -> [String: Double] {
        guard let promptsURL = request.prompts, let rewardDirectory = request.rewardModel else {
            throw QuickstartError("stage \(request.stage): a ppo stage needs prompts and reward_model")
        }
        let file = request.output.deletingLastPathComponent().appendingPathComponent("training.yaml")
        try request.trainingYAML.write(to: file, atomically: true, encoding: .utf8)
        var recipe = try TrainingRecipe(file: file.path, allowedKeys: PPOConfiguration.keys)
        if recipe["seed"] == nil { try recipe.override(["seed": Int(request.seed)]) }
        try recipe.override(["output_dir": request.output.path])
        let configuration = try recipe.decode(PPOConfiguration.self)
        try configuration.validate()

        let encoder = try ExampleEncoder.load(directory: request.model)
        let policy = try TrainableModel(directory: request.model)
        let reference = try PretrainedModel.load(directory: request.model)
        reference.setTrainable(false)
        let rewardModel = try SequenceClassifier.load(directory: rewardDirectory, seed: configuration.training.seed)
        let sharesTokenizer = (try? Data(contentsOf: request.model.appendingPathComponent("tokenizer.json")))
            == (try? Data(contentsOf: rewardDirectory.appendingPathComponent("tokenizer.json")))
        let reward = RewardModelScorer(model: rewardModel, sharesTokenizer: sharesTokenizer, batchSize: configuration.rolloutForwardBatchSize)
        let hiddenSize = try Self.hiddenSize(of: request.model)
        var generator = SeededGenerator(seed: configuration.training.seed &+ 1)
        let critic = PPOCritic(trunk: nil, head: ValueHead(hiddenSize: hiddenSize, generator: &generator))
        let trainer = try PPOTrainer(configuration: configuration, policy: policy, critic: critic, reference: .model(reference),
                                     reward: reward, encoder: encoder, prompts: try Dataset.load(promptsURL).examples)
        let summary = try trainer.train(resume: true, effectiveConfiguration: try recipe.effective(configuration))
        return (summary.history.last ?? [:]).merging(["iterations": Double(summary.iterations)]) { $1 }
    }

    static func hiddenSize(of directory: URL) throws -> Int {
        let url = directory.appendingPathComponent("config.json")
        guard let object = (try? JSONSerialization.jsonObject(with: Data(contentsOf: url))) as? [String: Any],
              let size = (object["hidden_size"] ?? object["n_embd"]) as? Int else {
            throw QuickstartError("\(url.path): no hidden_size or n_embd for the value head")
        }
        return size
    }
}
