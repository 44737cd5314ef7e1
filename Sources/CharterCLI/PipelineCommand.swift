import Alignment
import ArgumentParser
import Constitutional
import Datasets
import Foundation
import LanguageModels
import Tensors

/// `charter pipeline recipe.yaml`: a declarative Constitutional AI pipeline with cached, resumable stages.
struct PipelineCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pipeline",
        abstract: "Run a Constitutional AI recipe (sample → critique → sft → sample_pairs → label → reward → ppo, or → dpo), resumably.",
        discussion: """
        Each stage runs in <run-dir>/<stage name>; manifest.json records the configuration, Charter's version, the \
        SHA-256 of every input, timings and counts. Re-running skips completed stages whose inputs are unchanged, \
        resumes an interrupted stage at its first unfinished item, and redoes stages whose configuration or inputs \
        changed (keeping the old folder as <name>.previous). Trainer stages (sft, reward, dpo, ppo) take TRL keys \
        under training:.
        """)

    @Argument(help: "The recipe YAML.") var recipe: String
    @Option(help: "The run folder (default: runs/<recipe name>).") var runDirectory: String?
    @Option(help: "Kernel threads for local models.") var threads: Int?

    func run() throws {
        if let threads { ComputeThreads.count = threads }
        let recipe = try PipelineRecipe.load(URL(fileURLWithPath: self.recipe))
        let directory = URL(fileURLWithPath: runDirectory ?? "runs/\(recipe.name)")
        let trainers = Stages.builtInTrainers.merging([.ppo: { try ppoStage($0) }]) { $1 }
        let manifest = try waitFor {
            try await Pipeline(recipe: recipe, runDirectory: directory, trainers: trainers, makeModels: makeLanguageModels).run()
        }
        print("pipeline \(manifest.name): \(manifest.stages.count) stages complete; manifest \(directory.appendingPathComponent("manifest.json").path)")
    }
}

/// RL-CAI's last step as a pipeline stage: PPO of the policy against the preference model (`reward_model:`, e.g.
/// `stage:reward`) on the stage's prompts, with TRL's PPOConfig keys under `training:` — what `charter ppo` does with a
/// frozen copy of the initial policy as reference and a value head on the policy's trunk (or `value_model_path`).
func ppoStage(_ request: TrainingStageRequest) throws -> [String: Double] {
    let recipe = try Stages.trainingRecipe(request, keys: PPOConfiguration.keys + ["value_model_path"])
    let configuration = try recipe.decode(PPOConfiguration.self)
    try configuration.validate()
    guard let rewardDirectory = request.rewardModel else { throw CommandError("stage \(request.stage) needs reward_model (e.g. stage:reward)") }
    guard let promptsURL = request.prompts else { throw CommandError("stage \(request.stage) needs prompts") }
    let prompts = try Dataset.load(promptsURL).examples
    let encoder = try ExampleEncoder.load(directory: request.model, chatTemplate: recipe["chat_template_name"] as? String)
    let policy = try TrainableModel(directory: request.model)
    let rewardModel = try SequenceClassifier.load(directory: rewardDirectory, seed: configuration.training.seed)
    let sharesTokenizer = PPOCommand.sameFile("tokenizer.json", request.model, rewardDirectory)
    let reward = RewardModelScorer(model: rewardModel, sharesTokenizer: sharesTokenizer, batchSize: configuration.rolloutForwardBatchSize)
    let referencePath = (recipe["ref_model"] as? String).map { URL(fileURLWithPath: $0) } ?? request.model
    let referenceModel = try PretrainedModel.load(directory: referencePath)
    referenceModel.setTrainable(false)
    let critic: PPOCritic
    if let path = recipe["value_model_path"] as? String {
        let valueDirectory = URL(fileURLWithPath: path)
        let classifier = try SequenceClassifier.load(directory: valueDirectory, seed: configuration.training.seed &+ 1)
        classifier.body.setTrainable(true)
        critic = PPOCritic(trunk: TrainableModel(model: classifier.body, sourceDirectory: valueDirectory), head: ValueHead(rewardModel: classifier))
    } else {
        var generator = SeededGenerator(seed: configuration.training.seed &+ 1)
        critic = PPOCritic(trunk: nil, head: ValueHead(hiddenSize: try PPOCommand.hiddenSize(of: request.model), generator: &generator))
    }
    let trainer = try PPOTrainer(configuration: configuration, policy: policy, critic: critic, reference: .model(referenceModel),
                                 reward: reward, encoder: encoder, prompts: prompts)
    let summary = try trainer.train(resume: true, effectiveConfiguration: try recipe.effective(configuration))
    return (summary.history.last ?? [:]).merging(["iterations": Double(summary.iterations)]) { $1 }
}
