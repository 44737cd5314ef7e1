import Alignment
import Datasets
import ArgumentParser
import Foundation
import LanguageModels

/// `charter export trl TRAINER`: the same recipe as a folder TRL runs (`bash launch.sh`), on this machine or a GPU
/// cluster (accelerate DDP and DeepSpeed ZeRO-3 configurations included).
struct ExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Write a recipe in another tool's form (trl: a folder that runs it with TRL).",
        subcommands: [ExportTRLCommand.self])
}

struct ExportTRLCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "trl",
        abstract: "Write config.yaml (TRL keys only), data/, launch.sh and accelerate configs that run this recipe with TRL.",
        discussion: """
            The recipe is read exactly as `charter TRAINER` reads it (--config, flags, --set), and config.yaml holds every \
            value the Charter run would use, so TRL's run is the same (with train_sampling_strategy: sequential, step for \
            step). Example: charter export trl dpo --config dpo.yaml --output to-cluster/ && bash to-cluster/launch.sh
            """)

    @Argument(help: "The trainer: sft, dpo, reward or kto (TRL's command-line scripts).") var trainer: String
    @OptionGroup var options: TrainerOptions
    @Option(help: "The folder to write (created; existing files of the same names are replaced).") var output: String
    @Flag(help: "Add use_cpu: true and bf16: false, so TRL runs on a machine without a GPU.") var cpu = false

    func run() throws {
        let keys: [String]
        switch trainer {
        case "sft": keys = SFTConfiguration.keys
        case "dpo": keys = DPOConfiguration.keys
        case "reward": keys = RewardConfiguration.keys
        case "kto": keys = KTOConfiguration.keys
        default: throw ValidationError("TRL has command-line scripts for \(TRLExport.trainers.joined(separator: ", ")); not for \(trainer)")
        }
        let recipe = try options.recipe(keys: keys)
        let lora = try options.loraConfiguration(recipe)
        var effective: [String: Any]
        switch trainer {
        case "sft": effective = try effectiveRecipe(SFTConfiguration.self, recipe, lora: lora)
        case "dpo": effective = try effectiveRecipe(DPOConfiguration.self, recipe, lora: lora)
        case "reward": effective = try effectiveRecipe(RewardConfiguration.self, recipe, lora: lora)
        default: effective = try effectiveRecipe(KTOConfiguration.self, recipe, lora: lora)
        }
        for (key, value) in recipe.values where TrainingRecipe.foreignKeys[key] != nil && !keys.contains(key) { effective[key] = value }
        let model = try options.modelDirectory(recipe).path
        let (train, evaluation) = try options.datasets(recipe)
        guard let train else { throw ValidationError("give the training data with --dataset (or dataset_name / datasets: in the recipe)") }
        let export = try TRLExport(trainer: trainer, effective: effective, hasEvaluation: evaluation != nil,
                                   conversational: train.format == .conversational, cpu: cpu)
        try export.write(to: URL(fileURLWithPath: output), model: model, train: train, evaluation: evaluation)
        export.notes.forEach(note)
        note("wrote \(output)/config.yaml, data/, launch.sh and accelerate/; run it with: bash \(output)/launch.sh")
    }

    func effectiveRecipe<Configuration: Codable & ValidatedConfiguration>(_ type: Configuration.Type, _ recipe: TrainingRecipe,
                                                                           lora: LoRAConfiguration?) throws -> [String: Any] {
        let configuration = try recipe.decode(type)
        try configuration.validate()
        return try options.effective(recipe, configuration, lora: lora)
    }
}

/// A trainer configuration with a `validate()` (every trainer's has one).
protocol ValidatedConfiguration { func validate() throws }
extension SFTConfiguration: ValidatedConfiguration {}
extension DPOConfiguration: ValidatedConfiguration {}
extension RewardConfiguration: ValidatedConfiguration {}
extension KTOConfiguration: ValidatedConfiguration {}
