import Alignment
import ArgumentParser
import Datasets
import Foundation
import JSON
import LanguageModels
import Settings
import Tensors

/// Flags every trainer command shares (`charter dpo`, `charter reward`, `charter sft`): model, data, output, a
/// `--config recipe.yaml` of TRL keys, and flags that override the recipe's keys.
///
/// Commands add their own flags as recipe keys (`trainerOverrides`), build a `TrainingRecipe` with `recipe(keys:)`,
/// decode their configuration from it and write `recipe.effective(configuration)` into the output folder.
struct TrainerOptions: ParsableArguments {
    @Option(help: "Model folder (recipe key model_name_or_path).") var model: String?
    @Option(help: "Training data, TRL format: a .jsonl or .jsonl.gz file, or a folder laid out as load_dataset reads it (its dataset_train_split files; recipe key dataset_name).") var dataset: String?
    @Option(help: "Held-out data evaluated every eval_steps and at the end (recipe key eval_dataset_name).") var evalDataset: String?
    @Option(help: "Where checkpoints, metrics.jsonl, the effective config and the model go (output_dir; default runs/train, said at the start).") var outputDir: String?
    @Option(help: "A YAML recipe of TRL keys (e.g. beta: 0.1, learning_rate: 5.0e-7); flags override it.") var config: String?
    @Option(name: .customLong("set"), help: "Override any recipe key: --set KEY=VALUE (repeatable).") var assignments: [String] = []
    @Flag(help: "Continue from the newest complete checkpoint in the output folder.") var resume = false
    @Flag(help: "Skip malformed dataset lines (reported) instead of stopping at the first.") var skipInvalid = false
    @Option(help: "Chat format for conversational data instead of the tokenizer's own chat_template (chatml, llama3, hh, …); without it the folder's template is rendered as it is.") var chatTemplate: String?
    @Option(help: "Kernel threads (default: CHARTER_THREADS or every core).") var threads: Int?
    @Flag(help: "bf16 mixed precision (recipe key bf16): matmul operands rounded to bfloat16, fp32 accumulation, fp32 master weights, gradients and optimizer state. VDPBF16PS on CPUs with AVX512-BF16; elsewhere the float kernels on rounded operands (no faster).") var bf16 = false

    @Option(help: "learning_rate") var learningRate: Float?
    @Option(help: "max_steps (overrides num_train_epochs)") var maxSteps: Int?
    @Option(help: "num_train_epochs") var numTrainEpochs: Float?
    @Option(name: .customLong("batch-size"), help: "per_device_train_batch_size") var batchSize: Int?
    @Option(help: "per_device_eval_batch_size") var evalBatchSize: Int?
    @Option(help: "gradient_accumulation_steps") var gradientAccumulationSteps: Int?
    @Option(help: "max_length") var maxLength: Int?
    @Option(help: "lr_scheduler_type: constant, linear or cosine") var lrSchedulerType: String?
    @Option(help: "warmup_ratio") var warmupRatio: Float?
    @Option(help: "seed") var seed: UInt64?
    @Option(help: "logging_steps") var loggingSteps: Int?
    @Option(help: "save_steps: a resumable checkpoint every this many steps (default 500, as TRL; 0 = no checkpoints)") var saveSteps: Int?
    @Option(help: "eval_steps (0 = only at the end)") var evalSteps: Int?

    @Option(help: "LoRA rank (lora_r); turns LoRA on (use_peft).") var loraR: Int?
    @Option(help: "lora_alpha") var loraAlpha: Float?
    @Option(help: "lora_dropout") var loraDropout: Float?
    @Option(help: "lora_target_modules: comma-separated names, or all-linear.") var loraTargetModules: String?

    /// The recipe: the `--config` file (if any), then these flags and `extra` (the command's own flags), then `--set`.
    func recipe(keys: [String], extra: [String: Any?] = [:]) throws -> TrainingRecipe {
        // bf16 is TRL's TrainingArguments key, read by every trainer here (see applyPrecision).
        let allowed = keys + TrainingRecipe.modelKeys + ["bf16"]
        var recipe = try config.map { try TrainingRecipe(file: $0, allowedKeys: allowed) } ?? TrainingRecipe(allowedKeys: allowed)
        let flags: [String: Any?] = [
            "model_name_or_path": model, "dataset_name": dataset, "eval_dataset_name": evalDataset, "output_dir": outputDir,
            "chat_template_name": chatTemplate, "learning_rate": learningRate.map { Double($0) }, "max_steps": maxSteps,
            "num_train_epochs": numTrainEpochs.map { Double($0) }, "per_device_train_batch_size": batchSize,
            "per_device_eval_batch_size": evalBatchSize, "gradient_accumulation_steps": gradientAccumulationSteps,
            "max_length": maxLength, "lr_scheduler_type": lrSchedulerType, "warmup_ratio": warmupRatio.map { Double($0) },
            "seed": seed.map { Int($0) }, "logging_steps": loggingSteps, "save_steps": saveSteps, "eval_steps": evalSteps,
            "lora_r": loraR, "lora_alpha": loraAlpha.map { Double($0) }, "lora_dropout": loraDropout.map { Double($0) },
            "lora_target_modules": loraTargetModules.map { $0 == "all-linear" ? $0 as Any : $0.split(separator: ",").map(String.init) as Any },
            "use_peft": loraR != nil ? true : nil, "bf16": bf16 ? true : nil,
        ]
        try recipe.override(flags.merging(extra) { $1 }.compactMapValues { $0 })
        for assignment in assignments { try recipe.override(assignment: assignment) }
        if let threads { ComputeThreads.count = threads }
        recipe.notes.forEach(note)
        try applyPrecision(recipe)
        return recipe
    }

    /// Sets `MatmulPrecision` from the recipe's bf16 (true: bf16 matmuls; false or null, TRL's default, which on a
    /// CPU means fp32: fp32) and says which kernels run when it is on.
    /// - Throws: `SettingsError` when bf16 is not a boolean.
    func applyPrecision(_ recipe: TrainingRecipe) throws {
        guard let value = recipe["bf16"] else {
            MatmulPrecision.current = .float32
            return
        }
        guard let on = value as? Bool else {
            throw SettingsError(key: "bf16", message: "must be true or false (got \(SettingsError.quoted(String(describing: value))))")
        }
        MatmulPrecision.current = on ? .bfloat16 : .float32
        if on { note(MatmulPrecision.bfloat16Note) }
    }

    /// Says where the run writes when neither `--output-dir` nor the recipe (`--config`, `--set`) names output_dir, so
    /// the default folder is not a surprise (one line on standard error, before anything is loaded).
    func noteDefaultOutput(_ recipe: TrainingRecipe, _ arguments: TrainingArguments) {
        guard recipe["output_dir"] == nil else { return }
        note("writing to \(arguments.outputDirectory) (output_dir's default; give --output-dir DIR to choose)")
    }

    /// The model folder: `--model` or the recipe's model_name_or_path.
    func modelDirectory(_ recipe: TrainingRecipe) throws -> URL {
        guard let path = recipe["model_name_or_path"] as? String else {
            let recipe = config.map { "\($0) sets no model_name_or_path; " } ?? ""
            throw ValidationError("\(recipe)give the model folder with --model (or model_name_or_path in the recipe)")
        }
        try checkPath(path, key: "model_name_or_path")
        return URL(fileURLWithPath: path)
    }

    /// Throws a `SettingsError` naming `key` unless `path` is one the system can hold (``SettingsCheck/path``).
    func checkPath(_ path: String, key: String) throws {
        if let problem = SettingsCheck<String>.path.problem(path) {
            throw SettingsError(key: key, message: "\(problem) (got \(SettingsError.quoted(path)))")
        }
    }

    /// The training and evaluation data named by the recipe (either may be absent), read as TRL's scripts read them:
    /// `dataset_name` a file or a folder (its `dataset_train_split` files), or a `datasets:` mixture; the evaluation
    /// data from `eval_dataset_name` (a folder's `dataset_test_split` files), or — as TRL when `eval_strategy` is not
    /// "no" — the test split of a `dataset_name` folder.
    func datasets(_ recipe: TrainingRecipe) throws -> (train: Dataset?, evaluation: Dataset?) {
        try ["dataset_name", "eval_dataset_name"].forEach { key in try (recipe[key] as? String).map { try checkPath($0, key: key) } }
        let trainSplit = recipe["dataset_train_split"] as? String ?? "train", testSplit = recipe["dataset_test_split"] as? String ?? "test"
        let options = DatasetOptions(skipInvalid: skipInvalid)
        func load(_ url: URL, split: String) throws -> Dataset {
            let dataset = try DatasetSource.load(url, split: split, options: options)
            note(dataset.summary)
            return dataset
        }
        var train: Dataset?
        if let mixture = recipe["datasets"] {
            guard recipe["dataset_name"] == nil else { throw ValidationError("give either dataset_name (--dataset) or datasets:, not both") }
            train = try DatasetMixture(mixture).load(options: options, source: URL(fileURLWithPath: config ?? "datasets"))
            note("datasets: \(train!.examples.count) \(train!.type.rawValue) examples from the mixture")
        } else if let path = recipe["dataset_name"] as? String {
            train = try load(URL(fileURLWithPath: path), split: trainSplit)
        }
        var evaluation = try (recipe["eval_dataset_name"] as? String).map { try load(URL(fileURLWithPath: $0), split: testSplit) }
        if evaluation == nil, let path = recipe["dataset_name"] as? String, let strategy = recipe["eval_strategy"] as? String, strategy != "no" {
            var isFolder: ObjCBool = false
            if FileManager.default.fileExists(atPath: path, isDirectory: &isFolder), isFolder.boolValue {
                evaluation = try load(URL(fileURLWithPath: path), split: testSplit)
            }
        }
        return (train, evaluation)
    }

    /// The data of a command with `--eval-only`: without --eval-dataset, --dataset is the evaluation set.
    /// - Throws: `ValidationError` when training has no data, or `--eval-only` nothing to evaluate.
    func datasets(_ recipe: TrainingRecipe, evalOnly: Bool) throws -> (train: Dataset?, evaluation: Dataset?) {
        var (train, evaluation) = try datasets(recipe)
        if evalOnly && evaluation == nil { (train, evaluation) = (nil, train) }
        guard evalOnly || train != nil else { throw ValidationError("give the training data with --dataset (or dataset_name in the recipe)") }
        guard !evalOnly || evaluation != nil else { throw ValidationError("--eval-only needs --eval-dataset or --dataset") }
        return (train, evaluation)
    }

    /// The LoRA configuration the recipe asks for (use_peft or lora_r), or nil for full fine-tuning.
    /// - Throws: `SettingsError` naming a LoRA key whose value has the wrong type or is out of range.
    func loraConfiguration(_ recipe: TrainingRecipe) throws -> LoRAConfiguration? {
        let configuration = try LoRARecipe(recipe).configuration
        try configuration?.validate()
        return configuration
    }

    /// What every policy trainer (sft, dpo, orpo, kto, ppo) starts from: the recipe's encoder (its chat template, or
    /// `chat_template_name`) and the policy with the recipe's LoRA settings or `adapter`.
    func encoderAndPolicy(_ recipe: TrainingRecipe, directory: URL, seed: UInt64, adapter: String? = nil) throws
        -> (encoder: ExampleEncoder, policy: TrainableModel) {
        // The model first: its errors (e.g. an adapter folder given as --model) say more than the tokenizer's.
        let policy = try loadPolicy(directory, lora: try loraConfiguration(recipe), seed: seed, adapter: adapter.map { URL(fileURLWithPath: $0) })
        let encoder = try ExampleEncoder.load(directory: directory, chatTemplate: recipe["chat_template_name"] as? String)
        return (encoder, policy)
    }

    /// The policy model: with a PEFT adapter folder (`adapter`, trainable) or fresh LoRA adapters (seeded from the
    /// recipe's seed) when asked for.
    func loadPolicy(_ directory: URL, lora: LoRAConfiguration?, seed: UInt64, adapter: URL? = nil) throws -> TrainableModel {
        let model = try PretrainedModel.load(directory: directory)
        if let adapter {
            guard lora == nil else { throw ValidationError("give either --adapter or LoRA settings (lora_r …), not both") }
            let configuration = try LoRA.load(from: adapter, into: model, trainable: true)
            note("loaded the adapter \(adapter.path) (r=\(configuration.rank)) on top of \(directory.path)")
            var trainable = configuration
            trainable.inferenceMode = false
            return TrainableModel(model: model, sourceDirectory: directory, adapterConfiguration: trainable)
        }
        if let lora {
            var generator = SeededGenerator(seed: seed)
            let adapted = try LoRA.apply(lora, to: model, generator: &generator)
            note("LoRA r=\(lora.rank) alpha=\(lora.alpha) on \(adapted.count) modules; \(model.trainableParameters().reduce(0) { $0 + $1.count }) trainable parameters")
        }
        return TrainableModel(model: model, sourceDirectory: directory, adapterConfiguration: lora)
    }
}

extension TrainerOptions {
    /// What the run used: the configuration as recipe keys, the model keys, and the LoRA settings actually applied.
    func effective<T: Encodable>(_ recipe: TrainingRecipe, _ configuration: T, lora: LoRAConfiguration?) throws -> [String: Any] {
        try recipe.effective(configuration).merging(Self.loraKeys(lora)) { $1 }
    }

    /// The recipe keys of the LoRA settings actually applied (none without LoRA).
    static func loraKeys(_ lora: LoRAConfiguration?) -> [String: Any] {
        guard let lora else { return [:] }
        var object: [String: Any] = ["use_peft": true, "lora_r": lora.rank]
        // Floats as their shortest decimal (0.05, not the widened 0.05000000074505806; 32, not 32.0).
        object["lora_alpha"] = Double("\(lora.alpha)") ?? Double(lora.alpha)
        object["lora_dropout"] = Double("\(lora.dropout)") ?? Double(lora.dropout)
        switch lora.targetModules {
        case .names(let names)?: object["lora_target_modules"] = names
        case .pattern(let pattern)?: object["lora_target_modules"] = pattern
        case nil: object["lora_target_modules"] = NSNull()
        }
        return object
    }
}

extension TrainerOptions {
    /// Trains `objective` in the shared training loop (continuing with --resume), says where the model went and
    /// prints the last logged metrics.
    /// - Parameter memory: the model trained, the sequences of one forward pass and their length, for the memory
    ///   estimate said before the first step.
    func train(_ objective: TrainingObjective, arguments: TrainingArguments, effectiveConfiguration: [String: Any],
               memory: (model: any CausalLanguageModel, sequences: Int, length: Int)? = nil) throws {
        if let memory {
            let estimate = TrainingMemoryEstimate(model: memory.model, sequencesPerStep: memory.sequences, length: memory.length)
            note(estimate.description(checkpointing: memory.model.gradientCheckpointing))
        }
        let summary = try TrainingLoop(arguments: arguments).run(objective, resume: resume, effectiveConfiguration: effectiveConfiguration)
        note("saved to \(arguments.outputDirectory) after \(summary.steps) steps")
        try printMetrics(summary.lastMetrics)
    }
}

/// `--eval-only`: prints the objective's held-out metrics as one JSON object of `eval_` keys.
func printEvaluation(_ objective: TrainingObjective) throws {
    let metrics = try withoutGradients { try objective.evaluate() } ?? [:]
    try printMetrics(Dictionary(uniqueKeysWithValues: metrics.map { ("eval_" + $0.key, $0.value) }))
}

/// A line on standard error (progress and reports; standard output carries results).
func note(_ message: String) {
    FileHandle.standardError.write(Data((message + "\n").utf8))
}

/// Prints metrics as one JSON object with sorted keys.
func printMetrics(_ metrics: [String: Any]) throws {
    print(try JSONValue(foundation: metrics).serialized(.indented))
}
