import Alignment
import ArgumentParser
import Foundation
import Quickstart
import Runtime
import Tensors

/// `charter quickstart`: Constitutional AI end to end on a toy world whose truth is known.
struct QuickstartCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "quickstart",
        abstract: "Run Constitutional AI end to end on a generated toy world and measure it against the world's ground truth.",
        discussion: """
            Trains a helpful-only tiny model from scratch, then runs the pipeline recipe (critique → SL-CAI → pairs → \
            AI labels → preference model → PPO, and DPO from the SL-CAI model), and judges every model on held-out intents. \
            Writes runs/<name>/results.json, report.html and each seed's pipeline folder.
            """)

    @Option(help: "Run name (folder under runs/).") var name = "quickstart"
    @Option(help: "First seed.") var seed: UInt64 = 1
    @Option(help: "Number of seeds (seed, seed+1, …); claims are concluded only from several (95% intervals over seeds).") var seeds = 5
    @Flag(help: "The small configuration the test suite runs.") var reduced = false
    @Option(name: .customLong("set"), help: "Override a configuration field, e.g. --set helpful_only_steps=300 or --set corpus.benign_per_intent=40 (snake_case as the trainers' keys, or camelCase as results.json lists the fields); repeatable.")
    var overrides: [String] = []
    @Option(help: "Kernel threads.") var threads: Int?
    @Flag(help: "No progress bars or step counters: only the stage lines and the summary table.") var quiet = false
    @Option(help: "Only write the pipeline recipe of this configuration and seed to FILE (Recipes/quickstart.yaml is this for the defaults).")
    var writeRecipe: String?
    @Flag(help: "Only rewrite runs/<name>/report.html (and results.json) from an earlier run's results.json and evaluation folders: no training, no evaluation.")
    var reportOnly = false
    @Option(help: "Only combine earlier runs of one configuration and kernel path with different seeds (comma-separated names under runs/) into runs/<name>: Elo and the claims over all their seeds; no training, no evaluation.")
    var combine: String?
    @Flag(help: "Also run RL-CAI by online DPO from the SL-CAI model, its pairs judged by the constitution (the helpful-only model as feedback model), and compare it with PPO and DPO (sizes: --set online_dpo.steps=N, …).")
    var onlineDpo = false

    func configuration() throws -> QuickstartConfiguration {
        var base = reduced ? QuickstartConfiguration.reduced : .full
        if onlineDpo { base.onlineDPO = OnlineDPOSizes() }
        return try base.overriding(ConfigurationOverrides.pairs(overrides, for: base))
    }

    func run() throws {
        ExperimentConsole.start(threads: threads, quiet: quiet)
        let configuration = try configuration()
        if let writeRecipe {
            try AtomicFile.write(Data(QuickstartRecipe.yaml(configuration, seed: seed).utf8), to: URL(fileURLWithPath: writeRecipe))
            return
        }
        let directory = URL(fileURLWithPath: "runs/\(name)")
        if let combine {
            let runs = combine.split(separator: ",").map { URL(fileURLWithPath: "runs/\($0.trimmingCharacters(in: .whitespaces))") }
            print(SummaryTable.render(try QuickstartReport.combine(runs, into: directory)))
            ExperimentConsole.printFiles(directory)
            return
        }
        if reportOnly {
            print(SummaryTable.render(try QuickstartReport.rewrite(directory: directory)))
            ExperimentConsole.printFiles(directory)
            return
        }
        let quickstart = QuickstartRun(name: name, configuration: configuration, seeds: (0..<UInt64(max(1, seeds))).map { seed + $0 },
                                       directory: directory, showProgress: !quiet)
        let log = ExperimentConsole.logger(quiet: false)  // the quickstart always logs its stages; --quiet only hides progress
        let results = try waitFor { try await quickstart.run(log: log) }
        try QuickstartReport.write(results, to: directory)
        print(SummaryTable.render(results))
        ExperimentConsole.printFiles(directory)
    }
}
