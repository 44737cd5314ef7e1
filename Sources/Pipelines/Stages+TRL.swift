import Alignment
import Constitutional
import Datasets
import Foundation
import Runtime

extension Stages {
    /// Trains an sft, reward, dpo, grpo or rloo stage with TRL (`backend: trl`): writes `charter export trl`'s folder next to the
    /// stage's model (`trl/`, its `output_dir` the stage's `model` folder), runs `launcher` (default: the export's
    /// launch.sh) as a subprocess with its output streamed to `trl/trl.log` and `log`, and reads the model TRL saved
    /// back as the stage's output, as the next stage reads any model folder. TRL reports to TensorBoard; the stage's
    /// metrics are the last logged values of `train/*` scalars. A grpo or rloo stage trains on its prompts with its
    /// `reward_funcs` (charter_rewards.py) and its `reward_model:` folder as TRL's `reward_model_name_or_path`.
    /// - Parameter launcher: a shell command; `{folder}` is the export folder and `{config}` its config.yaml.
    /// - Throws: `ConstitutionalError` naming the stage when the recipe cannot be exported, the launcher fails (with
    ///   the log's last lines) or leaves no model.
    public static func trl(_ request: TrainingStageRequest, launcher: String?, log: @Sendable (String) -> Void) throws -> [String: Double] {
        let trainer = request.type.rawValue
        guard [.sft, .reward, .dpo, .grpo, .rloo].contains(request.type), let type = TRLExport.configuration(of: trainer) else {
            throw ConstitutionalError("stage \(request.stage): backend: trl trains sft, reward, dpo, grpo and rloo stages, not \(trainer)")
        }
        let rollout = [.grpo, .rloo].contains(request.type)
        let recipe = try trainingRecipe(request, keys: type.keys + (rollout ? [BuiltInRewards.recipeKey] : []))
        var effective = try TRLExport.effective(type, recipe: recipe)
        effective["report_to"] = "tensorboard"
        let examples: [Example]
        if rollout {
            guard let prompts = request.prompts else { throw ConstitutionalError("stage \(request.stage) needs prompts") }
            if let rewardModel = request.rewardModel, RewardEnsembleManifest.isEnsemble(rewardModel) {
                throw ConstitutionalError("stage \(request.stage): backend: trl gives TRL one reward model folder (reward_model_name_or_path); \(rewardModel.path) is an ensemble, which only Charter scores: use backend: charter")
            }
            examples = try Dataset.load(prompts).examples
        } else {
            examples = try trainingExamples(request)
        }
        let folder = request.output.deletingLastPathComponent().appendingPathComponent("trl")
        let export: TRLExport
        do {
            export = try TRLExport(trainer: trainer, effective: effective, hasEvaluation: false,
                                   conversational: examples.contains(where: isConversational), cpu: false, outputDirectory: request.output.path,
                                   rewardFunctions: BuiltInRewards.names(recipe[BuiltInRewards.recipeKey]), rewardModel: request.rewardModel?.path)
        } catch { throw ConstitutionalError("stage \(request.stage): \(error)") }
        try? FileManager.default.removeItem(at: request.output)
        try export.write(to: folder, model: request.model.path, train: examples, evaluation: nil)
        export.notes.forEach { log("stage \(request.stage): \($0)") }
        let command = (launcher ?? "bash launch.sh")
            .replacingOccurrences(of: "{folder}", with: shellQuoted(folder.path))
            .replacingOccurrences(of: "{config}", with: shellQuoted(folder.appendingPathComponent("config.yaml").path))
        let tensorBoard = folder.appendingPathComponent("tensorboard")
        try? FileManager.default.removeItem(at: tensorBoard)
        log("stage \(request.stage): running TRL: \(command) (in \(folder.path); log in trl/trl.log)")
        let lastLines = try runStreaming(command, in: folder, environment: ["TENSORBOARD_LOGGING_DIR": tensorBoard.path],
                                         logFile: folder.appendingPathComponent("trl.log")) { log("  trl: \($0)") }
        if let status = lastLines.status, status != 0 {
            throw ConstitutionalError("stage \(request.stage): the TRL launcher exited with status \(status); its last lines:\n" + lastLines.lines.joined(separator: "\n"))
        }
        for file in ["config.json", "model.safetensors"] where !FileManager.default.fileExists(atPath: request.output.appendingPathComponent(file).path) {
            throw ConstitutionalError("stage \(request.stage): TRL finished but left no \(file) in \(request.output.path); see \(folder.appendingPathComponent("trl.log").path)")
        }
        var metrics: [String: Double] = [:]
        let eventFiles = (try? FileManager.default.contentsOfDirectory(at: tensorBoard, includingPropertiesForKeys: nil)) ?? []
        for file in eventFiles where file.lastPathComponent.contains("tfevents") {
            for scalar in try TensorBoardEvents.scalars(in: file) where scalar.tag.hasPrefix("train/") {
                metrics[String(scalar.tag.dropFirst(6))] = Double(scalar.value)
                metrics["steps"] = Double(max(Int(metrics["steps"] ?? 0), scalar.step))
            }
        }
        return metrics
    }

    /// Runs `command` with `/bin/bash -c` in `folder`, appending its output (stdout and stderr) to `logFile` and
    /// passing each line (progress bars' carriage returns end lines too) to `line`.
    /// - Returns: the exit status (nil if killed by a signal) and the last 20 lines.
    static func runStreaming(_ command: String, in folder: URL, environment: [String: String], logFile: URL,
                             line: @Sendable (String) -> Void) throws -> (status: Int32?, lines: [String]) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/bash")
        process.arguments = ["-c", command]
        process.currentDirectoryURL = folder
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        let file = try AppendOnlyFile(url: logFile, emptying: true)
        do { try process.run() } catch { throw ConstitutionalError("cannot start /bin/bash for the TRL launcher: \(error.localizedDescription)") }
        var pending = Data(), last: [String] = []
        func emit(_ bytes: Data) {
            let text = String(decoding: bytes, as: UTF8.self).trimmingCharacters(in: .whitespaces)
            guard !text.isEmpty else { return }
            try? file.append(line: text)
            line(text)
            last.append(text)
            if last.count > 20 { last.removeFirst() }
        }
        let handle = pipe.fileHandleForReading
        while true {
            let chunk = handle.availableData
            if chunk.isEmpty { break }
            pending.append(chunk)
            while let end = pending.firstIndex(where: { $0 == 0x0A || $0 == 0x0D }) {
                emit(pending[pending.startIndex..<end])
                pending = Data(pending[(end + 1)...])
            }
        }
        if !pending.isEmpty { emit(pending) }
        process.waitUntilExit()
        return (process.terminationReason == .exit ? process.terminationStatus : nil, last)
    }

    /// Whether an example holds message lists (TRL's conversational format).
    static func isConversational(_ example: Example) -> Bool {
        switch example.body {
        case let .languageModeling(text), let .promptOnly(text): return text.format == .conversational
        case let .promptCompletion(prompt, completion): return prompt.format == .conversational || completion.format == .conversational
        case let .preference(prompt, chosen, _): return prompt.format == .conversational || chosen.format == .conversational
        case let .unpairedPreference(prompt, completion, _): return prompt.format == .conversational || completion.format == .conversational
        }
    }

    static func shellQuoted(_ text: String) -> String { "'" + text.replacingOccurrences(of: "'", with: "'\\''") + "'" }
}
