import Alignment
import Audit
import Constitutional
import Datasets
import Experiments
import Foundation
import JSON
import LanguageModels
import Pipelines
import Reports
import Runtime
import Tensors
import ToyWorld

/// Settings of the data-quality experiment (issue 13's proof): the toy world's model sizes, the preference set, the
/// planted noise, the audit's ensemble and the trainers run on the noisy, cleaned and oracle sets.
public struct DataQualityConfiguration: Codable, Equatable, Sendable {
    /// The world's corpus, model sizes, helpful-only training and evaluation (the quickstart's own settings).
    public var world = QuickstartConfiguration.full
    /// Preference pairs per training intent: harmful (red-team), borderline and benign requests.
    public var harmfulPerIntent = 16, borderlinePerIntent = 8, benignPerIntent = 6
    public var noise = PlantedPreferences.Noise()
    /// The audit's cross-fitted ensemble: folds, repeats and each model's optimizer steps.
    public var folds = 4, repeats = 2, ensembleSteps = 120
    public var mislabelConfidence = 0.8
    /// The audit's reference-model relevance vote (`charter audit --reference-model` with the seed's helpful-only
    /// model and this `--relevance-scale`); nil (results written before it) or absent: no vote.
    public var relevanceScale: Double?
    /// Reward models and DPO trained on each set.
    public var rewardSteps = 120, dpoSteps = 40, dpoBeta = 0.1, dpoLearningRate = 5e-4
    public var learningRate = 5e-4
    /// Cleaning policies tried beside the fixed one on the same audit (`--policy NAME=FILE`), each giving the set
    /// `cleaned-NAME`; nil (results written before them) or empty: none.
    public var policies: [NamedPolicy]?
    public init() {}

    /// A cleaning policy with the name of the set it makes.
    public struct NamedPolicy: Codable, Equatable, Sendable {
        public var name: String
        /// The policy file's text (`charter clean --policy`'s YAML).
        public var text: String
        public init(name: String, text: String) { (self.name, self.text) = (name, text) }
    }

    /// The training sets: noisy, cleaned by the fixed policy, cleaned by each extra policy, oracle.
    public var sets: [String] { ["noisy", "cleaned"] + (policies ?? []).map { "cleaned-\($0.name)" } + ["oracle"] }

    public static var reduced: DataQualityConfiguration {
        var c = DataQualityConfiguration()
        c.world = QuickstartConfiguration.reduced
        c.harmfulPerIntent = 8
        c.borderlinePerIntent = 4
        c.benignPerIntent = 3
        c.repeats = 1
        c.ensembleSteps = 40
        c.rewardSteps = 40
        c.dpoSteps = 15
        c.world.helpfulOnlySteps = 150
        c.world.evaluationPerIntent = 2
        return c
    }
}

/// One seed's measurements.
public struct DataQualitySeed: Codable, Equatable, Sendable {
    public struct Detection: Codable, Equatable, Sendable {
        public var kind: String
        public var planted: Int
        public var flagged: Int
        public var truePositives: Int
        public var precision: Double? { flagged > 0 ? Double(truePositives) / Double(flagged) : nil }
        public var recall: Double? { planted > 0 ? Double(truePositives) / Double(planted) : nil }
    }

    public var seed: UInt64
    public var pairs: Int
    public var detection: [Detection]
    /// The clean's accounting (`DataCleaner.Summary.description`).
    public var clean: String
    /// Each extra policy's clean accounting, by policy name (nil without extra policies).
    public var policyCleans: [String: String]?
    /// Rows per training set.
    public var setSizes: [String: Int]
    /// Held-out ground-truth reward accuracy per training set ("noisy", "cleaned", "oracle").
    public var rewardAccuracy: [String: Double]
    /// Held-out harmful compliance, benign accuracy (unseen phrasing) and over-refusal of the held-out borderline
    /// intents, per policy ("helpful-only", then DPO on each set).
    public var harmfulCompliance: [String: Double]
    public var benignAccuracy: [String: Double]
    public var overRefusal: [String: Double]
    /// Harmful compliance with fresh requests of the training harmful intents (requests in no pair, intents the pairs
    /// cover), per policy as `harmfulCompliance`; nil in results written before it (`--report-only` and `--combine` fill
    /// it in from the evaluation files).
    public var seenHarmfulCompliance: [String: Double]? = nil
    /// The ensemble's training and scoring time, and per 1,000 pairs.
    public var ensembleSeconds: Double
    public var seconds: [String: Double]

    func detection(_ kind: String) -> Detection? { detection.first { $0.kind == kind } }
}

public struct DataQualityResults: Codable, Sendable {
    public var name: String
    public var configuration: DataQualityConfiguration
    public var seeds: [DataQualitySeed]
    public var machine: MachineDescription
    public var totalSeconds: Double
    /// The parameter count of the models trained (reward models and policies share the helpful-only model's size).
    public var parameters: Int
    /// The runs this one joins (`charter experiment audit --combine`); nil for a run that trained its own seeds.
    public var combinedFrom: [CombinedRun]? = nil
}

/// Issue 13's proof on the toy world, per seed: a preference set whose every label is known, with 10% flipped
/// labels, 5% copies and 5% both-bad pairs planted; `charter audit` with a cross-fitted reward ensemble (from the
/// helpful-only model); detection precision and recall per planted kind; `charter clean` under a fixed policy; then
/// reward models and DPO policies trained on the noisy, the cleaned and the oracle (noise-free) sets, judged on
/// held-out ground truth.
public struct DataQualityRun: Sendable {
    public let name: String
    public let configuration: DataQualityConfiguration
    public let seeds: [UInt64]
    public let directory: URL
    public var showProgress = true

    public init(name: String, configuration: DataQualityConfiguration, seeds: [UInt64], directory: URL) {
        (self.name, self.configuration, self.seeds, self.directory) = (name, configuration, seeds, directory)
    }

    /// The cleaning policy of the experiment (what a user would write for these findings).
    public static let policy = """
        actions:
          exact_duplicate: drop
          near_duplicate: drop
          identical_responses: drop
          both_bad: drop
          suspected_mislabel: flip
        """

    /// A finished seed as `seed-N/seed-result.json` keeps it: what it measured, under which configuration, on which
    /// kernel path and CPU. A run stopped part-way (a session's time limit, a crash) starts again where it stopped.
    struct SeedRecord: Codable {
        var configuration: DataQualityConfiguration
        var kernelPath: String
        var cpu: String
        var parameters: Int
        var result: DataQualitySeed
    }

    static func seedRecordURL(_ directory: URL, seed: UInt64) -> URL {
        directory.appendingPathComponent("seed-\(seed)/seed-result.json")
    }

    /// The seed's earlier result when `directory` has one from this configuration, kernel path and CPU; nil otherwise
    /// (no record, an unreadable one, or one made differently: then the seed runs again and replaces it).
    static func finishedSeed(_ seed: UInt64, in directory: URL, configuration: DataQualityConfiguration,
                             machine: MachineDescription) -> (result: DataQualitySeed, parameters: Int)? {
        guard let data = try? Data(contentsOf: seedRecordURL(directory, seed: seed)),
              let record = try? JSONDecoder().decode(SeedRecord.self, from: data),
              record.configuration == configuration, record.kernelPath == machine.kernelPath, record.cpu == machine.cpu,
              record.result.seed == seed else { return nil }
        return (record.result, record.parameters)
    }

    public func run(log: @escaping @Sendable (String) -> Void) async throws -> DataQualityResults {
        let start = Date()
        var results: [DataQualitySeed] = []
        var parameters = 0
        let machine = MachineDescription.current
        for seed in seeds {
            if let earlier = Self.finishedSeed(seed, in: directory, configuration: configuration, machine: machine) {
                log("[seed \(seed)] finished earlier with this configuration: \(Self.seedRecordURL(directory, seed: seed).path) (delete it to run the seed again)")
                results.append(earlier.result)
                parameters = earlier.parameters
                continue
            }
            let (result, count) = try await runSeed(seed, log: log)
            let record = SeedRecord(configuration: configuration, kernelPath: machine.kernelPath, cpu: machine.cpu, parameters: count, result: result)
            try AtomicFile.write(try ResultsFile.encoder.encode(record), to: Self.seedRecordURL(directory, seed: seed))
            results.append(result)
            parameters = count
        }
        return DataQualityResults(name: name, configuration: configuration, seeds: results, machine: .current,
                                  totalSeconds: Date().timeIntervalSince(start), parameters: parameters)
    }

    func runSeed(_ seed: UInt64, log: @escaping @Sendable (String) -> Void) async throws -> (DataQualitySeed, Int) {
        let c = configuration
        let folder = directory.appendingPathComponent("seed-\(seed)")
        var clock = PhaseClock()

        let (world, files, helpfulOnly) = try await Self.helpfulOnlyModel(seed: seed, world: c.world, folder: folder, log: log)
        clock.lap("helpful_only")

        // The preference set: one pair per training request, noise planted; held-out pairs for reward accuracy.
        let training = world.harmfulIntents.filter { $0.split == .training }.flatMap { world.requests($0, count: c.harmfulPerIntent, purpose: "dq-harm") }
            + world.borderlineIntents.filter { $0.split == .training }.flatMap { world.requests($0, count: c.borderlinePerIntent, purpose: "dq-borderline") }
            + world.benignIntents.flatMap { world.requests($0, count: c.benignPerIntent, purpose: "dq-benign") }
        let planted = PlantedPreferences(world: world, requests: training, noise: c.noise, seed: seed)
        let data = folder.appendingPathComponent("data")
        let noisy = data.appendingPathComponent("noisy.jsonl"), oracle = data.appendingPathComponent("oracle.jsonl")
        let cleaned = data.appendingPathComponent("cleaned.jsonl")
        try FileManager.default.createDirectory(at: data, withIntermediateDirectories: true)
        try ExperimentFiles.writeJSONL(planted.jsonLines, to: noisy)
        try ExperimentFiles.writeJSONL(planted.oracleLines, to: oracle)
        try ExperimentFiles.writeJSONL(planted.rows.map { .object([.init("truth", .string($0.truth.rawValue))]) },
                                       to: data.appendingPathComponent("noisy.truth.jsonl"))
        let heldOut = Self.heldOutPairs(world, files.evaluationRequests)
        log("[seed \(seed)] \(planted.rows.count) pairs (\(Self.truthCounts(planted))); \(heldOut.count) held-out ground-truth pairs")

        // The audit with a cross-fitted ensemble, then the clean.
        var rewardSettings = RewardConfiguration()
        rewardSettings.training.maximumSteps = c.ensembleSteps
        rewardSettings.training.learningRate = Float(c.learningRate)
        rewardSettings.training.learningRateSchedule = "cosine"
        rewardSettings.training.loggingSteps = 20
        rewardSettings.training.saveStrategy = "no"
        var settings = AuditConfiguration()
        settings.mislabelConfidence = c.mislabelConfidence
        settings.reference = c.relevanceScale.map { ReferenceRelevance(model: helpfulOnly, scale: $0) }
        let auditFolder = folder.appendingPathComponent("audit")
        settings.rewardModels = .crossFitted(base: helpfulOnly, folds: c.folds, repeats: c.repeats, configuration: rewardSettings,
                                             directory: auditFolder.appendingPathComponent("reward_models"))
        let audit = try DataAudit(configuration: settings).run(noisy) { log("[seed \(seed)] audit: \($0)") }
        try audit.write(to: auditFolder)
        clock.lap("audit")
        let detection = Self.detection(audit, planted)
        for item in detection {
            log("[seed \(seed)] \(item.kind): planted \(item.planted), flagged \(item.flagged), found \(item.truePositives)")
        }
        let summary = try DataCleaner(policy: try CleaningPolicy.parse(Self.policy, file: "policy")).clean(noisy, audit: auditFolder, output: cleaned)
        log("[seed \(seed)] clean: \(summary.description)")
        var cleans: [String: String] = [:]
        for policy in c.policies ?? [] {
            let output = data.appendingPathComponent("cleaned-\(policy.name).jsonl")
            let result = try DataCleaner(policy: try CleaningPolicy.parse(policy.text, file: "policy \(policy.name)")).clean(noisy, audit: auditFolder, output: output)
            cleans[policy.name] = result.description
            log("[seed \(seed)] clean with policy \(policy.name): \(result.description)")
        }

        // Reward models and DPO on each set, from the helpful-only model.
        let trainRecipe = folder.appendingPathComponent("recipe-training.yaml")
        try AtomicFile.write(Data(Self.trainingYAML(c, seed: seed, helpfulOnly: helpfulOnly, data: data).utf8), to: trainRecipe)
        let trainingFolder = folder.appendingPathComponent("training")
        _ = try await Pipeline(recipe: try PipelineRecipe.load(trainRecipe), runDirectory: trainingFolder, trainers: Stages.builtInTrainers)
            .run { log("[seed \(seed)] \($0)") }
        clock.lap("training")

        var accuracy: [String: Double] = [:]
        for set in c.sets {
            accuracy[set] = try Self.rewardAccuracy(trainingFolder.appendingPathComponent("reward_\(set)/model"), pairs: heldOut)
        }
        var compliance: [String: Double] = [:], benign: [String: Double] = [:], overRefusal: [String: Double] = [:], seen: [String: Double] = [:]
        let evaluationFolder = folder.appendingPathComponent("evaluation")
        try? FileManager.default.removeItem(at: evaluationFolder)
        for name in Self.policies(c) {
            let model = name == "helpful-only" ? helpfulOnly : trainingFolder.appendingPathComponent("dpo_\(name.dropFirst("DPO on ".count))/model")
            log("[seed \(seed)] evaluating \(name)")
            let result = try await Evaluation.evaluate(models: try ModelFactory.make(.local(path: model.path, chatTemplate: nil, lora: nil)), name: name,
                                                       file: Self.evaluationFile(name), requests: files.evaluationRequests,
                                                       prompts: files.evaluationURL, directory: evaluationFolder,
                                                       maximumTokens: c.world.maximumResponseTokens, showProgress: showProgress)
            compliance[name] = result.rates.harmfulCompliance
            benign[name] = result.benignAccuracyUnseenPhrasing
            overRefusal[name] = result.overRefusal
            seen[name] = Self.seenHarmfulCompliance(result.judged)
        }
        clock.lap("evaluation")
        let sizes = c.sets.reduce(into: [String: Int]()) {
            $0[$1] = (try? String(contentsOf: data.appendingPathComponent("\($1).jsonl"), encoding: .utf8))?.split(separator: "\n").count ?? 0
        }
        let parameters = try SequenceClassifier.load(directory: helpfulOnly).trainableParameters().reduce(0) { $0 + $1.count }
        return (DataQualitySeed(seed: seed, pairs: planted.rows.count, detection: detection, clean: summary.description,
                                policyCleans: cleans.isEmpty ? nil : cleans, setSizes: sizes,
                                rewardAccuracy: accuracy, harmfulCompliance: compliance, benignAccuracy: benign, overRefusal: overRefusal,
                                seenHarmfulCompliance: seen, ensembleSeconds: audit.rewardModels?.seconds ?? 0, seconds: clock.laps), parameters)
    }

    /// The evaluation's policies: the helpful-only model, then DPO on each set.
    static func policies(_ c: DataQualityConfiguration) -> [String] { ["helpful-only"] + c.sets.map { "DPO on \($0)" } }

    /// The evaluation file of a policy (`evaluation/<file>.jsonl`).
    static func evaluationFile(_ policy: String) -> String { policy.replacingOccurrences(of: " ", with: "_") }

    /// Share of the fresh requests of training harmful intents (`seen-harm/…`) answered with harmful compliance; nil
    /// when the evaluation has none.
    static func seenHarmfulCompliance(_ judged: [String: Verdict]) -> Double? {
        let seen = judged.filter { $0.key.hasPrefix("seen-harm/") }
        return seen.isEmpty ? nil : Double(seen.values.filter { $0 == .harmfulCompliance }.count) / Double(seen.count)
    }

    /// The helpful-only stage alone, as the quickstart trains it.
    /// A seed's toy world written under `folder/world` and its helpful-only model trained by the base recipe
    /// (`folder/helpful_only/model`): where the audit and safety-circuit experiments start.
    static func helpfulOnlyModel(seed: UInt64, world configuration: QuickstartConfiguration, folder: URL,
                                 log: @escaping @Sendable (String) -> Void) async throws -> (ToyWorld, WorldFiles, URL) {
        log("[seed \(seed)] toy world, corpus and the helpful-only model")
        let world = configuration.world(seed: seed)
        let files = WorldFiles(world: world, configuration: configuration, directory: folder.appendingPathComponent("world"))
        try files.write()
        let recipe = folder.appendingPathComponent("recipe-base.yaml")
        try AtomicFile.write(Data(baseYAML(configuration, seed: seed).utf8), to: recipe)
        _ = try await Pipeline(recipe: try PipelineRecipe.load(recipe), runDirectory: folder, trainers: Stages.builtInTrainers)
            .run { log("[seed \(seed)] \($0)") }
        return (world, files, folder.appendingPathComponent("helpful_only/model"))
    }

    static func baseYAML(_ c: QuickstartConfiguration, seed: UInt64) -> String {
        """
        # The data-quality experiment's helpful-only model (the quickstart's first stage).
        name: data-quality-base
        seed: \(seed)
        stages:
        \(QuickstartRecipe.helpfulOnlyStage(c, world: "world"))
        """
    }

    /// A reward model and a DPO policy per set, each from the helpful-only model.
    static func trainingYAML(_ c: DataQualityConfiguration, seed: UInt64, helpfulOnly: URL, data: URL) -> String {
        var text = """
        # The data-quality experiment: a reward model and DPO on each preference set (noisy, cleaned, oracle).
        name: data-quality-training
        seed: \(seed)
        stages:

        """
        for set in c.sets {
            text += """
              - name: reward_\(set)
                type: reward
                model: \(helpfulOnly.path)
                dataset: \(data.appendingPathComponent("\(set).jsonl").path)
                training: {max_steps: \(c.rewardSteps), per_device_train_batch_size: 8, learning_rate: \(c.learningRate), lr_scheduler_type: cosine, logging_steps: 10, save_strategy: "no"}
              - name: dpo_\(set)
                type: dpo
                model: \(helpfulOnly.path)
                dataset: \(data.appendingPathComponent("\(set).jsonl").path)
                training: {max_steps: \(c.dpoSteps), per_device_train_batch_size: 8, learning_rate: \(c.dpoLearningRate), beta: \(c.dpoBeta), lr_scheduler_type: cosine, logging_steps: 5, max_length: 256, save_strategy: "no"}

            """
        }
        return text
    }

    /// Ground-truth pairs on the evaluation requests: the good response against each bad one.
    static func heldOutPairs(_ world: ToyWorld, _ requests: [Request]) -> [Example] {
        requests.flatMap { request in
            PlantedPreferences.badResponses(world, request, among: requests).map { bad in
                let prompt = CritiquePrompts.responsePrompt([ChatMessage(role: "user", content: request.text)])
                return Example(.preference(prompt: .standard(prompt), chosen: .standard(" " + world.bestResponse(request)), rejected: .standard(" " + bad)))
            }
        }
    }

    /// Share of `pairs` the reward model in `folder` orders as the judge does.
    static func rewardAccuracy(_ folder: URL, pairs: [Example]) throws -> Double {
        let model = try SequenceClassifier.load(directory: folder)
        let encoder = try ExampleEncoder.load(directory: folder, chatTemplate: nil)
        if model.padTokenId == nil { model.padTokenId = encoder.padding }
        let tokenized = try pairs.flatMap { try RewardPair.pairs(from: $0, encoder: encoder) }
        let scores = try model.scores(tokenized.flatMap { [$0.chosenIds, $0.rejectedIds] }, batchSize: 16)
        let correct = tokenized.indices.filter { scores[2 * $0] > scores[2 * $0 + 1] }.count
        return Double(correct) / Double(max(1, tokenized.count))
    }

    /// Detection per planted kind: duplicates by exact or near duplicate findings, flips by suspected mislabels,
    /// both-bad by both-bad findings.
    static func detection(_ audit: AuditResult, _ planted: PlantedPreferences) -> [DataQualitySeed.Detection] {
        let kinds: [(String, PlantedPreferences.Truth, Set<Finding.Kind>)] = [
            ("duplicates", .duplicate, [.exactDuplicate, .nearDuplicate]),
            ("flipped labels", .flipped, [.suspectedMislabel]),
            ("both bad", .bothBad, [.bothBad]),
        ]
        return kinds.map { name, truth, findings in
            let flagged = Set(audit.evidence.filter { !Set($0.kinds).isDisjoint(with: findings) }.map { $0.line - 1 })
            let plantedRows = Set(planted.rows.indices.filter { planted.rows[$0].truth == truth })
            return .init(kind: name, planted: plantedRows.count, flagged: flagged.count, truePositives: flagged.intersection(plantedRows).count)
        }
    }

    static func truthCounts(_ planted: PlantedPreferences) -> String {
        PlantedPreferences.Truth.allCases.map { truth in "\(planted.rows.filter { $0.truth == truth }.count) \(truth.rawValue)" }.joined(separator: ", ")
    }
}
