import Alignment
import Foundation
import LanguageModels
import Pipelines
import Reports
import Runtime
import Tokenizers

/// Runs `charter experiment frontier` (after Rafailov et al. 2023, §6.1, Figure 2 left): per seed, a review corpus and a
/// reference model trained on it; preference pairs sampled from the reference and labelled by the ground-truth
/// reward; DPO at every β and PPO against a reward model learned from those pairs at every KL target (both through
/// the pipeline's registered trainers); then every policy's mean ground-truth reward and KL from the reference on
/// held-out prompts.
public struct FrontierRun {
    public var name: String
    public var configuration: FrontierConfiguration
    public var seeds: [UInt64]
    public var directory: URL
    public var trainers: [StageType: TrainingStage]

    public init(name: String, configuration: FrontierConfiguration, seeds: [UInt64], directory: URL,
                trainers: [StageType: TrainingStage] = Stages.builtInTrainers) {
        self.name = name
        self.configuration = configuration
        self.seeds = seeds
        self.directory = directory
        self.trainers = trainers
    }

    /// Runs every seed. Pipeline stages whose inputs and settings did not change are reused from an earlier run in the
    /// same folder; evaluations are always redone.
    /// - Throws: `ExperimentError` for an unusable configuration; the first failing stage's error.
    public func run(log: @escaping @Sendable (String) -> Void) async throws -> FrontierResults {
        try configuration.validate()
        guard trainers[.ppo] != nil, trainers[.dpo] != nil, trainers[.reward] != nil else {
            throw ExperimentError("the frontier experiment needs reward, dpo and ppo trainers; this build registers \(trainers.keys.map(\.rawValue).sorted())")
        }
        let start = Date()
        var results: [FrontierSeedResult] = []
        for seed in seeds { results.append(try await runSeed(seed, log: log)) }
        return FrontierResults(name: name, configuration: configuration, seeds: results, totalSeconds: Date().timeIntervalSince(start))
    }

    func runSeed(_ seed: UInt64, log: @escaping @Sendable (String) -> Void) async throws -> FrontierSeedResult {
        let folder = directory.appendingPathComponent("seed-\(seed)")
        var clock = PhaseClock()
        let task = FrontierTask(seed: seed, heldOutCount: configuration.heldOutItems)

        log("[seed \(seed)] writing the review corpus (\(configuration.corpusSize) documents), prompts and the initial model")
        try writeWorld(task, seed: seed, to: folder.appendingPathComponent(FrontierRecipe.world))
        clock.lap("world")

        let referenceRecipe = folder.appendingPathComponent("reference.yaml")
        try AtomicFile.write(Data(FrontierRecipe.referenceYAML(configuration, seed: seed).utf8), to: referenceRecipe)
        let referenceManifest = try await Pipeline(recipe: try PipelineRecipe.load(referenceRecipe), runDirectory: folder.appendingPathComponent(FrontierRecipe.reference),
                                                   trainers: trainers).run { log("[seed \(seed)] reference \($0)") }
        clock.lap("reference pipeline")

        log("[seed \(seed)] sampling \(task.trainingPrompts.count * configuration.pairsPerPrompt) pairs from the reference; the ground truth labels them")
        let pairStatistics = try writePairs(seed: seed, task: task, folder: folder)
        log("[seed \(seed)] pairs: \(pairStatistics.labelled) labelled, \(pairStatistics.ties) of \(pairStatistics.sampled) ties skipped; "
            + String(format: "mean reward chosen %.3f, rejected %.3f", pairStatistics.meanChosenReward, pairStatistics.meanRejectedReward))
        clock.lap("pairs")

        let trainingRecipe = folder.appendingPathComponent("training.yaml")
        try AtomicFile.write(Data(FrontierRecipe.trainingYAML(configuration, seed: seed).utf8), to: trainingRecipe)
        let trainingDirectory = folder.appendingPathComponent(FrontierRecipe.training)
        let manifest = try await Pipeline(recipe: try PipelineRecipe.load(trainingRecipe), runDirectory: trainingDirectory, trainers: trainers)
            .run { log("[seed \(seed)] \($0)") }
        clock.lap("training pipeline")
        for stage in manifest.stages + referenceManifest.stages { clock.record(stage.name, seconds: stage.seconds) }

        var curves: [String: [[String: Double]]] = [:]
        curves["sft"] = ExperimentFiles.metrics(folder.appendingPathComponent(FrontierRecipe.referenceModel))
        for stage in manifest.stages { curves[stage.name] = ExperimentFiles.metrics(trainingDirectory.appendingPathComponent("\(stage.name)/model")) }

        var runs: [FrontierRunResult] = []
        for run in try evaluate(seed: seed, task: task, folder: folder, log: log) {
            var run = run
            run.trainingSeconds = clock.laps[run.name == "reference" ? "sft" : run.name]
            run.finalMetrics = curves[run.name == "reference" ? "sft" : run.name]?.last { $0["loss"] != nil } ?? [:]
            runs.append(run)
        }
        clock.lap("evaluation")
        let examples = Self.examples(runs: runs.map(\.name), evaluation: folder.appendingPathComponent("evaluation"))
        return FrontierSeedResult(seed: seed, pairs: pairStatistics, runs: runs, seconds: clock.laps, curves: curves, examples: examples)
    }

    /// Samples pairs from the reference model for every training prompt, labels them by the ground truth and writes
    /// `pairs/preferences.jsonl` (TRL preference data) and `pairs/statistics.json`.
    /// - Throws: `ExperimentError` when every pair is a tie (no preference data).
    func writePairs(seed: UInt64, task: FrontierTask, folder: URL) throws -> FrontierPairStatistics {
        let referenceFolder = folder.appendingPathComponent(FrontierRecipe.referenceModel)
        let (preferences, statistics) = FrontierPairs.make(model: try PretrainedModel.load(directory: referenceFolder),
                                                           tokenizer: try Tokenizer(directory: referenceFolder), prompts: task.trainingPrompts,
                                                           pairsPerPrompt: configuration.pairsPerPrompt,
                                                           maximumNewTokens: configuration.responseLength, seed: seed &+ 0x9A1E)
        guard !preferences.isEmpty else {
            throw ExperimentError("seed \(seed): every one of \(statistics.sampled) sampled pairs was a tie; the reference model produced no preference data")
        }
        let url = folder.appendingPathComponent(FrontierRecipe.pairs)
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try FrontierPairs.write(preferences, to: url)
        try AtomicFile.write(try ResultsFile.encoder.encode(statistics), to: url.deletingLastPathComponent().appendingPathComponent("statistics.json"))
        return statistics
    }

    /// The corpus (prompt–completion JSONL), the training and held-out prompts (prompt-only JSONL), and a randomly
    /// initialised Llama with a BPE tokenizer trained on the corpus (``InitialModel/write(texts:seed:to:)``).
    func writeWorld(_ task: FrontierTask, seed: UInt64, to world: URL) throws {
        try FileManager.default.createDirectory(at: world, withIntermediateDirectories: true)
        let corpus = task.corpus(count: configuration.corpusSize, seed: seed)
        try ExperimentFiles.writeJSONL(corpus.map { ["prompt": $0.prompt, "completion": $0.completion] }, to: world.appendingPathComponent("corpus.jsonl"))
        try ExperimentFiles.writeJSONL(task.trainingPrompts.map { ["prompt": $0] }, to: world.appendingPathComponent("training_prompts.jsonl"))
        try ExperimentFiles.writeJSONL(task.heldOutPrompts.map { ["prompt": $0] }, to: world.appendingPathComponent("held_out_prompts.jsonl"))
        let c = configuration
        let model = InitialModel(vocabularySize: c.vocabularySize, hiddenSize: c.hiddenSize, intermediateSize: c.intermediateSize,
                                 layerCount: c.layerCount, headCount: c.headCount, contextLength: c.contextLength)
        try model.write(texts: corpus.map { $0.prompt + $0.completion }, seed: seed, to: world.appendingPathComponent("initial_model"))
    }
}
