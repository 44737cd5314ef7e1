import ArgumentParser
import Foundation
import Oversight

/// `charter experiment debate`: debate, consultancy and blind judging with a small trained judge, against ground truth.
struct DebateExperimentCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "debate",
        abstract: "Debate vs consultancy vs blind judging: a small judge trained on debate transcripts of generated reading tasks.",
        discussion: """
            Per seed: generates reading tasks, trains a tiny Llama judge from scratch on debate transcripts (debaters \
            follow a fixed quoting policy; quotes are verified against the hidden passage), then runs blind, \
            consultancy and debate on held-out tasks through the same protocol code as `charter oversee`. Writes \
            runs/<name>/results.json (per-protocol accuracy, 95% t-intervals over seeds, paired differences), \
            report.html and each seed's transcripts and report under seed-N/protocols.
            """)

    @Option(help: "Run name (folder under runs/).") var name = "debate"
    @Option(help: "First seed.") var seed: UInt64 = 1
    @Option(help: "Number of seeds (seed, seed+1, …).") var seeds = 3
    @Flag(help: "The test suite's smaller configuration.") var reduced = false
    @Flag(help: "No per-stage progress lines.") var quiet = false
    @Flag(help: "Rewrite report.html from runs/<name>/results.json without training or judging anything.") var reportOnly = false
    @Option(help: "Kernel threads.") var threads: Int?
    @Option(help: "Judge training steps (default 300; reduced 40).") var steps: Int?
    @Option(help: "Rounds of argument (default 1).") var rounds: Int?
    @Option(help: "Judge layers (default 2; reduced 1).") var judgeLayers: Int?
    @Option(help: "Judge width, a multiple of 16 (default 64; reduced 32); heads = width / 16.") var judgeWidth: Int?
    @Option(help: "Passages of training tasks, three questions each (default 160; reduced 40).") var trainingPassages: Int?
    @Option(help: "Judge learning rate (default 2e-3).") var learningRate: Float?
    @Flag(help: "Sequential debates shown to the judge in speaking order (a random opening) instead of simultaneous ones in letter order.") var sequential = false
    @Flag(help: "The judge's loss also covers its prompts (next-token prediction on the transcripts it reads), not only the answer.") var lossOnPrompts = false
    @Flag(help: "The judge also trains on consultancy transcripts of the training tasks, not only on debates.") var trainOnConsultancy = false
    @Flag(help: "The false side makes up a quote about the right person (unverified) instead of quoting a true sentence about someone else.") var fabricatingLiar = false
    @Flag(help: "Passages state a share of facts twice, a source and the source that corrects it; the false side quotes the superseded statement (verified) and fabricates where there is none.") var supersededLiar = false
    @Option(help: "With --superseded-liar: the share of facts stated twice (default 0.667).") var supersededShare: Double?
    @Option(help: "With --superseded-liar: which source corrects which — cyclic (default: the ledger corrects a letter, a neighbour the ledger, a letter a neighbour) or linear (a later record corrects an earlier one; a neighbour is never corrected).") var precedence: ReadingTask.Precedence?
    @Option(help: "Judges trained per seed at most, each from its own initialisation; the one most accurate on validation tasks (fresh training-distribution tasks, never the test tasks) is kept, and training stops at the first that reaches 95% there (default 1).") var judgeRestarts: Int?
    @Flag(help: "The judge reads a consultancy in letter-ordered slots as a simultaneous debate (\"Consultant for (A): (no argument)\"), not under the consultant's letter alone.") var consultancySlots = false

    func validate() throws {
        try ExperimentConsole.validate(name: name, seeds: seeds, threads: threads)
        if fabricatingLiar && supersededLiar { throw ValidationError("--fabricating-liar and --superseded-liar are two different liars: pass one") }
        if let supersededShare {
            guard supersededLiar else { throw ValidationError("--superseded-share needs --superseded-liar") }
            guard (0...1).contains(supersededShare) else { throw ValidationError("--superseded-share must be between 0 and 1 (got \(supersededShare))") }
        }
        if precedence != nil && !supersededLiar { throw ValidationError("--precedence needs --superseded-liar") }
        if let learningRate, !(learningRate > 0) { throw ValidationError("--learning-rate must be positive (got \(learningRate))") }
        if let judgeWidth, judgeWidth < 16 || judgeWidth % 16 != 0 { throw ValidationError("--judge-width must be a positive multiple of 16 (got \(judgeWidth))") }
        for (option, value) in [("--steps", steps), ("--rounds", rounds), ("--judge-layers", judgeLayers), ("--training-passages", trainingPassages), ("--judge-restarts", judgeRestarts)] {
            if let value, value < 1 { throw ValidationError("\(option) must be at least 1 (got \(value))") }
        }
    }

    func run() throws {
        if reportOnly {
            return try ExperimentConsole.rewriteReport(DebateExperimentResults.self, directory: URL(fileURLWithPath: "runs/\(name)"),
                                                       write: { try DebateExperimentReport.write($0, to: $1) },
                                                       summary: { DebateExperimentReport.summary($0).joined(separator: "\n") })
        }
        ExperimentConsole.start(threads: threads, quiet: quiet)
        var configuration: DebateExperimentConfiguration = reduced ? .reduced : DebateExperimentConfiguration()
        if let steps { configuration.steps = steps }
        if let rounds { configuration.rounds = rounds }
        if let judgeLayers { configuration.judge.layerCount = judgeLayers }
        if let judgeWidth { configuration.judge.hiddenSize = judgeWidth; configuration.judge.headCount = judgeWidth / 16 }
        if let trainingPassages { configuration.trainingPassages = trainingPassages }
        if let learningRate { configuration.learningRate = learningRate }
        if fabricatingLiar { configuration.fabricatingLiar = true }
        if supersededLiar { configuration.supersededLiar = true }
        if let supersededShare { configuration.supersededShare = supersededShare }
        if let precedence { configuration.precedence = precedence }
        if consultancySlots { configuration.consultancySlots = true }
        if let judgeRestarts { configuration.judgeRestarts = judgeRestarts }
        if sequential { configuration.simultaneous = false }
        if lossOnPrompts { configuration.lossOnPrompts = true }
        if trainOnConsultancy { configuration.trainOnConsultancy = true }
        let directory = URL(fileURLWithPath: "runs/\(name)")
        let settings = configuration
        let outcomes = try ExperimentConsole.eachSeed(from: seed, count: seeds, directory: directory, quiet: quiet) { seed, folder, log in
            try waitFor { try await DebateExperiment.run(settings, seed: seed, folder: folder, log: log) }
        }
        let results = DebateExperimentResults(configuration: configuration, outcomes: outcomes)
        try DebateExperimentReport.write(results, to: directory)
        DebateExperimentReport.summary(results).forEach { print($0) }
        ExperimentConsole.printFiles(directory)
    }
}
extension ReadingTask.Precedence: ExpressibleByArgument {}
