import Alignment
import ArgumentParser
import Foundation
import LanguageModels
import Tensors

/// `charter sft`: supervised fine-tuning on TRL-format data (completion-only / assistant-only loss by default).
struct SFTCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sft",
        abstract: "Supervised fine-tuning (TRL's SFTTrainer keys and metrics) on text, messages or prompt/completion data.",
        discussion: """
            The loss covers completion tokens of prompt/completion data and assistant tokens of conversations \
            (completion_only_loss and assistant_only_loss, both true by default); eos is appended to text. \
            Example: charter sft --model base/ --dataset data.jsonl --output-dir runs/sft --max-steps 200
            """)

    @OptionGroup var options: TrainerOptions
    @Flag(inversion: .prefixedNo, help: "completion_only_loss") var completionOnlyLoss: Bool?
    @Flag(inversion: .prefixedNo, help: "assistant_only_loss") var assistantOnlyLoss: Bool?
    @Flag(help: "packing: pack examples into max_length rows (as --packing-strategy says)") var packing = false
    @Option(help: "packing_strategy: bfd (TRL's default: best-fit rows, examples kept apart), bfd_split, or wrapped")
    var packingStrategy: String?
    @Flag(help: "padding_free: concatenate each batch into one row without padding (on with bfd packing)") var paddingFree = false

    func run() throws {
        let recipe = try options.recipe(keys: SFTConfiguration.keys, extra: [
            "completion_only_loss": completionOnlyLoss, "assistant_only_loss": assistantOnlyLoss, "packing": packing ? true : nil,
            "packing_strategy": packingStrategy, "padding_free": paddingFree ? true : nil,
        ])
        let configuration = try recipe.decode(SFTConfiguration.self)
        try configuration.training.validate()
        options.noteDefaultOutput(recipe, configuration.training)
        let directory = try options.modelDirectory(recipe)
        let (train, evaluation) = try options.datasets(recipe)
        guard let train else { throw ValidationError("give the training data with --dataset (or dataset_name in the recipe)") }
        let (encoder, policy) = try options.encoderAndPolicy(recipe, directory: directory, seed: configuration.training.seed)
        let trainer = try SFTTrainer(configuration: configuration, policy: policy, encoder: encoder,
                                     train: train.examples, evaluation: evaluation?.examples ?? [])
        if let limit = trainer.sequenceLimit.note { note("sft: \(limit)") }
        note("sft: \(trainer.exampleCount) training sequences; \(trainer.truncatedCount) truncated to max_length \(trainer.configuration.maximumLength)")
        try options.train(trainer, arguments: configuration.training,
                          effectiveConfiguration: try options.effective(recipe, configuration, lora: policy.adapterConfiguration),
                          memory: (policy.model, configuration.training.batchSize, trainer.configuration.maximumLength))
    }
}
