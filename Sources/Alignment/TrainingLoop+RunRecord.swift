import Checksums
import Foundation
import JSON
import Runtime

/// What a finished run leaves next to the model, as transformers' Trainer and TRL leave it: trainer_state.json
/// (`TrainerState.save_to_json`: the step counts and the whole log history) and README.md (a model card with the
/// recipe, the data's SHA-256 and the final metrics).
extension TrainingLoop {
    /// Writes trainer_state.json and README.md into the output folder.
    /// - Parameters:
    ///   - method: "SFT", "DPO", "ORPO", "KTO", "Reward" or "PPO".
    ///   - steps: optimizer steps done (PPO: iterations); `epoch` the epochs they covered.
    ///   - configuration: training_config.json's contents (the effective recipe), when the run has one.
    func writeRunRecord(method: String, steps: Int, epoch: Double, totalSteps: Int, configuration: Data?) throws {
        let output = URL(fileURLWithPath: arguments.outputDirectory)
        let history = Self.logHistory(output.appendingPathComponent("metrics.jsonl"))
        let state = trainerState(steps: steps, epoch: epoch, totalSteps: totalSteps, history: history)
        try AtomicFile.write(Data((state.sortingKeys.serialized(.indented) + "\n").utf8), to: output.appendingPathComponent("trainer_state.json"))
        let recipe = configuration.flatMap { try? JSONParser.parse($0) }
        let card = Self.modelCard(method: method, name: output.lastPathComponent, output: output.path, recipe: recipe,
                                  steps: steps, epoch: epoch, history: history)
        try AtomicFile.write(Data(card.utf8), to: output.appendingPathComponent("README.md"))
    }

    /// transformers' `TrainerState` fields (best-model tracking and hyper-parameter search unused; FLOPs not counted).
    func trainerState(steps: Int, epoch: Double, totalSteps: Int, history: [JSONValue]) -> JSONValue {
        JSONValue(sortingKeys: [
            "best_global_step": .null, "best_metric": .null, "best_model_checkpoint": .null,
            "epoch": .numeric(epoch), "global_step": .integer(steps), "max_steps": .integer(totalSteps),
            "num_train_epochs": .integer(Int(Double(arguments.epochs).rounded(.up))),
            "logging_steps": .integer(arguments.loggingSteps), "eval_steps": .integer(arguments.evaluationSteps),
            "save_steps": .integer(arguments.saveSteps), "train_batch_size": .integer(arguments.batchSize),
            "log_history": .array(history), "num_input_tokens_seen": .integer(0), "total_flos": .integer(0),
            "is_hyper_param_search": false, "is_local_process_zero": true, "is_world_process_zero": true,
            "trial_name": .null, "trial_params": .null, "stateful_callbacks": .object([]),
        ])
    }

    /// metrics.jsonl's records (the whole run, resumed parts included), in order.
    static func logHistory(_ url: URL) -> [JSONValue] {
        guard let text = try? String(contentsOf: url, encoding: .utf8) else { return [] }
        return text.split(separator: "\n").compactMap { try? JSONParser.parse(Data($0.utf8)) }
    }

    /// The papers TRL's model cards cite for each method.
    static let citations = [
        "GRPO": "Shao et al. 2024, \"DeepSeekMath: Pushing the Limits of Mathematical Reasoning in Open Language Models\"",
        "RLOO": "Ahmadian et al. 2024, \"Back to Basics: Revisiting REINFORCE Style Optimization for Learning from Human Feedback in LLMs\"",
        "DPO": "Rafailov et al. 2023, \"Direct Preference Optimization: Your Language Model is Secretly a Reward Model\"",
        "KTO": "Ethayarajh et al. 2024, \"KTO: Model Alignment as Prospect Theoretic Optimization\"",
        "ORPO": "Hong et al. 2024, \"ORPO: Monolithic Preference Optimization without Reference Model\"",
        "PPO": "Schulman et al. 2017, \"Proximal Policy Optimization Algorithms\"; Ouyang et al. 2022, \"Training language models to follow instructions with human feedback\"",
        "Reward": "Ouyang et al. 2022, \"Training language models to follow instructions with human feedback\"",
    ]

    /// README.md in the layout of TRL's model cards: front matter, how to use the model, the data and its SHA-256,
    /// the effective recipe, the final metrics, versions and citations.
    static func modelCard(method: String, name: String, output: String, recipe: JSONValue?, steps: Int, epoch: Double,
                          history: [JSONValue]) -> String {
        let base = recipe?["model_name_or_path"]?.stringValue ?? "unknown"
        let isAdapter = recipe?["use_peft"] == true
        var lines = ["---", "base_model: \(base)", "library_name: \(isAdapter ? "peft" : "transformers")", "model_name: \(name)",
                     "tags:", "- generated_from_trainer", "- charter", "- \(method.lowercased())", "---", "",
                     "# Model card for \(name)", "",
                     "This model is a fine-tuned version of `\(base)`, trained with \(method) by Charter (TRL's keys and metrics)"
                        + (isAdapter ? " as a PEFT LoRA adapter." : "."), "", "## Quick start", ""]
        switch (method, isAdapter) {
        case ("Reward", _): lines += ["```python", "from transformers import AutoModelForSequenceClassification",
                                      "model = AutoModelForSequenceClassification.from_pretrained(\"\(output)\")  # one score per sequence", "```"]
        case (_, true): lines += ["```sh", "charter chat --model \(output)   # loads the base named in adapter_config.json",
                                  "charter merge --model \(output) --output \(output)-merged", "```"]
        default: lines += ["```sh", "charter chat --model \(output)", "```"]
        }
        lines += ["", "## Training data", ""]
        let files = ["dataset_name": "training", "eval_dataset_name": "evaluation"].sorted { $0.key > $1.key }
        var listed = false
        for (key, role) in files {
            guard let path = recipe?[key]?.stringValue else { continue }
            let hash = (try? SHA256.hex(file: URL(fileURLWithPath: path))).map { "SHA-256 `\($0)`" } ?? "not readable when the run ended"
            lines.append("- \(role): `\(path)`, \(hash)")
            listed = true
        }
        if !listed { lines.append("- not recorded (no dataset_name in the recipe)") }
        lines += ["", "## Training procedure", "",
                  "\(steps) optimizer \(method == "PPO" ? "iteration" : "step")\(steps == 1 ? "" : "s"), \(JSONValue.numeric(epoch).serialized()) epoch\(epoch == 1 ? "" : "s")."]
        if let recipe {
            lines += ["The effective recipe (training_config.json):", "", "```json", recipe.sortingKeys.serialized(.indented), "```"]
        }
        let training = history.last { record in !record.keys.contains { $0.hasPrefix("eval_") } }
        let evaluation = history.last { record in record.keys.contains { $0.hasPrefix("eval_") } }
        lines += ["", "## Results", ""]
        if training == nil && evaluation == nil { lines.append("No metrics were logged.") }
        for (title, record) in [("Last logged training metrics", training), ("Final evaluation", evaluation)] {
            guard let record else { continue }
            lines += ["\(title):", "", "| metric | value |", "|---|---|"]
            lines += record.keys.sorted().compactMap { key in record[key].map { "| \(key) | \($0.serialized()) |" } }
            lines.append("")
        }
        lines += ["## Framework versions", "", "- Charter: \(CharterVersion.current)", ""]
        if let citation = citations[method] { lines += ["## Citations", "", "- \(citation)", ""] }
        return lines.joined(separator: "\n")
    }
}
