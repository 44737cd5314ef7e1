import Datasets
import Foundation
import JSON
import Settings

/// A trainer's configuration: TRL's keys (every field declared once, ``KeyedSettings``) and the checks a run starts
/// with.
public protocol TrainerConfiguration: KeyedSettings {
    /// - Throws: `SettingsError` naming the key and value a run cannot start with.
    func validate() throws
}

extension SFTConfiguration: TrainerConfiguration {}
extension DPOConfiguration: TrainerConfiguration {}
extension RewardConfiguration: TrainerConfiguration {}
extension KTOConfiguration: TrainerConfiguration {}
extension GRPOConfiguration: TrainerConfiguration {}
extension RLOOConfiguration: TrainerConfiguration {}

/// `charter export trl`: a folder from which TRL 1.16 runs the same recipe — `config.yaml` holding only keys
/// `trl TRAINER --config` accepts, the data laid out where `load_dataset` finds it, a launch script, and
/// accelerate configurations for several GPUs (DDP) and DeepSpeed ZeRO-3. GRPO and RLOO exports add
/// charter_rewards.py, Charter's reward functions in TRL's form (`TRLExport+Rewards.swift`).
///
/// The config carries every value the Charter run uses (its effective recipe), not only the keys the user wrote:
/// Charter's defaults are not all TRL's (`num_train_epochs` 1 against 3, for one), so writing them makes both runs
/// the same. Charter keys TRL has no name for are renamed (`warmup_ratio` → a fractional `warmup_steps`) or, when
/// they hold their no-op value, left out; otherwise the export refuses them by name.
public struct TRLExport {
    /// "sft", "dpo", "reward", "kto", "grpo" or "rloo".
    public let trainer: String
    /// config.yaml's keys and values (JSON-compatible: String, Int, Double, Bool, NSNull, lists, mappings).
    public private(set) var config: [String: Any] = [:]
    /// What the export changed or left out, one line each.
    public private(set) var notes: [String] = []
    /// The recipe's chat template as Jinja source (a built-in format's, ``ChatTemplate/selfContainedJinjaSource(generationMarks:)``, or the
    /// `.jinja` file's), written as chat_template.jinja; `inModelFolder` when the trainer's TRL config has no
    /// `chat_template_path`, so the export's model/ folder carries it where transformers reads it.
    public private(set) var chatTemplate: (source: String, inModelFolder: Bool)?
    /// GRPO's and RLOO's reward functions, written to charter_rewards.py.
    public private(set) var rewards: [ExportedReward] = []

    /// Trainers with a TRL 1.16 script (`trl sft|dpo|reward|kto|grpo|rloo`).
    public static let trainers = ["sft", "dpo", "reward", "kto", "grpo", "rloo"]

    /// The configuration type and keys of an exportable trainer.
    public static func configuration(of trainer: String) -> (any TrainerConfiguration.Type)? {
        switch trainer {
        case "sft": return SFTConfiguration.self
        case "dpo": return DPOConfiguration.self
        case "reward": return RewardConfiguration.self
        case "kto": return KTOConfiguration.self
        case "grpo": return GRPOConfiguration.self
        case "rloo": return RLOOConfiguration.self
        default: return nil
        }
    }

    /// What a run of `type` reads from `recipe`, as config.yaml needs it: the decoded and validated configuration
    /// written back as recipe keys (``TrainingRecipe/effective(_:)``), plus the foreign keys the recipe holds.
    public static func effective(_ type: any TrainerConfiguration.Type, recipe: TrainingRecipe) throws -> [String: Any] {
        func read<T: TrainerConfiguration>(_ type: T.Type) throws -> [String: Any] {
            let configuration = try recipe.decode(type)
            try configuration.validate()
            return try recipe.effective(configuration)
        }
        var values = try read(type)
        for (key, value) in recipe.values where TrainingRecipe.foreignKeys[key] != nil && !type.keys.contains(key) { values[key] = value }
        return values
    }

    /// - Parameters:
    ///   - effective: the run's effective recipe (training_config.json's keys), plus the recipe's foreign keys.
    ///   - hasEvaluation: whether the export holds a test split.
    ///   - conversational: whether the training data holds message lists.
    ///   - cpu: add `use_cpu: true`, and `bf16: false` unless the recipe asks for `bf16: true` (which TRL then runs
    ///     as CPU autocast, as Charter runs it as bf16 matmuls), so TRL runs on a machine without a GPU.
    ///   - outputDirectory: TRL's `output_dir` (relative to the export folder, or absolute).
    ///   - rewardFunctions: GRPO's and RLOO's `reward_funcs` (Charter's specs: exact-match, length, cmd:…, http(s)://…).
    ///   - rewardModel: a pipeline stage's preference model folder, scored after `rewardFunctions` (TRL's
    ///     `reward_model_name_or_path`, which TRL scores first: `reward_weights` are reordered to match).
    /// - Throws: `TrainingError.data` naming each Charter key that TRL cannot express, or a reward it cannot run.
    public init(trainer: String, effective: [String: Any], hasEvaluation: Bool, conversational: Bool, cpu: Bool,
                outputDirectory: String = "output", rewardFunctions: [String] = [], rewardModel: String? = nil) throws {
        guard Self.trainers.contains(trainer), let accepted = TRLConfigKeys.keys(for: trainer) else {
            throw TrainingError.data("TRL \(TRLConfigKeys.version) has a command-line script for \(Self.trainers.joined(separator: ", ")); not for \(trainer)")
        }
        self.trainer = trainer
        var values = effective
        var refused: [String] = []
        // Keys the export writes itself.
        for key in ["model_name_or_path", "dataset_name", "eval_dataset_name", "datasets", "dataset_train_split", "dataset_test_split", "output_dir",
                    "reward_funcs", "reward_model_name_or_path"] {
            values[key] = nil
        }
        if let ratio = Self.number(values.removeValue(forKey: "warmup_ratio")), ratio > 0 {
            if (Self.number(values["warmup_steps"]) ?? 0) == 0 {
                values["warmup_steps"] = ratio
                notes.append("warmup_ratio \(ratio) → warmup_steps \(ratio) (transformers 5 reads a warmup_steps below 1 as a ratio)")
            }
        }
        if let name = values.removeValue(forKey: "chat_template_name") as? String {
            // TRL's assistant_only_loss masks the template's {% generation %} spans (and patches only templates it knows).
            let marksAssistant = trainer == "sft" && conversational && values["assistant_only_loss"] as? Bool == true
            let exported = try Self.chatTemplate(name, trainer: trainer, hasPath: accepted.contains("chat_template_path"), marksAssistant: marksAssistant)
            if !exported.inModelFolder { values["chat_template_path"] = "chat_template.jinja" }
            chatTemplate = (exported.source, exported.inModelFolder)
            notes.append(exported.note)
        }
        // Charter's 0 means "none" / "all"; transformers' is null.
        // Charter's SFT applies assistant_only_loss to conversations only; TRL refuses it on other data.
        if trainer == "sft", !conversational, values["assistant_only_loss"] as? Bool == true { values["assistant_only_loss"] = false }
        if let limit = Self.number(values["save_total_limit"]), limit == 0 { values["save_total_limit"] = NSNull() }
        if let steps = Self.number(values["eval_steps"]), steps == 0 { values["eval_steps"] = NSNull() }
        if values["eval_strategy"] == nil || values["eval_strategy"] is NSNull {
            // Charter without eval_strategy evaluates every eval_steps and at the end; TRL needs a strategy.
            let steps = Int(Self.number(values["eval_steps"]) ?? 0)
            values["eval_strategy"] = hasEvaluation && steps > 0 ? "steps" : "no"
            if hasEvaluation {
                notes.append(steps > 0 ? "eval_strategy: steps (every \(steps) steps; Charter also evaluates at the end, TRL does not)"
                                       : "eval_strategy: no — Charter evaluates once at the end, which TRL cannot; set eval_strategy and eval_steps to evaluate in both")
            }
        }
        // Charter-only keys at their no-op value are left out; others cannot be expressed. (An ensemble's mean is a
        // no-op: TRL gets no ensemble folder, see `reward_model_name_or_path`; λ only acts with uncertainty.)
        let aggregation = values["reward_aggregation"] as? String
        let noOp: [String: (Any) -> Bool] = [
            "reward_aggregation": { $0 as? String == "mean" }, "reward_uncertainty_penalty": { _ in aggregation != "uncertainty" },
            "max_prompt_length": { $0 is NSNull }, "rpo_alpha": { $0 is NSNull }, "ref_model": { $0 is NSNull },
            "simpo_gamma": { _ in !(Self.lossTypes(values["loss_type"]).contains("simpo")) },
        ]
        for key in values.keys.sorted() where !accepted.contains(key) {
            let value = values.removeValue(forKey: key)!
            if let check = noOp[key], check(value) { continue }
            if TrainingRecipe.foreignKeys[key] != nil {
                notes.append("\(key) left out: TRL \(TRLConfigKeys.version)'s \(trainer) script does not read it")
                continue
            }
            refused.append("\(key) (\(TrainingRecipe.yamlText(value)))")
        }
        guard refused.isEmpty else {
            throw TrainingError.data("TRL \(TRLConfigKeys.version)'s \(trainer) script has no equivalent of \(refused.joined(separator: ", ")); remove \(refused.count == 1 ? "it" : "them") from the recipe to export")
        }
        if ["grpo", "rloo"].contains(trainer) {
            guard !rewardFunctions.isEmpty || rewardModel != nil else {
                throw TrainingError.data("\(trainer) needs reward functions: give reward_funcs in the recipe (exact-match, length, cmd:PROGRAM ARGS or an http(s):// URL)")
            }
            let maximum = Int(Self.number(values["max_completion_length"]) ?? 256)
            rewards = try Self.exportedRewards(rewardFunctions, maximumCompletionLength: maximum)
            if !rewards.isEmpty {
                values["reward_funcs"] = rewards.map { "\(Self.rewardModule).\($0.name)" }
                notes.append("reward_funcs → \(rewards.map { "\(Self.rewardModule).\($0.name)" }.joined(separator: ", ")) (charter_rewards.py: Charter's rewards with TRL's reward-function signature)")
            }
            if let rewardModel {
                values["reward_model_name_or_path"] = rewardModel
                // Charter scores reward_funcs, then the model; TRL the model first.
                if let weights = values["reward_weights"] as? [Any], weights.count == rewards.count + 1, let last = weights.last {
                    values["reward_weights"] = [last] + weights.dropLast()
                }
            }
        } else if !rewardFunctions.isEmpty {
            throw TrainingError.data("reward_funcs is for grpo and rloo, not \(trainer)")
        }
        if cpu {
            values["use_cpu"] = true
            if values["bf16"] as? Bool != true { values["bf16"] = false }
        }
        values["dataset_name"] = "data"
        values["dataset_train_split"] = "train"
        if hasEvaluation { values["dataset_test_split"] = "test" }
        values["output_dir"] = outputDirectory
        config = values
    }

    /// Writes config.yaml, data/train.jsonl (and data/test.jsonl), launch.sh, accelerate/*.yaml and README.md.
    /// - Parameter model: `model_name_or_path` as config.yaml gives it (a local folder on the cluster, or a Hub id).
    public func write(to folder: URL, model: String, train: Dataset, evaluation: Dataset?) throws {
        try write(to: folder, model: model, train: train.examples, evaluation: evaluation?.examples)
    }

    /// Writes the folder for examples already read (a pipeline stage's dataset and its `mix_in`).
    public func write(to folder: URL, model: String, train: [Example], evaluation: [Example]?) throws {
        let manager = FileManager.default
        do {
            try manager.createDirectory(at: folder.appendingPathComponent("data"), withIntermediateDirectories: true)
            try manager.createDirectory(at: folder.appendingPathComponent("accelerate"), withIntermediateDirectories: true)
        } catch { throw TrainingError.io("cannot create \(folder.path): \(error.localizedDescription)") }
        try writeExamples(train, to: folder.appendingPathComponent("data/train.jsonl"))
        if let evaluation { try writeExamples(evaluation, to: folder.appendingPathComponent("data/test.jsonl")) }
        var values = config
        values["model_name_or_path"] = model
        if let chatTemplate {
            try write(chatTemplate.source, to: folder.appendingPathComponent("chat_template.jinja"))
            if chatTemplate.inModelFolder {
                try linkModel(model, addingTemplate: chatTemplate.source, into: folder.appendingPathComponent("model"))
                values["model_name_or_path"] = "model"
            }
        }
        let yaml = "# TRL \(TRLConfigKeys.version) recipe exported by charter export trl: `bash launch.sh` runs it (see README.md).\n"
            + values.keys.sorted().map { "\($0): \(Self.yamlValue(values[$0]!))" }.joined(separator: "\n") + "\n"
        try write(yaml, to: folder.appendingPathComponent("config.yaml"))
        if !rewards.isEmpty {
            let tokenizer = values["model_name_or_path"] as? String ?? model
            try write(Self.rewardModuleSource(rewards, model: tokenizer), to: folder.appendingPathComponent("\(Self.rewardModule).py"))
        }
        try write(launchScript, to: folder.appendingPathComponent("launch.sh"))
        try? manager.setAttributes([.posixPermissions: 0o755], ofItemAtPath: folder.appendingPathComponent("launch.sh").path)
        try write(Self.multiGPU, to: folder.appendingPathComponent("accelerate/multi_gpu.yaml"))
        try write(Self.zero3, to: folder.appendingPathComponent("accelerate/deepspeed_zero3.yaml"))
        try write(readme(train: train, evaluation: evaluation), to: folder.appendingPathComponent("README.md"))
    }

    var launchScript: String {
        """
        #!/usr/bin/env bash
        # Runs config.yaml with TRL \(TRLConfigKeys.version) (pip install "trl==\(TRLConfigKeys.version)" peft).
        #   bash launch.sh                                            one process (GPU, or CPU with use_cpu: true)
        #   ACCELERATE_CONFIG=accelerate/multi_gpu.yaml bash launch.sh    DDP over num_processes GPUs
        #   ACCELERATE_CONFIG=accelerate/deepspeed_zero3.yaml bash launch.sh
        # Extra arguments go to TRL (e.g. --max_steps 10).
        set -euo pipefail
        cd "$(dirname "$0")"
        if [[ -n "${ACCELERATE_CONFIG:-}" ]]; then
            exec trl \(trainer) --config config.yaml --accelerate_config "$ACCELERATE_CONFIG" "$@"
        fi
        exec trl \(trainer) --config config.yaml "$@"

        """
    }

    func readme(train: [Example], evaluation: [Example]?) -> String {
        var lines = ["# TRL export of a Charter recipe (\(trainer))", "",
                     "`bash launch.sh` runs `trl \(trainer) --config config.yaml` here (TRL \(TRLConfigKeys.version)).",
                     "Several GPUs: `ACCELERATE_CONFIG=accelerate/multi_gpu.yaml bash launch.sh` (set num_processes to your GPU count);",
                     "DeepSpeed ZeRO-3: `ACCELERATE_CONFIG=accelerate/deepspeed_zero3.yaml bash launch.sh`.", "",
                     "- data/train.jsonl: the \(train.count) \(train.first?.type.rawValue ?? "") examples Charter trains on, in its order",
                     "  (train_sampling_strategy: \(TrainingRecipe.yamlText(config["train_sampling_strategy"] ?? "random")))."]
        if let evaluation { lines.append("- data/test.jsonl: the \(evaluation.count) evaluation examples.") }
        if !rewards.isEmpty {
            lines.append("- \(Self.rewardModule).py: the reward functions (\(rewards.map(\.name).joined(separator: ", "))), as Charter scores; cmd: and http rewards load the model's tokenizer for prompt_ids.")
        }
        if chatTemplate?.inModelFolder == true {
            lines.append("- model/: links to the model's files plus chat_template.jinja, the recipe's chat template; copy it with `cp -rL` (or `rsync -L`) to follow the links.")
        } else {
            lines.append("- model_name_or_path must name the model where TRL runs: copy the folder there, or give `--model_name_or_path`.")
        }
        if chatTemplate?.inModelFolder == false { lines.append("- chat_template.jinja: the recipe's chat template (config.yaml's chat_template_path).") }
        if !notes.isEmpty { lines += ["", "What the export changed:", ""] + notes.map { "- \($0)" } }
        return lines.joined(separator: "\n") + "\n"
    }

    func writeExamples(_ examples: [Example], to url: URL) throws {
        let text = examples.map { $0.jsonValue(keepImplicitPrompt: false).serialized(.compactLines) }.joined(separator: "\n") + "\n"
        try write(text, to: url)
    }

    func write(_ text: String, to url: URL) throws {
        do { try Data(text.utf8).write(to: url, options: .atomic) } catch {
            throw TrainingError.io("cannot write \(url.path): \(error.localizedDescription)")
        }
    }

    /// A value as YAML that PyYAML (YAML 1.1) reads back as the same type: strings double-quoted (JSON escapes),
    /// floats always with a dot (`1.0e-06`: YAML 1.1 reads `1e-06` as a string), lists and mappings in flow style.
    static func yamlValue(_ value: Any) -> String {
        switch value {
        case is NSNull: return "null"
        case let flag as Bool: return flag ? "true" : "false"
        case let integer as Int: return "\(integer)"
        case let number as Double:
            if number == number.rounded(), abs(number) < 1e15 { return "\(Int(number)).0" }
            var text = "\(number)"
            if !text.contains("."), let e = text.firstIndex(where: { $0 == "e" || $0 == "E" }) { text.insert(contentsOf: ".0", at: e) }
            return text
        case let number as Float: return yamlValue(Double("\(number)") ?? Double(number))
        case let text as String: return JSONValue.string(text).serialized()
        case let list as [Any]: return "[" + list.map(yamlValue).joined(separator: ", ") + "]"
        case let mapping as [String: Any]:
            return "{" + mapping.keys.sorted().map { "\(JSONValue.string($0).serialized()): \(yamlValue(mapping[$0]!))" }.joined(separator: ", ") + "}"
        default: return JSONValue.string("\(value)").serialized()
        }
    }

    static func number(_ value: Any?) -> Double? {
        switch value {
        case let number as Double: return number
        case let integer as Int: return Double(integer)
        case let number as Float: return Double(number)
        default: return nil
        }
    }

    static func lossTypes(_ value: Any?) -> [String] {
        (value as? [Any])?.compactMap { $0 as? String } ?? (value as? String).map { [$0] } ?? []
    }

    static let multiGPU = """
        # accelerate: data-parallel (DDP) training on one machine; set num_processes to the number of GPUs.
        compute_environment: LOCAL_MACHINE
        distributed_type: MULTI_GPU
        mixed_precision: bf16
        num_machines: 1
        num_processes: 8
        machine_rank: 0
        main_training_function: main
        rdzv_backend: static
        same_network: true
        use_cpu: false

        """

    static let zero3 = """
        # accelerate: DeepSpeed ZeRO stage 3 (parameters, gradients and optimizer state sharded over the GPUs).
        compute_environment: LOCAL_MACHINE
        distributed_type: DEEPSPEED
        deepspeed_config:
          deepspeed_multinode_launcher: standard
          offload_optimizer_device: none
          offload_param_device: none
          zero3_init_flag: true
          zero3_save_16bit_model: true
          zero_stage: 3
        mixed_precision: bf16
        num_machines: 1
        num_processes: 8
        machine_rank: 0
        main_training_function: main
        rdzv_backend: static
        same_network: true
        use_cpu: false

        """
}
