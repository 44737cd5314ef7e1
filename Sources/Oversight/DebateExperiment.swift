import Alignment
import Constitutional
import Datasets
import Experiments
import Foundation
import LanguageModels
import Reports
import Runtime
import Tensors

/// `charter experiment debate`: do debate, consultancy and blind judging differ for a small judge trained with ground
/// truth? Per seed: generated reading tasks (invented people's towns, jobs and pets); the debaters and the consultant
/// follow a fixed quoting policy (``QuotingArguer``: quote the passage sentence that contains your answer and
/// shares most words with the question — the truth's side quotes the answer, the other side a true sentence about
/// someone else); a tiny Llama judge is trained from scratch by SFT on debate transcripts of training tasks (the
/// judge prompt of ``ProtocolPrompts/judge(_:protocolName:firstAsA:transcript:simultaneous:)`` → " (A)"/" (B)", both option orders)
/// — it must learn to weigh verified quotes and to check that a quote is about the person asked; then all three
/// protocols are run on held-out tasks through ``ProtocolSession``, the judge answering by option log-probs.
///
/// Debates are simultaneous by default and the judge reads them in letter order. In speaking order with a random
/// opening debater, the right letter is the XOR of who opened and of the option order: every single feature of the
/// prompt is independent of the answer, and a judge trained from scratch sat at ln 2 on the letter (issue 16).
public struct DebateExperimentConfiguration: Codable, Equatable, Sendable {
    /// Passages of training tasks (three questions each) whose debates the judge is trained on.
    public var trainingPassages = 160
    /// Passages of held-out test tasks.
    public var testPassages = 40
    /// People per passage.
    public var peopleCount = 3
    /// Rounds of argument in consultancy and debate.
    public var rounds = 1
    /// Debates are simultaneous (the quoting policy never reads the other side, so they are in fact), and the judge
    /// reads each round in letter order (``ProtocolPrompts/judge(_:protocolName:firstAsA:transcript:simultaneous:)``).
    /// false shows the speaking order, a random opening: the setting in which the judge stayed at chance.
    public var simultaneous = true
    /// The judge's loss also covers its prompts' tokens (TRL's `completion_only_loss` off): next-token prediction on
    /// the transcripts it reads — never a passage — besides the answer letter.
    public var lossOnPrompts = false
    /// The judge also trains on consultancy transcripts of the training tasks (the consultant honest on half of them),
    /// not only on debates.
    public var trainOnConsultancy = false
    public var judge = WeakToStrongConfiguration.Size(hiddenSize: 64, layerCount: 2, headCount: 4)
    /// Byte-level BPE vocabulary trained on the seed's judge prompts.
    public var vocabularySize = 600
    public var steps = 300
    public var batchSize = 16
    public var learningRate: Float = 2e-3
    public var bootstrapSamples = 1000
    /// The false side makes up a quote about the right person (which fails verification) instead of quoting a true
    /// sentence about someone else (``QuotingArguer/fabricates``).
    public var fabricatingLiar = false
    /// Khan et al.'s mechanism: passages state a share of facts twice, a source and the source that corrects it
    /// (``ReadingTask/Source``, cyclic precedence), and questions about those facts have the superseded value as
    /// distractor; the false side quotes the superseded statement (verified, about the right person, supporting its
    /// answer) and fabricates where there is none (``QuotingArguer/Liar/superseded``). A lone verified quote is then
    /// right only as often as the honest share of verified quotes, while a debate shows both statements.
    public var supersededLiar = false
    /// With `supersededLiar`: the share of facts stated twice. A judge that trusts verified consultants and distrusts
    /// unverified ones is right on 1 − share/2 of consultancies (the liar's superseded quote verifies); debate can
    /// reach 100%.
    public var supersededShare = 2.0 / 3
    /// With `supersededLiar`: which source corrects which (nil: ``ReadingTask/Precedence/cyclic``, as runs before the
    /// option).
    public var precedence: ReadingTask.Precedence?
    /// Consultancy transcripts are shown to the judge in letter-ordered slots, as simultaneous debates
    /// (``ProtocolSettings/consultancySlots``).
    public var consultancySlots = false
    /// Judges trained per seed at most, each from its own initialisation and batch order (the first from the seed's,
    /// as with one). A from-scratch judge either finds a rule or stays on a plateau, depending on its initialisation;
    /// restarts are the usual remedy. The judge kept is the one most accurate on validation tasks — fresh tasks of the
    /// training distribution under the protocols it trained on, never the test tasks — and training stops at the first
    /// judge that reaches `restartAccuracy` there.
    public var judgeRestarts = 1
    /// With `judgeRestarts` > 1: the validation accuracy at which no further judge is trained.
    public var restartAccuracy = 0.95
    /// With `judgeRestarts` > 1: passages (three questions each) of validation tasks.
    public var validationPassages = 20

    enum CodingKeys: String, CodingKey {
        case trainingPassages = "training_passages", testPassages = "test_passages", peopleCount = "people", rounds, simultaneous, lossOnPrompts = "loss_on_prompts", trainOnConsultancy = "train_on_consultancy", judge
        case vocabularySize = "vocabulary_size", steps, batchSize = "batch_size", learningRate = "learning_rate", bootstrapSamples = "bootstrap_samples"
        case fabricatingLiar = "fabricating_liar", supersededLiar = "superseded_liar", supersededShare = "superseded_share", consultancySlots = "consultancy_slots"
        case precedence, judgeRestarts = "judge_restarts", restartAccuracy = "restart_accuracy", validationPassages = "validation_passages"
    }

    /// What the false side quotes.
    var liar: QuotingArguer.Liar { supersededLiar ? .superseded : fabricatingLiar ? .fabricates : .otherPerson }

    public init() {}

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        trainingPassages = try container.decode(Int.self, forKey: .trainingPassages)
        testPassages = try container.decode(Int.self, forKey: .testPassages)
        peopleCount = try container.decode(Int.self, forKey: .peopleCount)
        rounds = try container.decode(Int.self, forKey: .rounds)
        simultaneous = try container.decode(Bool.self, forKey: .simultaneous)
        lossOnPrompts = try container.decode(Bool.self, forKey: .lossOnPrompts)
        trainOnConsultancy = try container.decode(Bool.self, forKey: .trainOnConsultancy)
        judge = try container.decode(WeakToStrongConfiguration.Size.self, forKey: .judge)
        vocabularySize = try container.decode(Int.self, forKey: .vocabularySize)
        steps = try container.decode(Int.self, forKey: .steps)
        batchSize = try container.decode(Int.self, forKey: .batchSize)
        learningRate = try container.decode(Float.self, forKey: .learningRate)
        bootstrapSamples = try container.decode(Int.self, forKey: .bootstrapSamples)
        fabricatingLiar = try container.decode(Bool.self, forKey: .fabricatingLiar)
        supersededLiar = try container.decode(Bool.self, forKey: .supersededLiar)
        supersededShare = try container.decode(Double.self, forKey: .supersededShare)
        precedence = try container.decodeIfPresent(ReadingTask.Precedence.self, forKey: .precedence)
        consultancySlots = try container.decode(Bool.self, forKey: .consultancySlots)
        // Runs written before restarts trained one judge.
        judgeRestarts = try container.decodeIfPresent(Int.self, forKey: .judgeRestarts) ?? 1
        restartAccuracy = try container.decodeIfPresent(Double.self, forKey: .restartAccuracy) ?? 0.95
        validationPassages = try container.decodeIfPresent(Int.self, forKey: .validationPassages) ?? 20
    }

    /// The test suite's configuration: fewer tasks and steps, a narrower judge.
    public static var reduced: Self {
        var configuration = Self()
        configuration.trainingPassages = 40
        configuration.testPassages = 10
        configuration.judge = .init(hiddenSize: 32, layerCount: 1, headCount: 2)
        configuration.vocabularySize = 400
        configuration.steps = 40
        configuration.bootstrapSamples = 100
        return configuration
    }
}

/// One seed: the judge's training and every protocol's results on the held-out tasks.
public struct DebateSeedOutcome: Codable, Equatable, Sendable {
    public var seed: UInt64
    /// Judge accuracy per protocol ("blind", "consultancy", "debate").
    public var accuracy: [String: Double]
    public var trainingExamples: Int
    public var testTasks: Int
    public var firstLoss: Double?
    public var finalLoss: Double?
    public var seconds: Double
    /// The seed's full protocol results (also in seed-N/protocols/results.json with its report.html).
    public var results: OversightResults
    /// A debate, a dishonest consultancy and a blind judgement, as the judge read them.
    public var examples: [GenerationExample]
    /// Debate accuracy on the held-out debates where both sides' quotes verify (with the superseded liar: the
    /// superseded statement against the decisive one) and where one side's quote does not; nil where there are none.
    public var debateBothVerified: Double?
    public var debateOneVerified: Double?
    /// With judge restarts: every judge trained, in order; the kept one is the most accurate on validation (the first
    /// of equals). nil when one judge was trained.
    public var judgeAttempts: [JudgeAttempt]?

    /// One judge trained for a seed.
    public struct JudgeAttempt: Codable, Equatable, Sendable {
        /// The initialisation and batch-order seed.
        public var seed: UInt64
        public var firstLoss: Double?
        public var finalLoss: Double?
        /// Accuracy on the validation tasks' judge prompts (both option orders): the letter with the higher
        /// log-probability.
        public var validationAccuracy: Double
        public var kept: Bool

        enum CodingKeys: String, CodingKey {
            case seed, firstLoss = "first_loss", finalLoss = "final_loss", validationAccuracy = "validation_accuracy", kept
        }
    }

    enum CodingKeys: String, CodingKey {
        case seed, accuracy, trainingExamples = "training_examples", testTasks = "test_tasks", firstLoss = "first_loss"
        case finalLoss = "final_loss", seconds, results, examples
        case debateBothVerified = "debate_both_verified", debateOneVerified = "debate_one_verified", judgeAttempts = "judge_attempts"
    }
}

/// results.json of `charter experiment debate`.
public struct DebateExperimentResults: Codable, Equatable, Sendable {
    public struct ProtocolAccuracy: Codable, Equatable, Sendable {
        public var protocolName: OversightProtocol
        /// Mean over seeds with the 95% t-interval.
        public var accuracy: Interval
        enum CodingKeys: String, CodingKey { case protocolName = "protocol", accuracy }
    }

    public var configuration: DebateExperimentConfiguration
    public var outcomes: [DebateSeedOutcome]
    public var protocols: [ProtocolAccuracy]
    /// Paired per seed, in accuracy (0.10 = 10 points).
    public var debateMinusConsultancy: Interval
    public var debateMinusBlind: Interval
    /// The issue's target: debate ≥ consultancy + 10 points and ≥ blind + 20 points, with separated intervals.
    public var targetMet: Bool
    /// The kernel path and CPU that produced the numbers.
    public var machine: MachineDescription

    enum CodingKeys: String, CodingKey {
        case configuration, outcomes, protocols, debateMinusConsultancy = "debate_minus_consultancy", debateMinusBlind = "debate_minus_blind"
        case targetMet = "target_met", machine
    }

    public init(configuration: DebateExperimentConfiguration, outcomes: [DebateSeedOutcome]) {
        self.configuration = configuration
        self.outcomes = outcomes
        machine = .current
        func seeds(_ name: OversightProtocol) -> [Double] { outcomes.map { $0.accuracy[name.rawValue] ?? .nan } }
        protocols = OversightProtocol.allCases.map { ProtocolAccuracy(protocolName: $0, accuracy: Statistics.interval95(seeds($0))) }
        debateMinusConsultancy = Statistics.interval95(zip(seeds(.debate), seeds(.consultancy)).map { $0 - $1 })
        debateMinusBlind = Statistics.interval95(zip(seeds(.debate), seeds(.blind)).map { $0 - $1 })
        let accuracy = Dictionary(uniqueKeysWithValues: protocols.map { ($0.protocolName, $0.accuracy) })
        if let debate = accuracy[.debate], let consultancy = accuracy[.consultancy], let blind = accuracy[.blind] {
            // Separated intervals need at least two seeds (`Interval.separated(from:)`).
            targetMet = debateMinusConsultancy.mean >= 0.10 && debateMinusBlind.mean >= 0.20
                && debate.separated(from: consultancy) && debate.separated(from: blind) && debate.lower > consultancy.upper && debate.lower > blind.upper
        } else {
            targetMet = false
        }
    }
}

public enum DebateExperiment {
    /// A judge placeholder for building training transcripts (which need no verdicts).
    struct NoJudge: LanguageModel {
        let name = "none"
        func complete(_ request: CompletionRequest) async throws -> Completion { throw OversightError("no judge while building training transcripts") }
        func chat(_ request: ChatRequest) async throws -> Completion { throw OversightError("no judge while building training transcripts") }
        func score(prompt: String, completion: String) async throws -> Score { throw OversightError("no judge while building training transcripts") }
    }

    /// The judge's training data: each protocol's judge prompt of every task, asked in both option orders, completed by
    /// the letter the correct option has in that order (" (A)" or " (B)", the tokens ``OptionScoring`` scores).
    static func judgeExamples(_ tasks: [ReadingTask], settings: ProtocolSettings, policy: [any Arguer],
                              protocols: [OversightProtocol] = [.debate]) async throws -> [Example] {
        var examples: [Example] = []
        for protocolName in protocols {
            var settings = settings
            settings.protocolName = protocolName
            let builder = try ProtocolSession(settings: settings, taskIDs: tasks.map(\.id), arguers: policy, judge: NoJudge())
            for (index, task) in tasks.enumerated() {
                let turns = try await builder.arguments(task, index: index, judgeName: "none").turns
                for firstAsA in [true, false] {
                    let prompt = ProtocolPrompts.judge(task, protocolName: protocolName, firstAsA: firstAsA, transcript: turns, simultaneous: settings.simultaneous,
                                                          consultancySlots: settings.consultancySlots)
                    let answer = (task.correctOption == 0) == firstAsA ? ComparisonPrompts.optionA : ComparisonPrompts.optionB
                    examples.append(Example(.promptCompletion(prompt: .standard(prompt), completion: .standard(answer)), line: examples.count + 1))
                }
            }
        }
        return examples
    }

    /// Runs one seed in `folder` (the judge's folders and the protocols' transcripts).
    public static func run(_ configuration: DebateExperimentConfiguration, seed: UInt64, folder: URL,
                           log: @escaping @Sendable (String) -> Void = { _ in }) async throws -> DebateSeedOutcome {
        let started = Date()
        guard !(configuration.fabricatingLiar && configuration.supersededLiar) else {
            throw OversightError("fabricating_liar and superseded_liar are two different liars: set one of them")
        }
        guard (0...1).contains(configuration.supersededShare) else {
            throw OversightError("superseded_share is a probability between 0 and 1, got \(configuration.supersededShare)")
        }
        try? FileManager.default.removeItem(at: folder)
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let share = configuration.supersededLiar ? configuration.supersededShare : 0
        let precedence = configuration.precedence ?? .cyclic
        let training = ReadingTask.generate(seed: seed &* 1000 &+ 1, passages: configuration.trainingPassages, peopleCount: configuration.peopleCount,
                                            supersededShare: share, precedence: precedence)
        let test = ReadingTask.generate(seed: seed &* 1000 &+ 2, passages: configuration.testPassages, peopleCount: configuration.peopleCount,
                                        supersededShare: share, precedence: precedence)
        var settings = ProtocolSettings(protocolName: .debate)
        settings.rounds = configuration.rounds
        settings.simultaneous = configuration.simultaneous
        settings.consultancySlots = configuration.consultancySlots
        settings.seed = seed
        let policy: [any Arguer] = [QuotingArguer(liar: configuration.liar)]
        let examples = try await judgeExamples(training, settings: settings, policy: policy,
                                               protocols: configuration.trainOnConsultancy ? [.debate, .consultancy] : [.debate])
        guard configuration.judgeRestarts >= 1, configuration.validationPassages >= 1, (0...1).contains(configuration.restartAccuracy) else {
            throw OversightError("judge_restarts and validation_passages must be at least 1 and restart_accuracy between 0 and 1 (got \(configuration.judgeRestarts), \(configuration.validationPassages), \(configuration.restartAccuracy))")
        }
        let tokenizerTexts = examples.compactMap { example -> String? in
            if case let .promptCompletion(.standard(prompt), .standard(completion)) = example.body { return prompt + completion }
            return nil
        } + test.prefix(8).flatMap { task in [OversightProtocol.blind, .consultancy].map { ProtocolPrompts.judge(task, protocolName: $0, firstAsA: true, transcript: []) } }
        let protocolsTrained: [OversightProtocol] = configuration.trainOnConsultancy ? [.debate, .consultancy] : [.debate]
        let validation = configuration.judgeRestarts > 1
            ? try await judgeExamples(ReadingTask.generate(seed: seed &* 1000 &+ 3, passages: configuration.validationPassages, peopleCount: configuration.peopleCount,
                                                           supersededShare: share, precedence: precedence),
                                      settings: settings, policy: policy, protocols: protocolsTrained)
            : []
        var attempts: [DebateSeedOutcome.JudgeAttempt] = []
        var kept: (folder: URL, losses: [Double])?
        for attempt in 0..<max(1, configuration.judgeRestarts) {
            // The first judge is the one a run without restarts trains.
            let attemptSeed = attempt == 0 ? seed : seed &+ UInt64(attempt) &* 7_919
            let suffix = attempt == 0 ? "" : "-\(attempt + 1)"
            let initial = folder.appendingPathComponent("judge-initial" + suffix)
            try InitialModel(vocabularySize: configuration.vocabularySize, hiddenSize: configuration.judge.hiddenSize,
                             intermediateSize: 4 * configuration.judge.hiddenSize, layerCount: configuration.judge.layerCount,
                             headCount: configuration.judge.headCount, contextLength: 1024).write(texts: tokenizerTexts, seed: attemptSeed, to: initial)
            log("seed \(seed): training the judge (\(configuration.judge.text)) for \(configuration.steps) steps on \(examples.count) judgements"
                + (configuration.judgeRestarts > 1 ? " (judge \(attempt + 1) of at most \(configuration.judgeRestarts))" : ""))
            var sft = SFTConfiguration()
            let judgeFolder = folder.appendingPathComponent("judge" + suffix)
            sft.training = .constantRate(output: judgeFolder, steps: configuration.steps, batchSize: configuration.batchSize,
                                         learningRate: configuration.learningRate, seed: attemptSeed)
            sft.completionOnlyLoss = !configuration.lossOnPrompts
            let trainer = try SFTTrainer(configuration: sft, policy: try TrainableModel(directory: initial),
                                         encoder: try ExampleEncoder.load(directory: initial), train: examples)
            let summary = try TrainingLoop(arguments: sft.training).run(trainer)
            let losses = summary.history.compactMap { $0["loss"] }
            log("seed \(seed): judge loss \(losses.first.map { String(format: "%.3f", $0) } ?? "?") → \(losses.last.map { String(format: "%.3f", $0) } ?? "?")")
            guard configuration.judgeRestarts > 1 else {
                kept = (judgeFolder, losses)
                break
            }
            let accuracy = try await validationAccuracy(try LocalLanguageModel.load(directory: judgeFolder), examples: validation)
            log("seed \(seed): judge \(attempt + 1) validation accuracy \(String(format: "%.1f%%", 100 * accuracy))")
            let best = attempts.map(\.validationAccuracy).max() ?? -1
            if accuracy > best {
                for index in attempts.indices { attempts[index].kept = false }
                kept = (judgeFolder, losses)
            }
            attempts.append(.init(seed: attemptSeed, firstLoss: losses.first, finalLoss: losses.last, validationAccuracy: accuracy, kept: accuracy > best))
            if accuracy >= configuration.restartAccuracy { break }
        }
        guard let (judgeFolder, losses) = kept else { throw OversightError("no judge was trained") }
        let judge = try LocalLanguageModel.load(directory: judgeFolder)
        let protocols = folder.appendingPathComponent("protocols")
        for protocolName in OversightProtocol.allCases {
            var protocolSettings = settings
            protocolSettings.protocolName = protocolName
            let session = try ProtocolSession(settings: protocolSettings, taskIDs: test.map(\.id), arguers: policy, judge: judge)
            _ = try await OversightRun.run(test, taskFile: nil, session: session, directory: protocols,
                                           options: RunOptions(concurrency: 1, retries: 0, retryDelay: 0, showProgress: false))
        }
        let results = try OversightRun.summarise(directory: protocols, samples: configuration.bootstrapSamples, seed: seed)
        let transcripts = try OversightRun.transcripts(in: protocols)
        let shown = [transcripts[.debate]?.first, transcripts[.consultancy]?.first { $0.honestConsultant == false }, transcripts[.blind]?.first]
            .compactMap { $0 }.map(OversightReport.example)
        var accuracy: [String: Double] = [:]
        for summary in results.protocols { accuracy[summary.protocolName.rawValue] = summary.accuracy.mean }
        log("seed \(seed): judge accuracy " + OversightProtocol.allCases.map { "\($0.rawValue) \(String(format: "%.1f%%", 100 * (accuracy[$0.rawValue] ?? .nan)))" }.joined(separator: ", "))
        let debates = transcripts[.debate] ?? []
        func meanScore(_ records: [ProtocolTranscript]) -> Double? { records.isEmpty ? nil : records.map(\.final.score).reduce(0, +) / Double(records.count) }
        let bothVerified = debates.filter { record in record.turns.allSatisfy { turn in !turn.quotes.isEmpty && turn.quotes.allSatisfy(\.verified) } }
        let oneVerified = debates.filter { record in !bothVerified.contains { $0.id == record.id } }
        return DebateSeedOutcome(seed: seed, accuracy: accuracy, trainingExamples: examples.count, testTasks: test.count, firstLoss: losses.first,
                                 finalLoss: losses.last, seconds: Date().timeIntervalSince(started), results: results, examples: shown,
                                 debateBothVerified: meanScore(bothVerified), debateOneVerified: meanScore(oneVerified),
                                 judgeAttempts: configuration.judgeRestarts > 1 ? attempts : nil)
    }

    /// Share of judge prompts whose trained letter has the higher log-probability.
    static func validationAccuracy(_ judge: LocalLanguageModel, examples: [Example]) async throws -> Double {
        var correct = 0, total = 0
        for example in examples {
            guard case let .promptCompletion(.standard(prompt), .standard(answer)) = example.body else { continue }
            let other = answer == ComparisonPrompts.optionA ? ComparisonPrompts.optionB : ComparisonPrompts.optionA
            let right = try await judge.score(prompt: prompt, completion: answer).totalLogProbability
            let wrong = try await judge.score(prompt: prompt, completion: other).totalLogProbability
            total += 1
            if right > wrong { correct += 1 }
        }
        return total == 0 ? 0 : Double(correct) / Double(total)
    }
}
