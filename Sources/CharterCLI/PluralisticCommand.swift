import ArgumentParser
import Experiments
import Foundation

extension PluralisticInContext.Design: ExpressibleByArgument {}

/// `charter experiment pluralistic`: reward heads per group combined by weights or MaxMin, against a pooled reward model.
struct PluralisticCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pluralistic",
        abstract: "Pluralistic rewards: a reward head per group, combined by the user's weights or by MaxMin (Chakraborty et al. 2024), against one pooled reward model.",
        discussion: """
            Per seed: the frontier experiment's review language and reference model; pairs labelled by two groups \
            (enthusiasts want glowing reviews, factual readers want none of the hype); a reward head per group \
            (charter reward --head) and a pooled reward model trained on a crowd that is --majority-share enthusiasts; \
            best-of-n on held-out prompts selected by weighted heads (factual weight 0 … 1), MaxMin and the pooled model, \
            scored by both groups' ground truth, with 95% t-intervals over seeds. The in-context alternative (on unless \
            --no-in-context): the reference taught once to read a line before the prompt (reward-conditioned SFT, \
            --in-context-steps) — by default "crowd: EEEF" (factual weight 0.25) with the reference samples the weighted \
            heads rank highest as targets; --in-context-design labels: "weights: enthusiast 0.75, factual 0.25" with one \
            decider's label per pair — then sampled with each weight in its prompt and no reward model. Writes \
            runs/<name>/results.json and report.html.
            """)

    @Option(help: "Run name (folder under runs/).") var name = "pluralistic"
    @Option(help: "First seed.") var seed: UInt64 = 1
    @Option(help: "Number of seeds (seed, seed+1, …).") var seeds = 3
    @Flag(help: "A smaller configuration (for a quick look).") var reduced = false
    @Flag(help: "No per-stage progress lines.") var quiet = false
    @Option(help: "Kernel threads.") var threads: Int?
    @Option(help: "Sampled pairs per training prompt, labelled by each group (default 4).") var pairsPerPrompt: Int?
    @Option(help: "Share of the pooled model's labels given by enthusiasts (default 0.8).") var majorityShare: Double?
    @Option(help: "Best-of-n pool per held-out prompt (default 64).") var samplesPerPrompt: Int?
    @Option(name: .customLong("n"), help: "n of the best-of-n selection (default 16).") var selectionN: Int?
    @Flag(inversion: .prefixedNo, help: "Train and measure the in-context policy that reads the weights from its prompt.") var inContext = true
    @Option(help: "SFT steps that teach the in-context policy to read the weight line (default 1200; --reduced: 60).") var inContextSteps: Int?
    @Option(help: "The in-context policy's targets: heads (reference samples ranked by the weighted heads, after the crowd line) or labels (one decider's label per pair, after the digit line). (default: heads)")
    var inContextDesign: PluralisticInContext.Design?
    @Flag(help: "Only rewrite report.html and print the claims from runs/<name>/results.json (no training).") var reportOnly = false

    func makeConfiguration() throws -> PluralisticConfiguration {
        var c: PluralisticConfiguration = reduced ? .reduced : PluralisticConfiguration()
        if let pairsPerPrompt { c.pairsPerPrompt = pairsPerPrompt }
        if let majorityShare { c.majorityShare = majorityShare }
        if let samplesPerPrompt { c.samplesPerPrompt = samplesPerPrompt }
        if let selectionN { c.selectionN = selectionN }
        if let inContextSteps {
            guard inContext else { throw ValidationError("--in-context-steps: not used with --no-in-context") }
            c.inContextSteps = inContextSteps
        }
        if let inContextDesign {
            guard inContext else { throw ValidationError("--in-context-design: not used with --no-in-context") }
            c.inContextDesign = inContextDesign
        }
        if !inContext { c.inContextSteps = 0 }
        do { try c.validate() } catch let error as ExperimentError { throw ValidationError(error.description) }
        return c
    }

    func validate() throws {
        try ExperimentConsole.validate(name: name, seeds: seeds, threads: threads)
        _ = try makeConfiguration()
    }

    func run() throws {
        ExperimentConsole.start(threads: threads, quiet: quiet)
        let configuration = try makeConfiguration()
        let directory = URL(fileURLWithPath: "runs/\(name)")
        if reportOnly {
            return try ExperimentConsole.rewriteReport(PluralisticResults.self, directory: directory, write: { try PluralisticReport.write($0, to: $1) },
                                                       summary: PluralisticReport.summary)
        }
        let outcomes = try ExperimentConsole.eachSeed(from: seed, count: seeds, directory: directory, quiet: quiet) { seed, folder, log in
            try waitFor { try await Pluralistic.run(configuration, seed: seed, folder: folder, log: log) }
        }
        let results = PluralisticResults(configuration: configuration, seeds: outcomes)
        try PluralisticReport.write(results, to: directory)
        print(PluralisticReport.summary(results))
        ExperimentConsole.printFiles(directory)
    }
}
