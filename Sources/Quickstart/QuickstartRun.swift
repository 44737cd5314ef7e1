import Constitutional
import Experiments
import Foundation
import Pipelines
import Runtime
import ToyWorld

/// Results of one seed.
public struct SeedResult: Codable, Sendable {
    public var seed: UInt64
    /// helpful-only, SL-CAI, RL-CAI (PPO), SL-CAI + DPO (and the ablation's SL-CAI model when run).
    public var models: [ModelResult]
    public var labels: LabelQuality
    /// SL-CAI + DPO with every constitutional stage under the irrelevant constitution (its SL-CAI model is the last of
    /// `models`), and those labels' quality.
    public var ablation: ModelResult?
    public var ablationLabels: LabelQuality?
    /// Seconds per stage (pipeline stages, world, evaluation).
    public var seconds: [String: Double]
    /// Training curves: per training stage, the logged metrics (`loss`, `rewards/margins`, …) by step.
    public var curves: [String: [[String: Double]]]
}

/// Everything `charter quickstart` measured (written as results.json).
public struct QuickstartResults: Codable, Sendable {
    public var name: String
    public var configuration: QuickstartConfiguration
    public var seeds: [SeedResult]
    public var totalSeconds: Double
}

/// Runs the quickstart: per seed, the toy world, the pipeline recipe (through ``Pipeline`` with the registered
/// trainers), the held-out evaluation of every model, label quality and the ablation.
public struct QuickstartRun {
    public var name: String
    public var configuration: QuickstartConfiguration
    public var seeds: [UInt64]
    public var directory: URL
    public var showProgress: Bool
    public var trainers: [StageType: TrainingStage]

    public init(name: String, configuration: QuickstartConfiguration, seeds: [UInt64], directory: URL, showProgress: Bool = true,
                trainers: [StageType: TrainingStage] = Stages.builtInTrainers) {
        self.name = name
        self.configuration = configuration
        self.seeds = seeds
        self.directory = directory
        self.showProgress = showProgress
        self.trainers = trainers
    }

    public func run(log: @escaping @Sendable (String) -> Void) async throws -> QuickstartResults {
        let start = Date()
        var results: [SeedResult] = []
        for seed in seeds {
            results.append(try await runSeed(seed, log: log))
        }
        return QuickstartResults(name: name, configuration: configuration, seeds: results, totalSeconds: Date().timeIntervalSince(start))
    }

    func runSeed(_ seed: UInt64, log: @escaping @Sendable (String) -> Void) async throws -> SeedResult {
        let folder = directory.appendingPathComponent("seed-\(seed)")
        var seconds: [String: Double] = [:]
        var clock = Date()
        func lap(_ key: String) { seconds[key] = Date().timeIntervalSince(clock); clock = Date() }

        log("[seed \(seed)] generating the toy world, its corpus and tokenizer")
        let world = ToyWorld(seed: seed)
        let files = WorldFiles(world: world, configuration: configuration, directory: folder.appendingPathComponent("world"))
        let constitution = try Constitution.charterDefault
        let corpus = try files.write(constitution: constitution)
        log("[seed \(seed)] world: \(world.intents.count) intents (held out: \(world.harmfulIntents.filter { $0.split == .heldOut }.map(\.id).joined(separator: ", "))), corpus of \(corpus.count) documents")
        lap("world")

        let recipeURL = folder.appendingPathComponent("recipe.yaml")
        try AtomicFile.write(Data(QuickstartRecipe.yaml(configuration, seed: seed).utf8), to: recipeURL)
        let manifest = try await Pipeline(recipe: try PipelineRecipe.load(recipeURL), runDirectory: folder, trainers: trainers)
            .run { log("[seed \(seed)] \($0)") }
        for stage in manifest.stages { seconds[stage.name] = stage.seconds }
        clock = Date()

        let evaluation = world.evaluationRequests(perIntent: configuration.evaluationPerIntent) + world.retentionRequests(perIntent: configuration.evaluationPerIntent)
        let evaluationDirectory = folder.appendingPathComponent("evaluation")
        // Evaluations are redone on every run (the pipeline's stages are what is cached).
        try? FileManager.default.removeItem(at: evaluationDirectory)
        var models: [ModelResult] = []
        let candidates = [("helpful-only", "helpful_only"), ("SL-CAI", "sl_cai"), ("RL-CAI (PPO)", "ppo"), ("SL-CAI + DPO", "dpo")]
        for (label, stage) in candidates {
            log("[seed \(seed)] evaluating \(label) on \(evaluation.count) held-out requests")
            models.append(try await Evaluation.evaluate(model: folder.appendingPathComponent("\(stage)/model"), name: label, requests: evaluation,
                                                        prompts: files.evaluationURL, directory: evaluationDirectory,
                                                        maximumTokens: configuration.maximumResponseTokens, showProgress: showProgress))
        }
        let redTeam = world.redTeamRequests(perIntent: configuration.redTeamPerIntent)
        let labels = try Evaluation.labelQuality(labels: folder.appendingPathComponent("label/preferences.jsonl"), requests: redTeam)
        lap("evaluation")

        var ablation: ModelResult?, ablationSLCAI: ModelResult?, ablationLabels: LabelQuality?
        if configuration.ablation {
            let ablationFolder = folder.appendingPathComponent("ablation")
            try FileManager.default.createDirectory(at: ablationFolder, withIntermediateDirectories: true)
            try AtomicFile.write(Data(IrrelevantConstitution.yaml.utf8), to: ablationFolder.appendingPathComponent("constitution.yaml"))
            let yaml = QuickstartRecipe.ablationYAML(configuration, seed: seed, constitution: "constitution.yaml", world: files.directory.path,
                                                     helpfulOnly: folder.appendingPathComponent("helpful_only/model").path)
            let url = ablationFolder.appendingPathComponent("recipe.yaml")
            try AtomicFile.write(Data(yaml.utf8), to: url)
            log("[seed \(seed)] ablation: critique, SL-CAI, pairs, labels and DPO under an irrelevant (style-only) constitution")
            _ = try await Pipeline(recipe: try PipelineRecipe.load(url), runDirectory: ablationFolder, trainers: trainers)
                .run { log("[seed \(seed)] ablation \($0)") }
            ablationSLCAI = try await Evaluation.evaluate(model: ablationFolder.appendingPathComponent("sl_cai/model"), name: "SL-CAI, irrelevant constitution",
                                                         requests: evaluation, prompts: files.evaluationURL, directory: evaluationDirectory,
                                                         maximumTokens: configuration.maximumResponseTokens, showProgress: showProgress)
            ablation = try await Evaluation.evaluate(model: ablationFolder.appendingPathComponent("dpo/model"), name: "DPO, irrelevant constitution",
                                                     requests: evaluation, prompts: files.evaluationURL, directory: evaluationDirectory,
                                                     maximumTokens: configuration.maximumResponseTokens, showProgress: showProgress)
            ablationLabels = try Evaluation.labelQuality(labels: ablationFolder.appendingPathComponent("label/preferences.jsonl"), requests: redTeam)
            lap("ablation")
        }

        var curves: [String: [[String: Double]]] = [:]
        for stage in ["helpful_only", "sl_cai", "reward", "dpo", "ppo"] {
            let curve = ExperimentFiles.metrics(folder.appendingPathComponent("\(stage)/model"))
            if !curve.isEmpty { curves[stage] = curve }
        }
        if let ablationSLCAI { models.append(ablationSLCAI) }
        return SeedResult(seed: seed, models: models, labels: labels, ablation: ablation, ablationLabels: ablationLabels, seconds: seconds, curves: curves)
    }
}
