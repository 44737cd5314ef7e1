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

    @Argument(help: "The trainer: sft, dpo, reward, kto, grpo or rloo (TRL's command-line scripts).") var trainer: String
    @OptionGroup var options: TrainerOptions
    @Option(help: "The folder to write (created; existing files of the same names are replaced).") var output: String
    @Flag(help: "Add use_cpu: true and bf16: false (unless the recipe sets bf16: true: then CPU autocast), so TRL runs on a machine without a GPU.") var cpu = false
    @Option(name: .customLong("reward"), help: "grpo/rloo: a reward function, as for charter grpo (repeatable; reward_funcs).")
    var rewardFunctions: [String] = []

    func run() throws {
        guard let type = TRLExport.configuration(of: trainer) else {
            throw ValidationError("TRL has command-line scripts for \(TRLExport.trainers.joined(separator: ", ")); not for \(trainer)")
        }
        let rollout = ["grpo", "rloo"].contains(trainer)
        let recipe = try options.recipe(keys: type.keys + (rollout ? [BuiltInRewards.recipeKey] : []),
                                        extra: rewardFunctions.isEmpty ? [:] : [BuiltInRewards.recipeKey: rewardFunctions])
        let effective = try TRLExport.effective(type, recipe: recipe).merging(TrainerOptions.loraKeys(try options.loraConfiguration(recipe))) { $1 }
        let model = try options.modelDirectory(recipe).path
        let (train, evaluation) = try options.datasets(recipe)
        guard let train else { throw ValidationError("give the training data with --dataset (or dataset_name / datasets: in the recipe)") }
        let export = try TRLExport(trainer: trainer, effective: effective, hasEvaluation: evaluation != nil,
                                   conversational: train.format == .conversational, cpu: cpu,
                                   rewardFunctions: BuiltInRewards.names(recipe[BuiltInRewards.recipeKey]))
        try export.write(to: URL(fileURLWithPath: output), model: model, train: train, evaluation: evaluation)
        export.notes.forEach(note)
        let extras = (export.chatTemplate.map { $0.inModelFolder ? ", model/" : ", chat_template.jinja" } ?? "") + (export.rewards.isEmpty ? "" : ", \(TRLExport.rewardModule).py")
        note("wrote \(output)/config.yaml, data/\(extras), launch.sh and accelerate/; run it with: bash \(output)/launch.sh")
    }
}

/// `charter import trl TRAINER CONFIG`: a TRL config as a Charter recipe that trains the same way (TRL's defaults
/// written out where Charter's differ).
struct ImportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Read another tool's recipe as a Charter recipe (trl: a TRL config YAML).",
        subcommands: [ImportTRLCommand.self])
}

struct ImportTRLCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "trl",
        abstract: "Write a TRL config as a Charter recipe, with TRL's defaults where Charter's differ.",
        discussion: """
            Charter reads TRL's keys directly, but a key a config leaves out takes each tool's default, and a few differ \
            (num_train_epochs: TRL 3, Charter 1). The recipe written here sets those to TRL's, so `charter TRAINER --config \
            recipe.yaml` trains as `trl TRAINER --config CONFIG` would. Example: charter import trl dpo dpo.yaml --output recipe.yaml
            """)

    @Argument(help: "The trainer: sft, dpo, reward, kto, grpo or rloo.") var trainer: String
    @Argument(help: "The TRL config YAML.") var config: String
    @Option(help: "Where to write the recipe (default: standard output).") var output: String?

    func run() throws {
        let keys: [String]
        var defaults: [String: Any]
        let empty = { (keys: [String]) in TrainingRecipe(allowedKeys: keys + TrainingRecipe.modelKeys) }
        switch trainer {
        case "sft": keys = SFTConfiguration.keys; defaults = try empty(keys).effective(SFTConfiguration())
        case "dpo": keys = DPOConfiguration.keys; defaults = try empty(keys).effective(DPOConfiguration())
        case "reward": keys = RewardConfiguration.keys; defaults = try empty(keys).effective(RewardConfiguration())
        case "kto": keys = KTOConfiguration.keys; defaults = try empty(keys).effective(KTOConfiguration())
        case "grpo": keys = GRPOConfiguration.keys + [BuiltInRewards.recipeKey]; defaults = try empty(keys).effective(GRPOConfiguration())
        case "rloo": keys = RLOOConfiguration.keys + [BuiltInRewards.recipeKey]; defaults = try empty(keys).effective(RLOOConfiguration())
        default: throw ValidationError("TRL has command-line scripts for \(TRLExport.trainers.joined(separator: ", ")); not for \(trainer)")
        }
        defaults["output_dir"] = nil
        let recipe = try TrainingRecipe(file: config, allowedKeys: keys + TrainingRecipe.modelKeys)
        recipe.notes.forEach(note)
        let imported = try TRLImport(trainer: trainer, config: recipe, charterDefaults: defaults)
        imported.notes.forEach(note)
        let text = "# Charter recipe imported from \(config) (TRL \(TRLConfigKeys.version)): charter \(trainer) --config THIS_FILE\n" + imported.yaml
        if let output {
            do { try Data(text.utf8).write(to: URL(fileURLWithPath: output), options: .atomic) } catch {
                throw ValidationError("cannot write \(output): \(error.localizedDescription)")
            }
            note("wrote \(output)")
        } else {
            print(text, terminator: "")
        }
    }
}
