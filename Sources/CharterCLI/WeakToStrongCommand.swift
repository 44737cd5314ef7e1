import ArgumentParser
import Foundation
import Oversight

/// `charter experiment weak-to-strong`: Burns et al. 2023's weak-to-strong generalisation, with ground truth.
struct WeakToStrongCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "weak-to-strong",
        abstract: "Weak-to-strong generalisation: a strong model trained on a weak model's labels, with and without the confidence loss.",
        discussion: """
            Per seed and task (toy-world harmfulness classification; reward modelling on response pairs the world's \
            judge ranks): fine-tunes a small model on the ground truth of the world's training intents, lets it label \
            a held-out set of every intent, fine-tunes a bigger model (first pretrained by next-token prediction on \
            world dialogues) on those labels with cross-entropy and with Burns et al.'s auxiliary confidence loss, \
            and the bigger model on the held-out ground truth (the ceiling). Reports test accuracies and PGR = (w2s − weak) / \
            (ceiling − weak). Writes runs/<name>/results.json (95% t-intervals over seeds), report.html and each \
            seed's model folders.
            """)

    @Option(help: "Run name (folder under runs/).") var name = "weak-to-strong"
    @Option(help: "First seed.") var seed: UInt64 = 1
    @Option(help: "Number of seeds (seed, seed+1, …).") var seeds = 3
    @Option(help: "Tasks, comma-separated: harmfulness, reward-modelling (default both).") var tasks: String?
    @Flag(help: "The test suite's smaller configuration (3 examples per intent, 30 steps, 20 pretraining steps, a narrower strong model).") var reduced = false
    @Flag(help: "No per-stage progress lines.") var quiet = false
    @Option(help: "Kernel threads.") var threads: Int?
    @Option(help: "Optimizer steps of every fine-tuning run (default 40; reduced 30).") var steps: Int?
    @Option(help: "Examples of every intent in each split (default 8; reduced 3).") var perIntent: Int?
    @Option(help: "α_max of the confidence loss (default 0.75).") var maximumAlpha: Double?
    @Flag(help: "Start every classifier's head at random values instead of zero (Burns et al. start it at zero; runs before 2026-12-06 used a random head).") var randomHead = false

    @Flag(help: "Train only the strong students' and the ceiling's linear head, on the pretrained model's frozen features (a linear probe); the weak supervisor is still fine-tuned whole.") var headOnly = false
    @Option(help: "Next-token pretraining steps of the strong model before fine-tuning (default 300; reduced 20).") var strongPretrainingSteps: Int?
    @Option(help: "Learning rate of every whole-model fine-tuning run (default 0.001).") var learningRate: Float?
    @Option(help: "Learning rate of the head-only runs (--head-only; default 0.01).") var headLearningRate: Float?

    func validate() throws {
        try ExperimentConsole.validate(name: name, seeds: seeds, threads: threads)
        for (option, value) in [("--steps", steps), ("--per-intent", perIntent)] {
            if let value, value < 1 { throw ValidationError("\(option) must be at least 1 (got \(value))") }
        }
        if let strongPretrainingSteps, strongPretrainingSteps < 0 { throw ValidationError("--strong-pretraining-steps must be at least 0 (got \(strongPretrainingSteps))") }
        for (option, value) in [("--learning-rate", learningRate), ("--head-learning-rate", headLearningRate)] {
            if let value, !(value > 0) { throw ValidationError("\(option) must be above 0 (got \(value))") }
        }
        if let maximumAlpha, !(0...1).contains(maximumAlpha) { throw ValidationError("--maximum-alpha must be in [0, 1] (got \(maximumAlpha))") }
        _ = try parsedTasks()
    }

    func parsedTasks() throws -> [WeakToStrongTask]? {
        guard let tasks else { return nil }
        return try tasks.split(separator: ",").map { name in
            guard let task = WeakToStrongTask(rawValue: name.trimmingCharacters(in: .whitespaces)) else {
                throw ValidationError("--tasks: unknown task \"\(name)\"; the tasks are \(WeakToStrongTask.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            return task
        }
    }

    func run() throws {
        ExperimentConsole.start(threads: threads, quiet: quiet)
        var configuration: WeakToStrongConfiguration = reduced ? .reduced : WeakToStrongConfiguration()
        if let steps { configuration.steps = steps }
        if let perIntent { configuration.perIntent = perIntent }
        if let maximumAlpha { configuration.maximumAlpha = maximumAlpha }
        if randomHead { configuration.zeroInitialisedHead = false }
        if headOnly { configuration.headOnlyStudents = true }
        if let strongPretrainingSteps { configuration.strongPretrainingSteps = strongPretrainingSteps }
        if let learningRate { configuration.learningRate = learningRate }
        if let headLearningRate { configuration.headLearningRate = headLearningRate }
        if let tasks = try parsedTasks() { configuration.tasks = tasks }
        let directory = URL(fileURLWithPath: "runs/\(name)")
        let log = ExperimentConsole.logger(quiet: quiet)
        var outcomes: [WeakToStrongOutcome] = []
        for task in configuration.tasks {
            for offset in 0..<seeds {
                let current = seed + UInt64(offset)
                outcomes.append(try WeakToStrong.run(configuration, task: task, seed: current,
                                                     folder: directory.appendingPathComponent("\(task.rawValue)/seed-\(current)"), log: log))
            }
        }
        let results = WeakToStrongResults(configuration: configuration, outcomes: outcomes)
        try WeakToStrongReport.write(results, to: directory)
        WeakToStrongReport.summary(results).forEach { print($0) }
        ExperimentConsole.printFiles(directory)
    }
}
