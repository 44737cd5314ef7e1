import Constitutional
import Experiments
import Foundation
import LanguageModels
import Pipelines
import Reports
import Runtime
import Tensors
import ToyWorld

/// The models a seed judges, by name.
public enum ModelName {
    public static let helpfulOnly = "helpful-only"
    public static let slCAI = "SL-CAI"
    public static let rlCAI = "RL-CAI (PPO)"
    public static let dpo = "SL-CAI + DPO"
    public static let onlineDPO = "RL-CAI (online DPO)"
    public static let partial = "SL-CAI, partial constitution"
    public static let irrelevant = "SL-CAI, irrelevant constitution"
    public static let irrelevantDPO = "SL-CAI + DPO, irrelevant constitution"
    /// The RL-CAI policy after `step` PPO iterations.
    public static func rlCAI(step: Int) -> String { "RL-CAI step \(step)" }
}

/// Results of one seed.
public struct SeedResult: Codable, Sendable {
    public var seed: UInt64
    /// Every judged model: helpful-only, SL-CAI, RL-CAI (PPO), SL-CAI + DPO and the constitution variants.
    public var models: [ModelResult]
    /// RL-CAI's kept PPO checkpoints (named "RL-CAI step N"), in step order; the final policy is in `models`.
    public var checkpoints: [ModelResult]
    /// The seed's held-out harmful and borderline intents.
    public var heldOutIntents: [String] = []
    /// The two categories the partial constitution covered.
    public var partialCategories: [String]
    /// AI labels of the main pairs (direct, the ones trained on), with chain-of-thought, and under the irrelevant constitution.
    public var labels: LabelQuality
    public var chainOfThoughtLabels: LabelQuality?
    public var irrelevantLabels: LabelQuality?
    /// The critique stages' critiques against the world's rule, by constitution ("full", "partial", "irrelevant");
    /// nil in results written before they were scored.
    public var critiques: [String: CritiqueQuality]? = nil
    /// Seconds per stage (pipeline stages, world, evaluation, variants).
    public var seconds: [String: Double]
    /// Training curves: per training stage, the logged metrics (`loss`, `rewards/margins`, …) by step.
    public var curves: [String: [[String: Double]]]
    /// A held-out harmful, borderline and benign request with every model's response (``QuickstartExamples``); nil in
    /// results written before examples were kept.
    public var examples: [GenerationExample]? = nil

    public func model(_ name: String) -> ModelResult? { (models + checkpoints).first { $0.name == name } }
}

/// Everything `charter quickstart` measured (written as results.json).
public struct QuickstartResults: Codable, Sendable {
    public var name: String
    public var configuration: QuickstartConfiguration
    public var seeds: [SeedResult]
    /// Helpfulness and harmlessness Elo of every model, pooled over seeds.
    public var elo: EloResults
    /// The paper's claims, each with its evidence and whether the intervals support it.
    public var claims: [Claim]
    /// Which kernel path and CPU produced the numbers.
    public var machine: MachineDescription
    public var totalSeconds: Double
    /// The runs this one joins (`charter quickstart --combine`); nil for a run that trained its own seeds.
    public var combinedFrom: [CombinedRun]? = nil
    /// The recorded seconds of every seed's stages, summed: the cost of the whole run even when this invocation
    /// reused cached stages (then ``totalSeconds`` is only this invocation's time).
    public var stageSeconds: Double { seeds.reduce(0) { $0 + $1.seconds.values.reduce(0, +) } }
    /// "total time" for people: both times when cached stages made them differ.
    public var timeDescription: String {
        let total = Int(totalSeconds.rounded()), stages = Int(stageSeconds.rounded())
        return stages > total + 1 ? "stage time \(stages) s summed over seeds; this invocation \(total) s (cached stages reused)" : "total time \(total) s"
    }
}

/// Runs the quickstart: per seed, the toy world, the pipeline recipe (through ``Pipeline`` with the registered
/// trainers), the constitution variants, and the held-out evaluation of every model; then Elo and the claims.
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
        var requests: [UInt64: [Request]] = [:]
        for seed in seeds {
            let (result, evaluated) = try await runSeed(seed, log: log)
            results.append(result)
            requests[seed] = evaluated
        }
        let elo = EloResults.fit(results, requests: requests, samples: configuration.bootstrapSamples, seed: seeds.first ?? 0)
        return QuickstartResults(name: name, configuration: configuration, seeds: results, elo: elo, claims: Claims.evaluate(results, elo: elo),
                                 machine: .current, totalSeconds: Date().timeIntervalSince(start))
    }

    /// A path inside the seed's folder as a variant's recipe (one folder down) names it: relative, so that the
    /// variants' cache keys survive a copied or moved run folder (a key covers the paths its configuration names);
    /// a path outside the seed's folder stays absolute.
    static func variantPath(_ url: URL, seedFolder: URL) -> String {
        let base = seedFolder.standardizedFileURL.path + "/", path = url.standardizedFileURL.path
        return path.hasPrefix(base) ? "../" + path.dropFirst(base.count) : path
    }

    func runSeed(_ seed: UInt64, log: @escaping @Sendable (String) -> Void) async throws -> (SeedResult, [Request]) {
        let folder = directory.appendingPathComponent("seed-\(seed)")
        var clock = PhaseClock()

        log("[seed \(seed)] generating the toy world, its corpus and tokenizer")
        let world = configuration.world(seed: seed)
        let files = WorldFiles(world: world, configuration: configuration, directory: folder.appendingPathComponent("world"))
        let corpus = try files.write()
        let heldOut = (world.harmfulIntents + world.borderlineIntents).filter { $0.split == .heldOut }.map(\.id)
        let phrasings = world.borderlineHoldout == .phrasing ? "; and one phrasing of every borderline look-alike" : ""
        log("[seed \(seed)] world: \(world.intents.count) intents (held out: \(heldOut.joined(separator: ", "))\(phrasings)), corpus of \(corpus.count) documents")
        clock.lap("world")

        let recipeURL = folder.appendingPathComponent("recipe.yaml")
        try AtomicFile.write(Data(QuickstartRecipe.yaml(configuration, seed: seed).utf8), to: recipeURL)
        let manifest = try await Pipeline(recipe: try PipelineRecipe.load(recipeURL), runDirectory: folder, trainers: trainers)
            .run { log("[seed \(seed)] \($0)") }
        for stage in manifest.stages { clock.record(stage.name, seconds: stage.seconds) }

        let helpfulOnly = folder.appendingPathComponent("helpful_only/model").path
        var chainOfThought: LabelQuality?, irrelevantLabels: LabelQuality?
        let rlPrompts = world.redTeamRequests(perIntent: configuration.redTeamPerIntent) + world.borderlineRequests(perIntent: configuration.borderlinePromptsPerIntent)
        func fromVariant(_ url: URL) -> String { Self.variantPath(url, seedFolder: folder) }
        func variant(_ name: String, recipe: String) async throws -> URL {
            let variantFolder = folder.appendingPathComponent(name)
            try FileManager.default.createDirectory(at: variantFolder, withIntermediateDirectories: true)
            let url = variantFolder.appendingPathComponent("recipe.yaml")
            try AtomicFile.write(Data(recipe.utf8), to: url)
            _ = try await Pipeline(recipe: try PipelineRecipe.load(url), runDirectory: variantFolder, trainers: trainers).run { log("[seed \(seed)] \(name) \($0)") }
            clock.lap(name)
            return variantFolder
        }
        var variantModels: [(String, URL)] = []
        if configuration.partialConstitution {
            log("[seed \(seed)] partial constitution (\(world.partialCategories.map(\.rawValue).sorted().joined(separator: ", "))): critique and SL-CAI")
            let partial = try await variant("partial", recipe: QuickstartRecipe.variantYAML(
                configuration, seed: seed, name: "partial", constitution: fromVariant(files.constitutionURL(.partial)),
                world: fromVariant(files.directory), helpfulOnly: fromVariant(URL(fileURLWithPath: helpfulOnly)), rlaif: false))
            variantModels.append((ModelName.partial, partial.appendingPathComponent("sl_cai/model")))
        }
        if configuration.ablation {
            log("[seed \(seed)] irrelevant (style-only) constitution: critique, SL-CAI, pairs, labels and DPO")
            let irrelevant = try await variant("irrelevant", recipe: QuickstartRecipe.variantYAML(
                configuration, seed: seed, name: "irrelevant", constitution: fromVariant(files.constitutionURL(.irrelevant)),
                world: fromVariant(files.directory), helpfulOnly: fromVariant(URL(fileURLWithPath: helpfulOnly)), rlaif: true))
            variantModels.append((ModelName.irrelevant, irrelevant.appendingPathComponent("sl_cai/model")))
            variantModels.append((ModelName.irrelevantDPO, irrelevant.appendingPathComponent("dpo/model")))
            irrelevantLabels = try Evaluation.labelQuality(labels: irrelevant.appendingPathComponent("label/preferences.jsonl"), requests: rlPrompts)
        }
        if configuration.chainOfThoughtLabels {
            log("[seed \(seed)] chain-of-thought labels of the main pairs")
            let cot = try await variant("labels-cot", recipe: QuickstartRecipe.chainOfThoughtYAML(
                configuration, seed: seed, constitution: fromVariant(files.constitutionURL(.full)),
                pairs: fromVariant(folder.appendingPathComponent("pairs/pairs.jsonl")), feedbackModel: fromVariant(URL(fileURLWithPath: helpfulOnly))))
            chainOfThought = try Evaluation.labelQuality(labels: cot.appendingPathComponent("label/preferences.jsonl"), requests: rlPrompts)
        }

        let requests = files.evaluationRequests
        let evaluationDirectory = folder.appendingPathComponent("evaluation")
        // Evaluations are redone on every run (the pipeline's stages are what is cached).
        try? FileManager.default.removeItem(at: evaluationDirectory)
        func evaluate(_ name: String, _ models: [any LanguageModel], file: String) async throws -> ModelResult {
            log("[seed \(seed)] evaluating \(name) on \(requests.count) requests")
            return try await Evaluation.evaluate(models: models, name: name, file: file, requests: requests, prompts: files.evaluationURL,
                                                 directory: evaluationDirectory, maximumTokens: configuration.maximumResponseTokens, showProgress: showProgress)
        }
        func local(_ url: URL) throws -> [any LanguageModel] { try ModelFactory.make(.local(path: url.path, chatTemplate: nil, lora: nil)) }
        var models: [ModelResult] = []
        let main = [(ModelName.helpfulOnly, "helpful_only"), (ModelName.slCAI, "sl_cai"), (ModelName.rlCAI, "ppo"), (ModelName.dpo, "dpo")]
            + (configuration.onlineDPO != nil ? [(ModelName.onlineDPO, "online_dpo")] : [])
        for (label, stage) in main {
            models.append(try await evaluate(label, try local(folder.appendingPathComponent("\(stage)/model")), file: stage))
        }
        for (label, url) in variantModels {
            models.append(try await evaluate(label, try local(url), file: url.deletingLastPathComponent().deletingLastPathComponent().lastPathComponent + "-" + url.deletingLastPathComponent().lastPathComponent))
        }
        var checkpoints: [ModelResult] = []
        let slCAI = folder.appendingPathComponent("sl_cai/model")
        for (step, checkpoint) in ExperimentFiles.checkpoints(in: folder.appendingPathComponent("ppo/model")) where step < configuration.ppoEpisodes / 16 {
            let (model, tokenizer) = try PretrainedModel.loadWithTokenizer(directory: slCAI)
            try ExperimentFiles.assignPPOPolicy(from: checkpoint, to: model)
            let policy = LocalLanguageModel(name: "ppo-step-\(step)", model: model, tokenizer: tokenizer,
                                            endOfSequenceTokens: GenerationDefaults.endOfSequenceTokens(directory: slCAI, tokenizer: tokenizer), formatChat: nil)
            checkpoints.append(try await evaluate(ModelName.rlCAI(step: step), [policy], file: "ppo-step-\(step)"))
        }
        let labels = try Evaluation.labelQuality(labels: folder.appendingPathComponent("label/preferences.jsonl"), requests: rlPrompts)
        let critiques = try Evaluation.critiqueQualities(seedFolder: folder, world: world, configuration: configuration)
        clock.lap("evaluation")

        var curves: [String: [[String: Double]]] = [:]
        for stage in ["helpful_only", "sl_cai", "reward", "dpo", "ppo", "online_dpo"] {
            let curve = ExperimentFiles.metrics(folder.appendingPathComponent("\(stage)/model"))
            if !curve.isEmpty { curves[stage] = curve }
        }
        let result = SeedResult(seed: seed, models: models, checkpoints: checkpoints, heldOutIntents: heldOut, partialCategories: world.partialCategories.map(\.rawValue).sorted(),
                                labels: labels, chainOfThoughtLabels: chainOfThought, irrelevantLabels: irrelevantLabels, critiques: critiques, seconds: clock.laps, curves: curves,
                                examples: try QuickstartExamples.collect(requests: requests, evaluation: evaluationDirectory))
        return (result, requests)
    }
}
