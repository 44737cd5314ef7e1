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
            --ensemble K trains K reward models (seeds seed … seed+K−1; --bootstrap resamples the pairs for each) into \
            OUTPUT/member-1 … member-K and writes OUTPUT/ensemble.json; ppo and the pipeline's ppo stage take that folder \
            as a reward model and combine the members with reward_aggregation: mean | min | uncertainty.
            """)

    @OptionGroup var options: TrainerOptions
    @Option(help: "center_rewards_coefficient") var centerRewardsCoefficient: Float?
    @Flag(help: "Only evaluate (--eval-dataset, else --dataset) and print the eval_ metrics as JSON.") var evalOnly = false
    @Option(help: "Train an ensemble of this many reward models (Coste et al. 2024) into OUTPUT/member-N with OUTPUT/ensemble.json.")
    var ensemble: Int?
    @Flag(help: "With --ensemble: each member trains on a bootstrap resample of the pairs (default: all pairs, seeds differ).")
    var bootstrap = false

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

        if bootstrap && ensemble == nil { throw ValidationError("--bootstrap resamples an ensemble's pairs; give --ensemble K too") }
        if let ensemble {
            guard ensemble >= 1 && ensemble <= 64 else { throw ValidationError("--ensemble: give 1…64 members (got \(ensemble))") }
            guard !evalOnly else { throw ValidationError("--eval-only evaluates one reward model; drop --ensemble") }
            let manifest = try RewardEnsembleTraining.train(
                configuration: configuration, base: directory, chatTemplate: recipe["chat_template_name"] as? String,
                examples: train?.examples ?? [], size: ensemble, bootstrap: bootstrap, log: { note("reward: \($0)") }) { trainer, arguments in
                    try options.train(trainer, arguments: arguments, effectiveConfiguration: try recipe.effective(trainer.configuration))
                }
            note("reward: ensemble of \(manifest.members.count) written to \(configuration.training.outputDirectory)/\(RewardEnsembleManifest.fileName)")
            return
        }
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
