import Alignment
import ArgumentParser
import Foundation
import LanguageModels
import Tensors

/// `charter orpo`: Odds Ratio Preference Optimization on preference data — SFT and preference tuning in one stage,
/// without a reference model — or `--eval-only` to print TRL's eval metrics for a model and a dataset.
struct ORPOCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "orpo",
        abstract: "Train a policy with ORPO on prompt/chosen/rejected data, no reference model (TRL's ORPOTrainer keys and metrics).",
        discussion: """
            The loss is the NLL of prompt + chosen minus beta (the paper's lambda) times log sigmoid of the log odds ratio \
            of chosen over rejected (Hong et al. 2024). \
            Example: charter orpo --model base/ --dataset pairs.jsonl.gz --beta 0.1 --lora-r 16 --output-dir runs/orpo
            """)

    @OptionGroup var options: TrainerOptions
    @Option(help: "A PEFT adapter folder to put on --model and keep training.") var adapter: String?
    @Option(help: "beta: lambda, the weight of the odds-ratio term (TRL default 0.1).") var beta: Float?
    @Flag(help: "Only evaluate (--eval-dataset, else --dataset) and print the eval_ metrics as JSON.") var evalOnly = false

    func run() throws {
        let recipe = try options.recipe(keys: ORPOConfiguration.keys, extra: ["beta": beta.map { Double($0) }])
        let configuration = try recipe.decode(ORPOConfiguration.self)
        try configuration.validate()
        if !evalOnly { options.noteDefaultOutput(recipe, configuration.training) }
        let directory = try options.modelDirectory(recipe)
        let (train, evaluation) = try options.datasets(recipe, evalOnly: evalOnly)

        let (encoder, policy) = try options.encoderAndPolicy(recipe, directory: directory, seed: configuration.training.seed, adapter: adapter)
        let trainer = try ORPOTrainer(configuration: configuration, policy: policy, encoder: encoder,
                                      train: train?.examples ?? [], evaluation: evaluation?.examples ?? [])
        if let limit = trainer.sequenceLimit.note { note("ORPO: \(limit)") }
        note("ORPO: \(trainer.exampleCount) training pairs, \(trainer.evaluationExampleCount) evaluation pairs; "
             + "\(trainer.truncation.sequencesTruncated) pairs truncated to max_length, \(trainer.truncation.dropped) dropped (prompt fills max_length)")

        if evalOnly { return try printEvaluation(trainer) }
        try options.train(trainer, arguments: configuration.training,
                          effectiveConfiguration: try options.effective(recipe, configuration, lora: policy.adapterConfiguration),
                          memory: (policy.model, 2 * configuration.training.batchSize, trainer.longestTrainingSequence))
    }
}
