import Checksums
import Alignment
import Constitutional
import Foundation
import LanguageModels
import Runtime
import Settings
import Tensors

/// Runs a ``PipelineRecipe`` in a run folder: each stage in its own subfolder, skipped when a completed run with the
/// same cache key exists, resumed item by item when it was interrupted, and redone (the old folder kept as
/// `NAME.previous`) when its configuration or inputs changed.
public struct Pipeline: Sendable {
    /// Written into manifests; inputs hashed with it so that a new Charter recomputes stages. (0.1.1: label records
    /// and k = 1 samples of transcript prompts keep the space after "Assistant:", so earlier outputs are not reused.)
    public static let charterVersion = CharterVersion.current

    public let recipe: PipelineRecipe
    public let runDirectory: URL
    /// Builds a stage's models (``ModelFactory/make(_:)`` by default; tests substitute their own).
    public let makeModels: @Sendable (ModelSource) throws -> [any LanguageModel]
    /// Trainers for reward, dpo and ppo stages (``Stages/builtInTrainers`` by default); a stage whose type has none
    /// fails with the command it needs.
    public let trainers: [StageType: TrainingStage]

    public init(recipe: PipelineRecipe, runDirectory: URL, trainers: [StageType: TrainingStage] = Stages.builtInTrainers,
                makeModels: @escaping @Sendable (ModelSource) throws -> [any LanguageModel] = { try ModelFactory.make($0) }) {
        self.recipe = recipe
        self.runDirectory = runDirectory
        self.trainers = trainers
        self.makeModels = makeModels
    }

    var manifestURL: URL { runDirectory.appendingPathComponent("manifest.json") }

    /// Runs every stage in order; returns the final manifest.
    /// - Throws: the first stage error (the manifest marks that stage failed or interrupted).
    @discardableResult
    public func run(log: @escaping @Sendable (String) -> Void = { FileHandle.standardError.write(Data(($0 + "\n").utf8)) }) async throws -> PipelineManifest {
        // Stages whose type has no trainer registered fail when reached (the earlier stages' outputs stay cached);
        // say so up front so nobody waits hours to learn it.
        for stage in recipe.stages where [.reward, .dpo, .ppo, .grpo, .rloo, .orpo, .kto, .onlineDPO].contains(stage.type) && trainers[stage.type] == nil && stage.backend != "trl" {
            log("warning: \(Self.unavailableMessage(stage))")
        }
        // Every stage folder is checked before anything is written, so a bad name fails before earlier stages run.
        for stage in recipe.stages { _ = try stageDirectory(stage) }
        try FileManager.default.createDirectory(at: runDirectory, withIntermediateDirectories: true)
        let constitution = try loadConstitution()
        var manifest = PipelineManifest(name: recipe.name, charterVersion: Self.charterVersion, recipeSHA256: recipe.sha256,
                                        constitution: constitution.label, stages: [])
        if FileManager.default.fileExists(atPath: manifestURL.path) {
            do {
                manifest = try JSONDecoder().decode(PipelineManifest.self, from: Data(contentsOf: manifestURL))
            } catch {
                log("warning: \(manifestURL.path) is unreadable (\(error)); every stage is recomputed, earlier outputs moved to NAME.previous")
            }
        }
        manifest.charterVersion = Self.charterVersion
        manifest.recipeSHA256 = recipe.sha256
        manifest.constitution = constitution.label
        var keys: [String: String] = [:]
        for stage in recipe.stages {
            let inputs = try inputHashes(stage, keys: keys, constitution: constitution)
            let key = SHA256.hex(([Self.charterVersion, stage.type.rawValue, stage.canonicalConfiguration]
                                  + inputs.keys.sorted().map { "\($0)=\(inputs[$0]!)" }).joined(separator: "\n"))
            keys[stage.name] = key
            let directory = try stageDirectory(stage)
            let previous = manifest.stages.first { $0.name == stage.name }
            if let previous, previous.key == key, previous.status == "complete",
                previous.outputs.allSatisfy({ FileManager.default.fileExists(atPath: directory.appendingPathComponent($0).path) })
            {
                log("\(stage.name): cached (key \(key.prefix(12)))")
                continue
            }
            // Outputs the manifest does not vouch for (another configuration, or no record at all) are never resumed.
            if previous?.key != key, FileManager.default.fileExists(atPath: directory.path) {
                let old = try SafePath.child(stage.name + Self.previousSuffix, of: runDirectory, key: "stage \(stage.name)")
                try? FileManager.default.removeItem(at: old)
                try FileManager.default.moveItem(at: directory, to: old)
                log("\(stage.name): configuration or inputs changed; the previous outputs are in \(old.lastPathComponent)")
            }
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            var entry = StageManifest(name: stage.name, type: stage.type.rawValue, key: key, configuration: stage.canonicalConfiguration,
                                      inputs: inputs, status: "running", started: Self.timestamp(), finished: nil, seconds: nil,
                                      attempts: (previous?.key == key ? previous?.attempts ?? 0 : 0) + 1, counts: [:], outputs: [], error: nil)
            try save(&manifest, entry)
            log("\(stage.name): running (\(stage.type.rawValue), attempt \(entry.attempts))")
            let start = Date()
            do {
                let (counts, outputs) = try await execute(stage, in: directory, constitution: constitution, log: log)
                entry.status = "complete"
                entry.counts = counts
                entry.outputs = outputs
            } catch {
                entry.status = error is CancellationError ? "interrupted" : "failed"
                entry.error = "\(error)"
                entry.finished = Self.timestamp()
                entry.seconds = Date().timeIntervalSince(start)
                try save(&manifest, entry)
                throw error
            }
            entry.finished = Self.timestamp()
            entry.seconds = Date().timeIntervalSince(start)
            try save(&manifest, entry)
            log("\(stage.name): complete in \(String(format: "%.1f", entry.seconds ?? 0)) s \(entry.counts.sorted { $0.key < $1.key }.map { "\($0.key)=\(Self.format($0.value))" }.joined(separator: " "))")
        }
        return manifest
    }

    static func unavailableMessage(_ stage: StageRecipe) -> String {
        let command: String
        switch stage.type {
        case .reward: command = "charter reward (Alignment's reward-model trainer)"
        case .dpo: command = "charter dpo (Alignment's DPO trainer)"
        case .grpo: command = "charter grpo (Alignment's GRPO trainer)"
        case .onlineDPO: command = "charter online-dpo (Alignment's online DPO trainer)"
        case .rloo: command = "charter rloo (Alignment's RLOO trainer)"
        case .orpo: command = "charter orpo (Alignment's ORPO trainer)"
        case .kto: command = "charter kto (Alignment's KTO trainer)"
        default: command = "charter ppo (Alignment's PPO trainer)"
        }
        return "stage \(stage.name) (\(stage.type.rawValue)) needs \(command), which this pipeline was given no trainer for (Stages.builtInTrainers has one); the earlier stages' outputs are TRL files that trainer will read — remove the stage to run the rest"
    }

    /// What a replaced stage folder is renamed to (`NAME.previous`); no stage may be named so.
    static let previousSuffix = ".previous"

    /// The stage's folder: `<run>/<name>`, which must stay inside the run folder (links followed).
    /// - Throws: `SettingsError` when the name is not a plain name or leads outside the run folder.
    public func stageDirectory(_ stage: StageRecipe) throws -> URL {
        try Self.checkStageName(stage.name, key: "stage \(stage.name)")
        return try SafePath.child(stage.name, of: runDirectory, key: "stage \(stage.name)")
    }

    /// Refuses stage names that are not plain names (see `SafePath`) or that would collide with the run folder's
    /// own entries (`manifest.json`, `NAME.previous`).
    static func checkStageName(_ name: String, key: String) throws {
        try SafePath.component(name, key: key)
        if let problem = reservedNameProblem(name) { throw SettingsError(key: key, message: "\(problem) (got \"\(name)\")") }
    }

    /// Why `name` collides with the run folder's own entries, or nil.
    static func reservedNameProblem(_ name: String) -> String? {
        if name.lowercased() == "manifest.json" { return "is the run's manifest file; choose another name" }
        if name.lowercased().hasSuffix(previousSuffix) { return "must not end in \(previousSuffix) (the name of a replaced stage's folder)" }
        return nil
    }

    func loadConstitution() throws -> Constitution {
        recipe.constitution == "default" ? try Constitution.charterDefault : try Constitution.load(from: resolve(recipe.constitution))
    }

    func resolve(_ path: String) -> URL {
        path.hasPrefix("/") ? URL(fileURLWithPath: path) : recipe.baseDirectory.appendingPathComponent(path)
    }

    /// A path input: an earlier stage's output for `stage:` references (which must stay inside that stage's
    /// folder), else a path relative to the recipe.
    func input(_ value: String) throws -> URL {
        guard let reference = StageReference(value), let stage = recipe.stages.first(where: { $0.name == reference.stage }) else {
            return resolve(value)
        }
        return try SafePath.descendant(reference.file ?? stage.type.primaryOutput, of: try stageDirectory(stage), key: value)
    }

    func inputHashes(_ stage: StageRecipe, keys: [String: String], constitution: Constitution) throws -> [String: String] {
        var hashes: [String: String] = [:]
        for (name, value) in stage.inputs {
            if let reference = StageReference(value) {
                hashes[name] = "stage:\(keys[reference.stage] ?? "?")/\(reference.file ?? "")"
                continue
            }
            let url = resolve(value)
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory) else {
                throw ConstitutionalError("stage \(stage.name): \(name) \(url.path) does not exist")
            }
            hashes[name] = isDirectory.boolValue ? try Self.folderFingerprint(url) : try SHA256.hex(file: url)
        }
        if [.critique, .label].contains(stage.type) || stage.judge != nil { hashes["constitution"] = SHA256.hex(try constitution.yaml()) }
        return hashes
    }

    /// A model folder's fingerprint: per top-level file its name, size and SHA-256 (for files over 64 MiB: of the
    /// first and last MiB, so multi-gigabyte weights are not read in full on every run).
    static func folderFingerprint(_ directory: URL) throws -> String {
        let names = try FileManager.default.contentsOfDirectory(atPath: directory.path).filter { !$0.hasPrefix(".") }.sorted()
        var parts: [String] = []
        for name in names {
            let url = directory.appendingPathComponent(name)
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory), !isDirectory.boolValue else { continue }
            let size = (try FileManager.default.attributesOfItem(atPath: url.path)[.size] as? NSNumber)?.intValue ?? 0
            let digest: String
            if size <= 64 << 20 {
                digest = try SHA256.hex(file: url)
            } else {
                let handle = try FileHandle(forReadingFrom: url)
                defer { try? handle.close() }
                var hasher = SHA256()
                hasher.update(data: try handle.read(upToCount: 1 << 20) ?? Data())
                try handle.seek(toOffset: UInt64(size - (1 << 20)))
                hasher.update(data: try handle.read(upToCount: 1 << 20) ?? Data())
                digest = SHA256.hex(bytes: hasher.finalize())
            }
            parts.append("\(name):\(size):\(digest)")
        }
        return SHA256.hex(parts.joined(separator: "\n"))
    }

    func models(_ stage: StageRecipe) throws -> [any LanguageModel] {
        guard let source = stage.model else { throw ConstitutionalError("stage \(stage.name) has no model") }
        return try makeModels(source.resolving(try input(source.path).path))
    }

    /// The stage's `prompting:`, or without one the style its models suit (said in the log).
    func prompting(_ stage: StageRecipe, _ configured: PromptingStyle, models: [any LanguageModel],
                   log: (String) -> Void) -> PromptingStyle {
        guard stage.automaticPrompting else { return configured }
        let (style, reason) = PromptingStyle.automatic(for: models)
        log("\(stage.name): \(style.rawValue) prompting, because \(reason) (prompting: chat|transcript chooses)")
        return style
    }

    /// Runs one stage; returns its counts and output file names.
    /// - Parameter log: where the stage says what it chose (its prompting style).
    func execute(_ stage: StageRecipe, in directory: URL, constitution: Constitution,
                 log: @Sendable (String) -> Void) async throws -> ([String: Double], [String]) {
        // training.bf16: true turns bf16 matmuls on for this stage only (a process-wide setting: stages run one at a
        // time), and the setting in force before the stage comes back afterwards, whatever happens.
        let before = MatmulPrecision.current
        defer { MatmulPrecision.current = before }
        if stage.bf16 && stage.backend != "trl" {
            MatmulPrecision.current = .bfloat16
            log("stage \(stage.name): \(MatmulPrecision.bfloat16Note)")
        }
        let failures = directory.appendingPathComponent("failures.jsonl")
        func path(_ key: String) throws -> URL {
            guard let value = stage.inputs[key] else { throw ConstitutionalError("stage \(stage.name) needs \(key)") }
            return try input(value)
        }
        switch stage.type {
        case .sample, .samplePairs:
            let output = directory.appendingPathComponent(stage.type.primaryOutput)
            let models = try models(stage)
            var configuration = stage.sample
            configuration.prompting = prompting(stage, configuration.prompting, models: models, log: log)
            let outcome = try await Stages.sample(prompts: try path("prompts"), output: output, failures: failures, configuration: configuration,
                                                  models: models, run: stage.run)
            return (Self.counts(outcome), [output.lastPathComponent, failures.lastPathComponent])
        case .critique:
            let output = directory.appendingPathComponent("revisions.jsonl"), sft = directory.appendingPathComponent("sft.jsonl")
            let models = try models(stage)
            var configuration = stage.critique
            configuration.prompting = prompting(stage, configuration.prompting, models: models, log: log)
            let outcome = try await Stages.critique(prompts: try path("prompts"), output: output, failures: failures, constitution: constitution,
                                                    configuration: configuration, models: models, run: stage.run, sft: sft,
                                                    helpful: try stage.inputs["helpful"].map { _ in try path("helpful") }, helpfulRatio: stage.helpfulRatio)
            return (Self.counts(outcome), [output.lastPathComponent, sft.lastPathComponent, failures.lastPathComponent])
        case .label:
            let output = directory.appendingPathComponent(stage.type.primaryOutput)
            let outcome = try await Stages.label(pairs: try path("pairs"), output: output, failures: failures, constitution: constitution,
                                                 configuration: stage.feedback, models: try models(stage), run: stage.run)
            return (Self.counts(outcome), [output.lastPathComponent, failures.lastPathComponent])
        // (`where` on a case with several patterns would bind to the last one only.)
        case .sft where stage.backend == "trl", .reward where stage.backend == "trl", .dpo where stage.backend == "trl",
             .grpo where stage.backend == "trl", .rloo where stage.backend == "trl":
            guard case let .local(modelPath, _, lora)? = stage.model else {
                throw ConstitutionalError("stage \(stage.name): training needs a local model folder, not endpoints")
            }
            if lora != nil { throw ConstitutionalError("stage \(stage.name): training on top of a LoRA adapter is not supported; merge it first") }
            let output = directory.appendingPathComponent("model")
            let request = TrainingStageRequest(
                stage: stage.name, type: stage.type, model: try input(modelPath), dataset: try stage.inputs["dataset"].map { _ in try path("dataset") },
                prompts: try stage.inputs["prompts"].map { _ in try path("prompts") },
                rewardModel: try stage.inputs["reward_model"].map { _ in try path("reward_model") },
                output: output, trainingYAML: stage.trainingYAML, seed: stage.seed, mixIn: try stage.inputs["mix_in"].map { _ in try path("mix_in") })
            return (try Stages.trl(request, launcher: stage.launcher, log: log), [output.lastPathComponent, "trl"])
        case .sft:
            guard case let .local(modelPath, chatTemplate, lora)? = stage.model else {
                throw ConstitutionalError("stage \(stage.name): training needs a local model folder, not endpoints")
            }
            if lora != nil { throw ConstitutionalError("stage \(stage.name): training on top of a LoRA adapter is not supported; merge it first") }
            let output = directory.appendingPathComponent("model")
            let summary = try Stages.sft(dataset: try path("dataset"), model: try input(modelPath), output: output,
                                         configuration: stage.training, chatTemplate: chatTemplate)
            var counts = summary.lastMetrics
            counts["steps"] = Double(summary.steps)
            return (counts, [output.lastPathComponent])
        case .reward, .dpo, .ppo, .grpo, .rloo, .orpo, .kto, .onlineDPO:
            guard let trainer = trainers[stage.type] else { throw ConstitutionalError(Self.unavailableMessage(stage)) }
            guard case let .local(modelPath, _, _)? = stage.model else {
                throw ConstitutionalError("stage \(stage.name): training needs a local model folder, not endpoints")
            }
            let output = directory.appendingPathComponent("model")
            var request = TrainingStageRequest(
                stage: stage.name, type: stage.type, model: try input(modelPath), dataset: try stage.inputs["dataset"].map { _ in try path("dataset") },
                prompts: try stage.inputs["prompts"].map { _ in try path("prompts") },
                rewardModel: try stage.inputs["reward_model"].map { _ in try path("reward_model") }, output: output,
                trainingYAML: stage.trainingYAML, seed: stage.seed, mixIn: try stage.inputs["mix_in"].map { _ in try path("mix_in") },
                judge: stage.judge.map { _ in constitution },
                feedbackModel: try stage.inputs["feedback_model"].map { _ in try path("feedback_model") })
            request.headsFromLabels = stage.headsFromLabels
            request.heads = try stage.heads.map { ($0, try path("heads.\($0)")) }
            return (try await trainer(request), [output.lastPathComponent])
        }
    }

    static func counts(_ outcome: Stages.Outcome) -> [String: Double] {
        outcome.counts.merging(["completed": Double(outcome.report.completed), "already_done": Double(outcome.report.alreadyDone),
                                "retries": Double(outcome.report.retries)]) { $1 }
    }

    func save(_ manifest: inout PipelineManifest, _ entry: StageManifest) throws {
        if let index = manifest.stages.firstIndex(where: { $0.name == entry.name }) {
            manifest.stages[index] = entry
        } else {
            manifest.stages.append(entry)
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        try AtomicFile.write(try encoder.encode(manifest), to: manifestURL)
    }

    static func timestamp() -> String { ISO8601DateFormatter().string(from: Date()) }

    static func format(_ value: Double) -> String {
        value == value.rounded() && abs(value) < 1e12 ? String(Int(value)) : String(format: "%.4g", value)
    }
}
