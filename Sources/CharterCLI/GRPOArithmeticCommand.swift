import ArgumentParser
import Experiments
import Foundation

/// `charter experiment grpo-arithmetic`: does GRPO with the exact-match reward raise held-out accuracy on sums?
struct GRPOArithmeticCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "grpo-arithmetic",
        abstract: "GRPO with an exact-match reward on generated sums: held-out accuracy before and after, against an SFT control.",
        discussion: """
            Per seed: generates the sums a + b (operands below 20), holds 100 out, trains a tiny Llama from scratch with a \
            short SFT on the rest, runs GRPO with the exact-match reward on the training sums, and measures greedy \
            exact match on the held-out sums after SFT, after GRPO, and after as many further SFT steps (the control). \
            Writes runs/<name>/results.json (95% t-intervals over seeds) and report.html, and each seed's model folders.
            """)

    @Option(help: "Run name (folder under runs/).") var name = "grpo-arithmetic"
    @Option(help: "First seed.") var seed: UInt64 = 1
    @Option(help: "Number of seeds (seed, seed+1, …).") var seeds = 3
    @Flag(help: "A smaller configuration (operands below 10, fewer steps).") var reduced = false
    @Flag(help: "No per-stage progress lines.") var quiet = false
    @Option(help: "Kernel threads.") var threads: Int?
    @Option(help: "SFT steps before GRPO (default 300; reduced 60).") var sftSteps: Int?
    @Option(help: "GRPO iterations (default 120; reduced 10).") var grpoSteps: Int?
    @Option(help: "GRPO learning rate (default 1e-4).") var grpoLearningRate: Float?
    @Option(help: "Prompts per GRPO iteration (default 4).") var grpoPrompts: Int?

    func validate() throws {
        try ExperimentConsole.validate(name: name, seeds: seeds, threads: threads)
        for (option, value) in [("--sft-steps", sftSteps), ("--grpo-steps", grpoSteps), ("--grpo-prompts", grpoPrompts)] {
            if let value, value < 1 { throw ValidationError("\(option) must be at least 1 (got \(value))") }
        }
        if let grpoLearningRate, !(grpoLearningRate > 0 && grpoLearningRate.isFinite) {
            throw ValidationError("--grpo-learning-rate must be a positive number (got \(grpoLearningRate))")
        }
    }

    func run() throws {
        ExperimentConsole.start(threads: threads, quiet: quiet)
        var configuration: GRPOArithmeticConfiguration = reduced ? .reduced : GRPOArithmeticConfiguration()
        if let sftSteps { configuration.sftSteps = sftSteps }
        if let grpoSteps { configuration.grpoSteps = grpoSteps }
        if let grpoLearningRate { configuration.grpoLearningRate = grpoLearningRate }
        if let grpoPrompts { configuration.grpoPrompts = grpoPrompts }
        let directory = URL(fileURLWithPath: "runs/\(name)")
        let outcomes = try ExperimentConsole.eachSeed(from: seed, count: seeds, directory: directory, quiet: quiet) { seed, folder, log in
            try GRPOArithmetic.run(configuration, seed: seed, folder: folder, log: log)
        }
        let results = GRPOArithmeticResults(configuration: configuration, seeds: outcomes)
        try GRPOArithmeticReport.write(results, to: directory)
        print("held-out exact match: SFT \(GRPOArithmeticReport.interval(results.accuracyAfterSFT)), "
              + "GRPO \(GRPOArithmeticReport.interval(results.accuracyAfterGRPO)), "
              + "SFT control \(GRPOArithmeticReport.interval(results.accuracyAfterSFTControl)); "
              + "GRPO − SFT \(GRPOArithmeticReport.interval(results.gainOverSFT))")
        ExperimentConsole.printFiles(directory)
    }
}
