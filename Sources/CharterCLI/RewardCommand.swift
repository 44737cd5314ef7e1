import Alignment
import ArgumentParser
import Foundation
import LanguageModels
import Tensors

/// `charter reward`: train a reward model (a scalar head on a causal LM) on preference pairs, saved as a transformers
/// sequence-classification folder; or `--eval-only` to print TRL's eval metrics for a reward model and a dataset.
struct RewardCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reward",
        abstract: "Train a reward model on prompt/chosen/rejected data (TRL's RewardTrainer keys and metrics).",
        discussion: """
            --model may be a causal LM folder (a new score head is drawn from the seed) or a sequence-classification \
            folder. A "margin" field per line sets the required reward gap; "chosen_probability" gives a soft label. \
            Example: charter reward --model sft/ --dataset pairs.jsonl.gz --output-dir runs/rm
            """)

    @OptionGroup var options: TrainerOptions
    @Option(help: "center_rewards_coefficient") var centerRewardsCoefficient: Float?
    @Flag(help: "Only evaluate (--eval-dataset, else --dataset) and print the eval_ metrics as JSON.") var evalOnly = false

    func run() throws {
        let recipe = try options.recipe(keys: RewardConfiguration.keys,
                                        extra: ["center_rewards_coefficient": centerRewardsCoefficient.map { Double($0) }])
        let configuration = try recipe.decode(RewardConfiguration.self)
        try configuration.validate()
        if !evalOnly { options.noteDefaultOutput(recipe, configuration.training) }
        if try options.loraConfiguration(recipe) != nil {
            throw ValidationError("LoRA reward models are not supported yet (the score head would need PEFT's modules_to_save); train the full model")
        }
        let directory = try options.modelDirectory(recipe)
        let (train, evaluation) = try options.datasets(recipe, evalOnly: evalOnly)

        let encoder = try ExampleEncoder.load(directory: directory, chatTemplate: recipe["chat_template_name"] as? String)
        let model = try SequenceClassifier.load(directory: directory, seed: configuration.training.seed)
        let trainer = try RewardTrainer(configuration: configuration, model: model, sourceDirectory: directory, encoder: encoder,
                                        train: train?.examples ?? [], evaluation: evaluation?.examples ?? [])
        if let limit = trainer.sequenceLimit.note { note("reward: \(limit)") }
        note("reward: \(trainer.exampleCount) training pairs, \(trainer.evaluationExampleCount) evaluation pairs; "
             + "\(trainer.droppedCount) pairs dropped (longer than max_length)")
        if evalOnly { return try printEvaluation(trainer) }
        try options.train(trainer, arguments: configuration.training,
                          effectiveConfiguration: try recipe.effective(configuration))
    }
}
