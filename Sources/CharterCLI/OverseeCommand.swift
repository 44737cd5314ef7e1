import ArgumentParser
import Constitutional
import Foundation
import JSON
import LanguageModels
import Oversight
import Pipelines
import Runtime
import Tensors

/// `charter oversee …`: scalable-oversight protocols over hidden-passage reading tasks (Khan et al. 2024).
struct OverseeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "oversee",
        abstract: "Debate, consultancy and blind judging on reading tasks whose passage only the debaters see, scored against ground truth.",
        discussion: """
        Run each protocol on one task file into one --output folder: every run appends its transcripts to \
        <output>/<protocol>.jsonl (resumable: re-running skips finished tasks) and rewrites results.json and \
        report.html there from every protocol's transcripts, so the page compares the protocols. Task files: Charter's \
        reading-task JSONL (id, passage, question, two options, 0-based correct_option; `charter oversee generate` \
        writes them) or QuALITY's JSONL (article, questions, options, 1-based gold_label; two options are kept: the \
        gold one and the best distractor). Models: a model folder runs locally; a file is an \
        endpoints file for OpenAI-compatible servers, as `charter label` takes them.
        """,
        subcommands: [DebateProtocolCommand.self, ConsultancyProtocolCommand.self, BlindProtocolCommand.self, DecomposeCommand.self, GenerateReadingTasksCommand.self])
}

/// Flags every protocol takes.
struct ProtocolOptions: ParsableArguments {
    @Option(help: "Reading tasks (.jsonl): Charter's format or QuALITY's.") var task: String
    @Option(help: "The judge: a model folder or an endpoints file. It never sees the passage.") var judge: String
    @Option(help: "Folder for <protocol>.jsonl transcripts, results.json and report.html (shared by the protocols compared).") var output: String
    @Option(help: "Seed of the consultants' assignments, who opens each debate and the argument sampling.") var seed: UInt64 = 0
    @Option(help: "Most tokens per argument.") var maxTokens = 96
    @Option(help: "Temperature of the arguments (0: greedy).") var temperature: Float = 0
    @Flag(help: "Ask the judge in one option order only (no position-bias cancelling).") var singleOrder = false
    @Option(help: "Bootstrap resamples of the tasks for the intervals.") var bootstrap = 1000
    @Option(help: "A built-in chat template family for local folders without one (only the judge's scoring and completions are used).") var chatTemplate: String?
    @Option(help: "Kernel threads for local models (default: CHARTER_THREADS or every core).") var threads: Int?
    @OptionGroup var runFlags: RunFlags

    func settings(_ protocolName: OversightProtocol, rounds: Int, simultaneous: Bool, consultancySlots: Bool = false) -> ProtocolSettings {
        var settings = ProtocolSettings(protocolName: protocolName)
        settings.rounds = rounds
        settings.simultaneous = simultaneous
        settings.consultancySlots = consultancySlots
        settings.seed = seed
        settings.argument = SamplingOptions(maximumTokens: maxTokens, temperature: temperature)
        settings.bothOrders = !singleOrder
        return settings
    }

    /// Runs `protocolName` with `debaters`, then summarises the folder.
    func run(_ protocolName: OversightProtocol, debaters paths: [String], rounds: Int, simultaneous: Bool, consultancySlots: Bool = false) throws {
        guard maxTokens >= 1 else { throw CommandError("--max-tokens must be at least 1, got \(maxTokens)") }
        guard bootstrap >= 0 else { throw CommandError("--bootstrap must be at least 0, got \(bootstrap)") }
        if let threads { ComputeThreads.count = threads }
        let taskURL = URL(fileURLWithPath: task), directory = URL(fileURLWithPath: output)
        let tasks = try ReadingTask.load(contentsOf: taskURL)
        // One load per distinct path: the judge and the debaters are often the same model.
        var loaded: [String: any LanguageModel] = [:]
        func model(_ path: String, flag: String) throws -> any LanguageModel {
            if let model = loaded[path] { return model }
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
                throw CommandError("\(flag) \(path): no such folder or file (give a model folder or an endpoints file)")
            }
                        guard let model = try makeLanguageModels(isDirectory.boolValue ? .local(path: path, chatTemplate: chatTemplate, lora: nil) : .endpoints(configuration: path)).first else {
                throw CommandError("\(flag) \(path) gave no model")
            }
            loaded[path] = model
            return model
        }
        let judgeModel = try model(judge, flag: "--judge")
        let debaterModels = try paths.map { try model($0, flag: "--debaters") }
        let session = try ProtocolSession(settings: settings(protocolName, rounds: rounds, simultaneous: simultaneous, consultancySlots: consultancySlots),
                                          taskIDs: tasks.map(\.id), debaters: debaterModels, judge: judgeModel)
        let transcripts = OversightRun.transcriptsURL(in: directory, protocolName)
        try runFlags.prepare(transcripts)
        let options = runFlags.options
        let report = try waitFor {
            try await OversightRun.run(tasks, taskFile: taskURL, session: session, directory: directory, options: options)
        }
        print("\(protocolName.rawValue): \(report.summary); transcripts in \(transcripts.path)")
        let results = try OversightRun.summarise(directory: directory, samples: bootstrap, seed: seed)
        for line in OversightReport.summary(results) { print(line) }
        print("results: \(directory.appendingPathComponent("results.json").path), report: \(directory.appendingPathComponent("report.html").path)")
        try exitIfItemsFailed([(report, transcripts, "tasks")])
    }
}

/// Loads `--judge`/`--debaters`/`--model` paths: a folder runs locally, a file is an endpoints file; one load per
/// distinct path (the judge and the debaters are often the same model).
struct OverseeModels {
    let chatTemplate: String?
    var loaded: [String: any LanguageModel] = [:]

    init(chatTemplate: String?) { self.chatTemplate = chatTemplate }

    mutating func model(_ path: String, flag: String) throws -> any LanguageModel {
        if let model = loaded[path] { return model }
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw CommandError("\(flag) \(path): no such folder or file (give a model folder or an endpoints file)")
        }
        guard let model = try makeLanguageModels(isDirectory.boolValue ? .local(path: path, chatTemplate: chatTemplate, lora: nil) : .endpoints(configuration: path)).first else {
            throw CommandError("\(flag) \(path) gave no model")
        }
        loaded[path] = model
        return model
    }
}

struct DebateProtocolCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "debate",
        abstract: "Two debaters who read the passage argue for the two answers over --rounds rounds; the judge answers after each round.",
        discussion: """
        With one --debaters model it debates itself; with several, task n pits model n mod k (correct side) against \
        model ⌊n/k⌋ mod k (incorrect side), so every pairing occurs on both sides. Who opens each round is seeded per \
        task. Sequential by default (the second debater answers the first's argument of the same round); \
        --simultaneous shows each debater only the earlier rounds.
        """)
    @OptionGroup var common: ProtocolOptions
    @Option(parsing: .upToNextOption, help: "Debater models (folders or endpoints files; one or more).") var debaters: [String]
    @Option(help: "Rounds of arguments.") var rounds = 3
    @Flag(help: "Both debaters write each round without seeing the other's argument of that round.") var simultaneous = false

    func run() throws { try common.run(.debate, debaters: debaters, rounds: rounds, simultaneous: simultaneous) }
}

struct ConsultancyProtocolCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "consultancy",
        abstract: "One consultant who read the passage argues for an assigned answer (the correct one for half the tasks, seeded) over --rounds turns.")
    @OptionGroup var common: ProtocolOptions
    @Option(parsing: .upToNextOption, help: "Consultant models (used in turn over the tasks).") var debaters: [String]
    @Option(help: "Turns of argument.") var rounds = 3
    @Flag(help: "The judge reads each turn in the slot of the option argued for, both options' slots in letter order as in a simultaneous debate (\"Consultant for (A): (no argument)\").") var slots = false

    func run() throws { try common.run(.consultancy, debaters: debaters, rounds: rounds, simultaneous: false, consultancySlots: slots) }
}

struct BlindProtocolCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "blind",
        abstract: "The judge answers from the question and the options alone: the baseline the protocols must beat.")
    @OptionGroup var common: ProtocolOptions

    func run() throws { try common.run(.blind, debaters: [], rounds: 0, simultaneous: false) }
}

struct DecomposeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "decompose",
        abstract: "Answer multi-step questions by decomposition (sub-questions answered by separate calls, then composed) and directly; compare.",
        discussion: """
        Tasks: JSONL with id, passage, question, two options, 0-based correct_option and optionally steps (the         reference sub-questions with answers: [{"question", "answer"}]); `charter oversee generate --multi-step`         writes them. --model answers directly (from the passage), answers each sub-question (a separate call that         reads the passage and the earlier sub-answers) and composes (a call that reads only the sub-answers);         --decomposer (default: --model) lists the sub-questions. With reference steps the same is done with them         too. Writes <output>/decompose.jsonl (resumable) and adds a section to results.json and report.html.
        """)
    @Option(help: "Multi-step tasks (.jsonl).") var task: String
    @Option(help: "The model that answers (a model folder or an endpoints file).") var model: String
    @Option(help: "The model that lists sub-questions (default: --model).") var decomposer: String?
    @Option(help: "Folder for decompose.jsonl, results.json and report.html.") var output: String
    @Option(help: "Most sub-questions kept.") var maxSubquestions = 4
    @Option(help: "Seed of the sampling.") var seed: UInt64 = 0
    @Option(help: "Temperature of the decomposition and the sub-answers (0: greedy).") var temperature: Float = 0
    @Flag(help: "Ask each two-option answer in one order only.") var singleOrder = false
    @Option(help: "Bootstrap resamples of the tasks for the intervals.") var bootstrap = 1000
    @Option(help: "A built-in chat template family for local folders without one.") var chatTemplate: String?
    @Option(help: "Kernel threads for local models (default: CHARTER_THREADS or every core).") var threads: Int?
    @OptionGroup var runFlags: RunFlags

    func run() throws {
        guard bootstrap >= 0 else { throw CommandError("--bootstrap must be at least 0, got \(bootstrap)") }
        if let threads { ComputeThreads.count = threads }
        let taskURL = URL(fileURLWithPath: task), directory = URL(fileURLWithPath: output)
        let tasks = try Stages.readRecords(MultiStepTask.self, from: taskURL)
        guard !tasks.isEmpty else { throw CommandError("\(task): no tasks") }
        guard Set(tasks.map(\.id)).count == tasks.count else { throw CommandError("\(task): task ids must be unique (the output is resumed by id)") }
        var loader = OverseeModels(chatTemplate: chatTemplate)
        let answerer = try loader.model(model, flag: "--model")
        let decomposerModel = try decomposer.map { try loader.model($0, flag: "--decomposer") } ?? answerer
        var settings = DecompositionSettings()
        settings.maximumSubquestions = maxSubquestions
        settings.seed = seed
        settings.decomposition.temperature = temperature
        settings.answer.temperature = temperature
        settings.bothOrders = !singleOrder
        let session = try DecompositionSession(settings: settings, decomposer: decomposerModel, model: answerer)
        let records = OversightRun.decompositionsURL(in: directory)
        try runFlags.prepare(records)
        let options = runFlags.options
        let report = try waitFor { try await OversightRun.run(tasks, taskFile: taskURL, session: session, directory: directory, options: options) }
        print("decompose: \(report.summary); records in \(records.path)")
        let results = try OversightRun.summarise(directory: directory, samples: bootstrap, seed: seed)
        for line in OversightReport.summary(results) { print(line) }
        print("results: \(directory.appendingPathComponent("results.json").path), report: \(directory.appendingPathComponent("report.html").path)")
        try exitIfItemsFailed([(report, records, "tasks")])
    }
}

struct GenerateReadingTasksCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "generate",
        abstract: "Write seeded reading tasks with ground truth: passages about invented people, two-option questions whose distractor is in the passage too.",
        discussion: "--multi-step writes two-hop questions for `charter oversee decompose` (\"Which pet does the person who lives in Elmford keep?\") with their reference sub-questions.")
    @Option(help: "Passages to generate.") var passages = 20
    @Option(help: "People per passage (each has a home town, a job and a pet).") var people = 6
    @Option(help: "Questions per passage.") var questions = 3
    @Option(help: "Seed.") var seed: UInt64 = 0
    @Flag(help: "Two-hop questions with reference sub-questions (for decompose).") var multiStep = false
    @Option(help: "Share of facts stated twice, by a source and the source that corrects it; questions about them have the superseded value as distractor (default 0: one plain statement per fact).") var supersededShare: Double = 0
    @Option(help: "With --superseded-share: which source corrects which — cyclic (default) or linear (a later record corrects an earlier one).") var precedence: ReadingTask.Precedence = .cyclic
    @Option(help: "The tasks file to write (.jsonl).") var output: String

    func run() throws {
        guard passages >= 1, people >= 2, questions >= 1 else { throw CommandError("need --passages ≥ 1, --people ≥ 2 and --questions ≥ 1") }
        guard (0...1).contains(supersededShare) else { throw CommandError("--superseded-share must be between 0 and 1, got \(supersededShare)") }
        guard supersededShare == 0 || !multiStep else { throw CommandError("--superseded-share applies to reading tasks, not to --multi-step ones") }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let lines = multiStep
            ? try MultiStepTask.generate(seed: seed, passages: passages, peopleCount: people, questionsPerPassage: questions).map { try encoder.encode($0) }
            : try ReadingTask.generate(seed: seed, passages: passages, peopleCount: people, questionsPerPassage: questions,
                                       supersededShare: supersededShare, precedence: precedence).map { try encoder.encode($0) }
        try AtomicFile.write(Data(lines.map { String(decoding: $0, as: UTF8.self) + "\n" }.joined().utf8), to: URL(fileURLWithPath: output))
        print("\(lines.count) tasks in \(output)")
    }
}
