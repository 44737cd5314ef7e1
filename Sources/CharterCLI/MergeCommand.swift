import ArgumentParser
import Foundation
import LanguageModels
import SafeTensors
import Tensors

/// `charter merge`: folds a LoRA adapter into its base model, as PEFT's `merge_and_unload`.
struct MergeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "merge",
        abstract: "Fold a LoRA adapter into its base model (PEFT's merge_and_unload) and save a full Hugging Face folder.",
        discussion: """
            Each adapted weight becomes W + scaling·B·A; the output folder has config.json, model.safetensors and the \
            tokenizer files (the adapter folder's when it has them, else the base's), so transformers' \
            AutoModelForCausalLM.from_pretrained and every charter command read it without --lora. \
            Example: charter merge --model base/ --lora runs/sft-lora --output merged/
            """)

    @OptionGroup var model: ModelOptions
    @OptionGroup var destination: ModelOutputOptions

    func run() throws {
        let folders = try model.folders()
        guard let adapter = folders.adapter else {
            throw ValidationError("nothing to merge: give the adapter with --lora ADAPTER (or --model ADAPTER, whose adapter_config.json names the base)")
        }
        let output = try destination.folder()
        if let threads = model.threads { ComputeThreads.count = threads }
        let network = try folders.loadModel()
        LoRA.merge(network)
        try PretrainedModel.save(network, to: output, dtype: destination.safeTensorsType)
        try PretrainedModel.copyCompanionFiles(from: folders.base, to: output)
        if folders.files != folders.base { try PretrainedModel.copyCompanionFiles(from: folders.files, to: output) }
        note("merged \(adapter.path) into \(folders.base.path); saved to \(destination.output)")
    }
}

/// `--output DIR [--dtype float32|bfloat16|float16] [--overwrite]` of the commands that write a full model folder
/// (`merge`, `convert`).
struct ModelOutputOptions: ParsableArguments {
    @Option(help: "The folder to write (created; must not already hold a model unless --overwrite).") var output: String
    @Option(help: "Weight dtype of model.safetensors: float32, bfloat16 or float16.") var dtype = "float32"
    @Flag(help: "Replace a model already in --output.") var overwrite = false

    func validate() throws {
        guard ["float32", "bfloat16", "float16"].contains(dtype) else {
            throw ValidationError("--dtype must be float32, bfloat16 or float16 (got \(dtype))")
        }
    }

    var safeTensorsType: SafeTensorsDType { dtype == "bfloat16" ? .bfloat16 : dtype == "float16" ? .float16 : .float32 }

    /// The output folder, refused when it already holds a model and --overwrite is not given.
    func folder() throws -> URL {
        let url = URL(fileURLWithPath: output)
        if !overwrite && FileManager.default.fileExists(atPath: url.appendingPathComponent("config.json").path) {
            throw CommandError("\(output) already holds a model (config.json); choose another --output or pass --overwrite")
        }
        return url
    }
}
