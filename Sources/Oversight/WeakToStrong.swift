import Alignment
import Datasets
import Experiments
import Foundation
import LanguageModels
import Reports
import Tensors
import Tokenizers

/// Weak-to-strong generalisation (Burns et al. 2023) on toy-world tasks with ground truth. Per seed and task: a weak
/// model (few layers, narrow) is fine-tuned on ground-truth labels and labels a held-out set with its probabilities;
/// a strong model (deeper, wider) is fine-tuned on those weak labels, once with cross-entropy (naive weak-to-strong)
/// and once with the auxiliary confidence loss; the strong ceiling is the strong model fine-tuned on the held-out
/// set's ground truth. All four are scored on a separate test set. Both models start from scratch with the same
/// tokenizer; the strong one (and, if asked, the weak one) is first pretrained by next-token prediction on world
/// dialogues — its latent knowledge, as pretraining is a large model's in the paper.
public struct WeakToStrongConfiguration: Codable, Equatable, Sendable {
    public var tasks = WeakToStrongTask.allCases
    /// Examples of every intent in each of the three splits.
    public var perIntent = 8
    public var weak = Size(hiddenSize: 16, layerCount: 1, headCount: 2)
    public var strong = Size(hiddenSize: 64, layerCount: 2, headCount: 4)
    /// Byte-level BPE vocabulary trained on the seed's texts.
    public var vocabularySize = 800
    /// Optimizer steps of every fine-tuning run.
    public var steps = 40
    /// Next-token pretraining steps on the world's dialogues, before fine-tuning (strong and weak model).
    public var strongPretrainingSteps = 300
    public var weakPretrainingSteps = 0
    public var pretrainingLearningRate: Float = 3e-3
    /// Dialogues of every intent in the pretraining corpus.
    public var corpusPerIntent = 16
    public var batchSize = 32
    public var learningRate: Float = 1e-3
    /// α_max of the confidence loss (Burns et al. use 0.75 for their largest students, 0.5 otherwise).
    public var maximumAlpha = 0.75
    /// α rises linearly from 0 over this fraction of the run (Burns et al.: 20%).
    public var warmupFraction = 0.2
    /// Every classifier's linear head starts at zero, as Burns et al.'s `TransformerWithHead` initialises it, so a
    /// student's first predictions are ½ and its head grows along the features that predict its labels; false: a
    /// random head (Charter's default for a new reward model, and this experiment's before 2026-12-06).
    public var zeroInitialisedHead = true
    /// The strong students and the ceiling train only their linear head on the pretrained model's frozen features (a
    /// linear probe, as in Burns et al.'s probing experiments); false: every parameter is fine-tuned. The weak
    /// supervisor is always fine-tuned whole.
    public var headOnlyStudents = false
    /// Learning rate of the head-only runs (a linear probe on frozen features moves only its head, and at the
    /// fine-tuning rate of 1e-3 it barely leaves zero in 40 steps).
    public var headLearningRate: Float = 1e-2

    public struct Size: Codable, Equatable, Sendable {
        public var hiddenSize, layerCount, headCount: Int
        public init(hiddenSize: Int, layerCount: Int, headCount: Int) {
            (self.hiddenSize, self.layerCount, self.headCount) = (hiddenSize, layerCount, headCount)
        }
        var text: String { "\(layerCount) layer\(layerCount == 1 ? "" : "s"), width \(hiddenSize)" }
    }

    public init() {}

    /// The test suite's configuration: fewer examples and steps.
    public static var reduced: Self {
        var configuration = Self()
        configuration.perIntent = 3
        configuration.steps = 30
        configuration.strongPretrainingSteps = 20
        configuration.corpusPerIntent = 2
        configuration.strong = Size(hiddenSize: 32, layerCount: 2, headCount: 4)
        return configuration
    }
}

/// One task's outcome at one seed: test accuracies of the four models.
public struct WeakToStrongOutcome: Codable, Equatable, Sendable {
    public var task: WeakToStrongTask
    public var seed: UInt64
    public var weak: Double
    /// The strong student trained on weak labels with cross-entropy, and with the auxiliary confidence loss.
    public var weakToStrong: Double
    public var weakToStrongConfidence: Double
    public var ceiling: Double
    /// Accuracy of the weak labels on the held-out set (what the students were taught).
    public var weakLabelAccuracy: Double
    public var trainingExamples: Int, heldOutExamples: Int, testExamples: Int
    public var seconds: Double
    /// Test examples the weak model got wrong, with each model's p(positive).
    public var examples: [GenerationExample]

    /// (student − weak) / (ceiling − weak); nil when the ceiling is not above the weak model.
    public static func gapRecovered(student: Double, weak: Double, ceiling: Double) -> Double? {
        ceiling > weak ? (student - weak) / (ceiling - weak) : nil
    }
    public var performanceGapRecovered: Double? { Self.gapRecovered(student: weakToStrong, weak: weak, ceiling: ceiling) }
    public var performanceGapRecoveredConfidence: Double? { Self.gapRecovered(student: weakToStrongConfidence, weak: weak, ceiling: ceiling) }
}

/// results.json: the configuration, every (task, seed) outcome, and per task 95% t-intervals over seeds.
public struct WeakToStrongResults: Codable, Equatable, Sendable {
    public var experiment = "weak-to-strong"
    public var configuration: WeakToStrongConfiguration
    public var outcomes: [WeakToStrongOutcome]
    public var tasks: [TaskSummary]

    public struct TaskSummary: Codable, Equatable, Sendable {
        public var task: WeakToStrongTask
        public var weak, weakToStrong, weakToStrongConfidence, ceiling: Interval
        /// PGR per seed, then the interval; seeds whose ceiling is not above their weak model are left out (counted in `seedsWithoutGap`).
        public var performanceGapRecovered: Interval
        public var performanceGapRecoveredConfidence: Interval
        /// PGR of the mean accuracies (defined even when single seeds have no gap); nil when the mean ceiling ≤ mean weak.
        public var performanceGapRecoveredOfMeans: Double?
        public var performanceGapRecoveredConfidenceOfMeans: Double?
        /// Paired per seed: ceiling − weak.
        public var gap: Interval
        public var seedsWithoutGap: Int
    }

    public init(configuration: WeakToStrongConfiguration, outcomes: [WeakToStrongOutcome]) {
        self.configuration = configuration
        self.outcomes = outcomes
        tasks = configuration.tasks.compactMap { task in
            let rows = outcomes.filter { $0.task == task }
            guard !rows.isEmpty else { return nil }
            let weak = Statistics.interval95(rows.map(\.weak)), ceiling = Statistics.interval95(rows.map(\.ceiling))
            let student = Statistics.interval95(rows.map(\.weakToStrong)), confident = Statistics.interval95(rows.map(\.weakToStrongConfidence))
            return TaskSummary(task: task, weak: weak, weakToStrong: student, weakToStrongConfidence: confident, ceiling: ceiling,
                               performanceGapRecovered: Statistics.interval95(rows.compactMap(\.performanceGapRecovered)),
                               performanceGapRecoveredConfidence: Statistics.interval95(rows.compactMap(\.performanceGapRecoveredConfidence)),
                               performanceGapRecoveredOfMeans: WeakToStrongOutcome.gapRecovered(student: student.mean, weak: weak.mean, ceiling: ceiling.mean),
                               performanceGapRecoveredConfidenceOfMeans: WeakToStrongOutcome.gapRecovered(student: confident.mean, weak: weak.mean, ceiling: ceiling.mean),
                               gap: Statistics.interval95(rows.map { $0.ceiling - $0.weak }),
                               seedsWithoutGap: rows.filter { $0.performanceGapRecovered == nil }.count)
        }
    }
}

public enum WeakToStrong {
    /// Runs `task` at `seed` in `folder` (the models' initial and fine-tuned folders); `log` receives progress lines.
    public static func run(_ configuration: WeakToStrongConfiguration, task: WeakToStrongTask, seed: UInt64, folder: URL,
                           log: (String) -> Void = { _ in }) throws -> WeakToStrongOutcome {
        let started = Date()
        try? FileManager.default.removeItem(at: folder)
        let splits = task.splits(seed: seed, perIntent: configuration.perIntent)
        let corpus = WeakToStrongTask.pretrainingCorpus(seed: seed, perIntent: configuration.corpusPerIntent)
        let texts = corpus + splits.weakTraining.flatMap { [$0.first] + ($0.second.map { [$0] } ?? []) }
        let contextLength = 512  // rotary positions: the context costs nothing until used
        func initial(_ size: WeakToStrongConfiguration.Size, _ name: String) throws -> URL {
            let url = folder.appendingPathComponent(name)
            try InitialModel(vocabularySize: configuration.vocabularySize, hiddenSize: size.hiddenSize, intermediateSize: 4 * size.hiddenSize,
                             layerCount: size.layerCount, headCount: size.headCount, contextLength: contextLength)
                .write(texts: texts, seed: seed, to: url)
            return url
        }
        let tokenizer = try Tokenizer(directory: try initial(configuration.weak, "weak-initial"))
        let encoder = ExampleEncoder(tokenizer: tokenizer)
        func pretrain(_ size: WeakToStrongConfiguration.Size, _ name: String, steps: Int) throws -> URL {
            let start = try initial(size, "\(name)-initial")
            guard steps > 0 else { return start }
            log("seed \(seed), \(task.rawValue): pretraining the \(name) model, \(steps) next-token steps on \(corpus.count) dialogues")
            var settings = SFTConfiguration()
            let output = folder.appendingPathComponent("\(name)-pretrained")
            settings.training = .constantRate(output: output, steps: steps, batchSize: configuration.batchSize,
                                              learningRate: configuration.pretrainingLearningRate, seed: seed)
            let dialogues = corpus.enumerated().map { Example(.languageModeling(text: .standard($0.element)), line: $0.offset + 1) }
            let trainer = try SFTTrainer(configuration: settings, policy: try TrainableModel(directory: start), encoder: encoder, train: dialogues)
            _ = try TrainingLoop(arguments: settings.training).run(trainer)
            return output
        }
        let weakStart = try pretrain(configuration.weak, "weak", steps: configuration.weakPretrainingSteps)
        let strongStart = try pretrain(configuration.strong, "strong", steps: configuration.strongPretrainingSteps)
        func encode(_ text: String) throws -> [Int32] {
            let ids = tokenizer.encode(text, addSpecialTokens: false).map(Int32.init)
            guard ids.count <= contextLength else {
                throw ExperimentError("\(task.rawValue): an example has \(ids.count) tokens, more than the models' context of \(contextLength): \(text)")
            }
            return ids
        }
        func items(_ examples: [WeakToStrongTask.Example], targets: [Float]? = nil) throws -> [BinaryItem] {
            try examples.enumerated().map { index, example in
                BinaryItem(first: try encode(example.first), second: try example.second.map(encode), target: targets?[index] ?? (example.label ? 1 : 0))
            }
        }
        func train(_ start: URL, _ name: String, _ data: [BinaryItem], _ objective: BinaryClassifierTrainer.Objective,
                   headOnly: Bool = false) throws -> SequenceClassifier {
            log("seed \(seed), \(task.rawValue): \(name), \(configuration.steps) steps on \(data.count) examples\(headOnly ? ", head only" : "")")
            let arguments = TrainingArguments.constantRate(output: folder.appendingPathComponent(name), steps: configuration.steps,
                                                           batchSize: configuration.batchSize,
                                                           learningRate: headOnly ? configuration.headLearningRate : configuration.learningRate,
                                                           seed: seed)
            let model = try SequenceClassifier.load(directory: start, seed: seed)
            if configuration.zeroInitialisedHead { model.score.weight.assign(.zeros(model.score.weight.shape)) }
            model.padTokenId = encoder.padding  // right padding: the scored token is the last one that is not padding
            if headOnly { model.body.setTrainable(false) }
            _ = try TrainingLoop(arguments: arguments).run(BinaryClassifierTrainer(model: model, items: data, objective: objective,
                                                                                    totalSteps: configuration.steps))
            return model
        }
        let test = try items(splits.test)
        func accuracy(_ probabilities: [Float], _ examples: [WeakToStrongTask.Example]) -> Double {
            Double(zip(probabilities, examples).filter { ($0.0 > 0.5) == $0.1.label }.count) / Double(max(examples.count, 1))
        }

        let weak = try train(weakStart, "weak", try items(splits.weakTraining), .crossEntropy)
        let weakLabels = BinaryClassifierTrainer.probabilities(weak, try items(splits.heldOut))
        let weakTest = BinaryClassifierTrainer.probabilities(weak, test)
        let taught = try items(splits.heldOut, targets: weakLabels)
        let headOnly = configuration.headOnlyStudents
        let student = try train(strongStart, "weak-to-strong", taught, .crossEntropy, headOnly: headOnly)
        let confident = try train(strongStart, "weak-to-strong-confidence", taught,
                                  .auxiliaryConfidence(maximumAlpha: configuration.maximumAlpha, warmupFraction: configuration.warmupFraction),
                                  headOnly: headOnly)
        let ceiling = try train(strongStart, "ceiling", try items(splits.heldOut), .crossEntropy, headOnly: headOnly)
        let probabilities = [weakTest] + [student, confident, ceiling].map { BinaryClassifierTrainer.probabilities($0, test) }
        let names = ["weak", "weak-to-strong", "weak-to-strong + confidence", "strong ceiling"]
        let outcome = WeakToStrongOutcome(
            task: task, seed: seed, weak: accuracy(weakTest, splits.test), weakToStrong: accuracy(probabilities[1], splits.test),
            weakToStrongConfidence: accuracy(probabilities[2], splits.test), ceiling: accuracy(probabilities[3], splits.test),
            weakLabelAccuracy: accuracy(weakLabels, splits.heldOut), trainingExamples: splits.weakTraining.count,
            heldOutExamples: splits.heldOut.count, testExamples: splits.test.count, seconds: Date().timeIntervalSince(started),
            examples: splits.test.indices.filter { (weakTest[$0] > 0.5) != splits.test[$0].label }.prefix(6).map { index in
                let example = splits.test[index]
                let truth = task == .harmfulness ? (example.label ? "harmful" : "not harmful") : (example.label ? "first better" : "second better")
                return GenerationExample(kind: "\(example.kind) (truth: \(truth))", id: "\(index)",
                                         prompt: example.second.map { "first:\n\(example.first)\n\nsecond:\n\($0)" } ?? example.first,
                                         responses: names.indices.map { model in
                                             let p = probabilities[model][index]
                                             return .init(model: names[model], text: String(format: "p = %.2f", p),
                                                          verdict: (p > 0.5) == example.label ? "correct" : "wrong")
                                         })
            })
        log("seed \(seed), \(task.rawValue): test accuracy weak \(percent(outcome.weak)), weak-to-strong \(percent(outcome.weakToStrong)), "
            + "+ confidence \(percent(outcome.weakToStrongConfidence)), ceiling \(percent(outcome.ceiling))")
        return outcome
    }

    static func percent(_ value: Double) -> String { String(format: "%.1f%%", 100 * value) }
}
