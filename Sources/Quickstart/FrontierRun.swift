import Alignment
import Constitutional
import Foundation
import LanguageModels
import SafeTensors
import Tensors
import Tokenizers
import ToyWorld

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
                trainers: [StageType: TrainingStage] = PipelineTrainers.available) {
        self.name = name
        self.configuration = configuration
        self.seeds = seeds
        self.directory = directory
        self.trainers = trainers
    }

    /// Runs every seed. Pipeline stages whose inputs and settings did not change are reused from an earlier run in the
    /// same folder; evaluations are always redone.
    /// - Throws: `QuickstartError` for an unusable configuration; the first failing stage's error.
    public func run(log: @escaping @Sendable (String) -> Void) async throws -> FrontierResults {
        try configuration.validate()
        guard trainers[.ppo] != nil, trainers[.dpo] != nil, trainers[.reward] != nil else {
            throw QuickstartError("the frontier experiment needs reward, dpo and ppo trainers; this build registers \(trainers.keys.map(\.rawValue).sorted())")
        }
        let start = Date()
        var results: [FrontierSeedResult] = []
        for seed in seeds { results.append(try await runSeed(seed, log: log)) }
        return FrontierResults(name: name, configuration: configuration, seeds: results, totalSeconds: Date().timeIntervalSince(start))
    }

    func runSeed(_ seed: UInt64, log: @escaping @Sendable (String) -> Void) async throws -> FrontierSeedResult {
        let folder = directory.appendingPathComponent("seed-\(seed)")
        var seconds: [String: Double] = [:]
        var clock = Date()
        func lap(_ key: String) { seconds[key] = Date().timeIntervalSince(clock); clock = Date() }
        let task = FrontierTask(seed: seed, heldOutCount: configuration.heldOutItems)

        log("[seed \(seed)] writing the review corpus (\(configuration.corpusSize) documents), prompts and the initial model")
        try writeWorld(task, seed: seed, to: folder.appendingPathComponent(FrontierRecipe.world))
        lap("world")

        let referenceRecipe = folder.appendingPathComponent("reference.yaml")
        try FrontierRecipe.referenceYAML(configuration, seed: seed).write(to: referenceRecipe, atomically: true, encoding: .utf8)
        let referenceManifest = try await Pipeline(recipe: try PipelineRecipe.load(referenceRecipe), runDirectory: folder.appendingPathComponent("reference"),
                                                   trainers: trainers).run { log("[seed \(seed)] reference \($0)") }
        lap("reference pipeline")

        let referenceFolder = folder.appendingPathComponent(FrontierRecipe.referenceModel)
        let reference = try PretrainedModel.load(directory: referenceFolder)
        let tokenizer = try Tokenizer(directory: referenceFolder)
        let prompts = task.trainingPrompts
        log("[seed \(seed)] sampling \(prompts.count * configuration.pairsPerPrompt) pairs from the reference and labelling them by the ground truth")
        let (preferences, pairStatistics) = FrontierPairs.make(model: reference, tokenizer: tokenizer, prompts: prompts,
                                                               pairsPerPrompt: configuration.pairsPerPrompt,
                                                               maximumNewTokens: configuration.responseLength, seed: seed &+ 0x9A1E)
        guard !preferences.isEmpty else {
            throw QuickstartError("seed \(seed): every one of \(pairStatistics.sampled) sampled pairs was a tie; the reference model produced no preference data")
        }
        let pairsURL = folder.appendingPathComponent(FrontierRecipe.pairs)
        try FileManager.default.createDirectory(at: pairsURL.deletingLastPathComponent(), withIntermediateDirectories: true)
        try FrontierPairs.write(preferences, to: pairsURL)
        try Self.encoder.encode(pairStatistics).write(to: pairsURL.deletingLastPathComponent().appendingPathComponent("statistics.json"), options: .atomic)
        log("[seed \(seed)] pairs: \(pairStatistics.labelled) labelled, \(pairStatistics.ties) ties skipped; mean reward chosen "
            + String(format: "%.3f, rejected %.3f", pairStatistics.meanChosenReward, pairStatistics.meanRejectedReward))
        lap("pairs")

        let trainingRecipe = folder.appendingPathComponent("training.yaml")
        try FrontierRecipe.trainingYAML(configuration, seed: seed).write(to: trainingRecipe, atomically: true, encoding: .utf8)
        let trainingDirectory = folder.appendingPathComponent("training")
        let manifest = try await Pipeline(recipe: try PipelineRecipe.load(trainingRecipe), runDirectory: trainingDirectory, trainers: trainers)
            .run { log("[seed \(seed)] \($0)") }
        lap("training pipeline")
        for stage in manifest.stages + referenceManifest.stages { seconds[stage.name] = stage.seconds }

        var curves: [String: [[String: Double]]] = [:]
        curves["sft"] = Self.metrics(folder.appendingPathComponent("reference/sft/model"))
        for stage in manifest.stages { curves[stage.name] = Self.metrics(trainingDirectory.appendingPathComponent("\(stage.name)/model")) }

        let evaluation = folder.appendingPathComponent("evaluation")
        try? FileManager.default.removeItem(at: evaluation)
        try FileManager.default.createDirectory(at: evaluation, withIntermediateDirectories: true)
        var candidates: [(name: String, method: String, beta: Double?, target: Double?)] = [("reference", "reference", nil, nil)]
        candidates += configuration.betas.map { (FrontierRecipe.dpoStage(beta: $0), "DPO", $0, nil) }
        candidates += configuration.klTargets.map { (FrontierRecipe.ppoStage(klTarget: $0), "PPO", nil, $0) }
        // The same sampling seed for every policy: differences between rows are the policies', not the sampler's.
        func measure(_ policy: any CausalLanguageModel, file: String) throws -> FrontierMeasurement {
            let (measurement, samples, ratios) = FrontierEvaluation.measure(policy: policy, reference: reference, tokenizer: tokenizer,
                                                                            prompts: task.heldOutPrompts, count: configuration.evaluationSamples,
                                                                            maximumNewTokens: configuration.responseLength, seed: seed &+ 0xE7A1)
            try Self.writeSamples(samples, logRatios: ratios, prompts: task.heldOutPrompts, to: evaluation.appendingPathComponent("\(file).jsonl"))
            return measurement
        }
        var runs: [FrontierRunResult] = []
        for candidate in candidates {
            var trajectory: [FrontierCheckpoint] = []
            let final: FrontierMeasurement
            if candidate.name == "reference" {
                final = try measure(reference, file: "reference")
            } else {
                let output = trainingDirectory.appendingPathComponent("\(candidate.name)/model")
                let total = candidate.method == "DPO" ? configuration.dpoSteps : configuration.ppoIterations
                for (step, checkpoint) in Self.checkpoints(in: output) where step < total {
                    let policy = candidate.method == "DPO" ? try PretrainedModel.load(directory: checkpoint)
                                                           : try Self.ppoPolicy(checkpoint, base: referenceFolder)
                    trajectory.append(FrontierCheckpoint(step: step, measurement: try measure(policy, file: "\(candidate.name)-step-\(step)")))
                }
                final = try measure(try PretrainedModel.load(directory: output), file: candidate.name)
                trajectory.append(FrontierCheckpoint(step: total, measurement: final))
            }
            log("[seed \(seed)] \(candidate.name): reward " + String(format: "%.3f ± %.3f, KL %.2f ± %.2f nats", final.rewardMean,
                                                                      final.rewardStandardError, final.kl, final.klStandardError)
                + (trajectory.count > 1 ? " (and \(trajectory.count - 1) earlier checkpoints)" : ""))
            runs.append(FrontierRunResult(name: candidate.name, method: candidate.method, beta: candidate.beta, klTarget: candidate.target,
                                          measurement: final, trajectory: trajectory, trainingSeconds: seconds[candidate.name == "reference" ? "sft" : candidate.name],
                                          finalMetrics: curves[candidate.name]?.last(where: { $0["loss"] != nil }) ?? [:]))
        }
        lap("evaluation")
        return FrontierSeedResult(seed: seed, pairs: pairStatistics, runs: runs, seconds: seconds, curves: curves)
    }

    /// The corpus (prompt–completion JSONL), the training and held-out prompts (prompt-only JSONL), and a randomly
    /// initialised Llama with a BPE tokenizer trained on the corpus — written by the quickstart's ``WorldFiles``.
    func writeWorld(_ task: FrontierTask, seed: UInt64, to world: URL) throws {
        try FileManager.default.createDirectory(at: world, withIntermediateDirectories: true)
        let corpus = task.corpus(count: configuration.corpusSize, seed: seed)
        try WorldFiles.writeJSONL(corpus.map { ["prompt": $0.prompt, "completion": $0.completion] }, to: world.appendingPathComponent("corpus.jsonl"))
        try WorldFiles.writeJSONL(task.trainingPrompts.map { ["prompt": $0] }, to: world.appendingPathComponent("training_prompts.jsonl"))
        try WorldFiles.writeJSONL(task.heldOutPrompts.map { ["prompt": $0] }, to: world.appendingPathComponent("held_out_prompts.jsonl"))
        var sizes = QuickstartConfiguration()
        sizes.vocabularySize = configuration.vocabularySize
        sizes.hiddenSize = configuration.hiddenSize
        sizes.layerCount = configuration.layerCount
        sizes.headCount = configuration.headCount
        sizes.intermediateSize = configuration.intermediateSize
        sizes.contextLength = configuration.contextLength
        // WorldFiles draws the initial weights from its world's seed; the toy world itself is not used.
        let files = WorldFiles(world: ToyWorld(seed: seed), configuration: sizes, directory: world)
        try files.writeInitialModel(texts: corpus.map { $0.prompt + $0.completion })
    }

    /// A run's `checkpoint-N` folders by step (N), in step order.
    static func checkpoints(in output: URL) -> [(step: Int, url: URL)] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: output.path)) ?? []
        return names.compactMap { name -> (Int, URL)? in
            guard name.hasPrefix("checkpoint-"), let step = Int(name.dropFirst("checkpoint-".count)) else { return nil }
            return (step, output.appendingPathComponent(name))
        }.sorted { $0.0 < $1.0 }
    }

    /// The policy of a PPO checkpoint: the model it started from (`base`) with the checkpoint's trainable policy
    /// tensors (`trainable.safetensors`, named "policy.<parameter>") put in.
    /// - Throws: `QuickstartError` naming the file and tensor when the checkpoint does not fit the model.
    static func ppoPolicy(_ checkpoint: URL, base: URL) throws -> any CausalLanguageModel {
        let model = try PretrainedModel.load(directory: base)
        let url = checkpoint.appendingPathComponent("trainable.safetensors")
        let tensors = try SafeTensorsFile(url: url)
        for (name, tensor) in model.namedParameters() {
            guard tensors.contains("policy." + name) else { throw QuickstartError("\(url.path): no tensor policy.\(name); not a checkpoint of this policy") }
            let values = try tensors.floats("policy." + name)
            guard values.count == tensor.count else {
                throw QuickstartError("\(url.path): policy.\(name) has \(values.count) values, the model's tensor \(tensor.shape)")
            }
            tensor.assign(Tensor(shape: tensor.shape, scalars: values))
        }
        return model
    }

    /// The evaluation's samples, one JSON line each (prompt, continuation, reward, log π/π_ref), for auditing.
    static func writeSamples(_ samples: [FrontierSample], logRatios: [Double], prompts: [String], to url: URL) throws {
        var data = Data()
        for (sample, ratio) in zip(samples, logRatios) {
            let record: [String: Any] = ["prompt": prompts[sample.promptIndex], "completion": sample.text,
                                         "reward": FrontierTask.reward(sample.text), "log_ratio": ratio, "tokens": sample.responseIds.count]
            data.append(try JSONSerialization.data(withJSONObject: record, options: [.sortedKeys, .withoutEscapingSlashes]))
            data.append(0x0A)
        }
        try data.write(to: url, options: .atomic)
    }

    /// A model folder's metrics.jsonl as numbers by key (eval lines included; non-numeric values dropped).
    static func metrics(_ folder: URL) -> [[String: Double]] {
        guard let text = try? String(contentsOf: folder.appendingPathComponent("metrics.jsonl"), encoding: .utf8) else { return [] }
        return text.split(separator: "\n").compactMap { line in
            (try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])?.compactMapValues { ($0 as? NSNumber)?.doubleValue }
        }
    }

    static var encoder: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return encoder
    }
}
