import ArgumentParser
import Experiments
import Foundation

/// `charter experiment overoptimization`: gold vs proxy reward under best-of-n and PPO, one proxy against ensembles.
struct OveroptimizationCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "overoptimization",
        abstract: "Reward-model over-optimisation (Gao et al. 2023) under best-of-n and PPO, and whether ensembles (Coste et al. 2024) mitigate it.",
        discussion: """
            Per seed: the frontier experiment's review language and reference model; a few gold-labelled pairs per training \
            prompt; an ensemble of proxy reward models (seeds differ); best-of-n on held-out prompts for n = 1 … \
            --samples-per-prompt ranked by proxy 1 alone, the mean, the min and mean − λ·variance; PPO with a small fixed \
            KL coefficient against proxy 1 alone and against the ensemble. Gold and proxy reward against √KL, with 95% \
            t-intervals over seeds. Writes runs/<name>/results.json, report.html and each seed's folders.
            """)

    @Option(help: "Run name (folder under runs/).") var name = "overoptimization"
    @Option(help: "First seed.") var seed: UInt64 = 1
    @Option(help: "Number of seeds (seed, seed+1, …).") var seeds = 3
    @Flag(help: "A smaller configuration (for a quick look).") var reduced = false
    @Flag(help: "No per-stage progress lines.") var quiet = false
    @Flag(help: "Only rewrite results.json's verdicts and report.html from runs/<name>/results.json (no training).") var reportOnly = false
    @Option(help: "Kernel threads.") var threads: Int?
    @Option(help: "Gold-labelled pairs per training prompt (default 2).") var pairsPerPrompt: Int?
    @Option(help: "Proxy reward models in the ensemble (default 4).") var ensembleSize: Int?
    @Flag(help: "Train the proxy ensemble as heads on one shared trunk (charter reward --shared-trunk) instead of separate models.")
    var sharedTrunk = false
    @Flag(help: "Each proxy (or head) trains on its own bootstrap resample of the pairs (charter reward --bootstrap), not only from its own seed.")
    var bootstrap = false
    @Option(help: "Best-of-n pool per held-out prompt; n runs over powers of 2 up to it (default 256).") var samplesPerPrompt: Int?
    @Option(help: "PPO episodes per run (default 4096).") var ppoEpisodes: Int?
    @Option(help: "PPO's fixed KL coefficient β (default 0.01).") var klCoef: Double?
    @Option(help: "λ of mean − λ·variance (default 1).") var uncertaintyPenalty: Double?
    @Option(help: "PPO checkpoints measured per run by gold, proxy and KL (default 8).") var ppoCheckpoints: Int?
    @Option(help: "The alarm monitor's spot-check budget: gold-labelled pairs per training prompt, independent of the proxies' (default 8).")
    var monitorPairsPerPrompt: Int?
    @Option(help: "The alarm's monitor_tolerance: the fall from the monitor's peak, as a fraction of its rise, that fires it (default 0.25).")
    var monitorTolerance: Double?
    @Option(help: "Live spot checks replayed beside the alarm's monitor: the gold judge on the first k rollouts of each PPO iteration, for each k of a comma-separated list (default 4,8,16,32; \"none\" for none).")
    var judgeSamples: String?
    @Option(help: "The live spot checks' monitor_smoothing: the newest reading's weight in the alarm's moving averages (default 0.15).")
    var judgeSmoothing: Double?
    @Flag(help: "Only what the alarm needs: PPO against proxy 1 alone (no ensemble PPO runs), best-of-n on a 16-sample pool unless --samples-per-prompt is given.")
    var alarmOnly = false

    func makeConfiguration() throws -> OveroptimizationConfiguration {
        var c: OveroptimizationConfiguration = reduced ? .reduced : OveroptimizationConfiguration()
        if let pairsPerPrompt { c.pairsPerPrompt = pairsPerPrompt }
        if let ensembleSize { c.ensembleSize = ensembleSize }
        if sharedTrunk { c.sharedTrunk = true }
        if bootstrap { c.bootstrap = true }
        if let samplesPerPrompt { c.samplesPerPrompt = samplesPerPrompt }
        if let ppoEpisodes { c.ppoEpisodes = ppoEpisodes }
        if let klCoef {
            guard klCoef.isFinite && klCoef >= 0 else { throw ValidationError("--kl-coef must be a number ≥ 0 (got \(klCoef))") }
            c.ppoKLCoefficient = klCoef
        }
        if let uncertaintyPenalty { c.uncertaintyPenalty = uncertaintyPenalty }
        if let ppoCheckpoints { c.ppoCheckpoints = ppoCheckpoints }
        if let monitorPairsPerPrompt { c.monitorPairsPerPrompt = monitorPairsPerPrompt }
        if let monitorTolerance { c.monitorTolerance = monitorTolerance }
        if let judgeSmoothing { c.judgeSmoothing = judgeSmoothing }
        if let judgeSamples {
            c.judgeSamples = try judgeSamples == "none" ? [] : judgeSamples.split(separator: ",").map { item in
                guard let k = Int(item.trimmingCharacters(in: .whitespaces)) else {
                    throw ValidationError("--judge-samples: \(String(item).debugDescription) is not a whole number (give e.g. 4,8,16 or none)")
                }
                return k
            }
        }
        if alarmOnly {
            c.ppoAggregations = []
            if samplesPerPrompt == nil { c.samplesPerPrompt = min(c.samplesPerPrompt, 16) }
        }
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
            return try ExperimentConsole.rewriteReport(OveroptimizationResults.self, directory: directory,
                                                       write: { try OveroptimizationReport.write($0.rederived, to: $1) },
                                                       summary: { OveroptimizationReport.summary($0.rederived) })
        }
        let outcomes = try ExperimentConsole.eachSeed(from: seed, count: seeds, directory: directory, quiet: quiet) { seed, folder, log in
            try waitFor { try await Overoptimization.run(configuration, seed: seed, folder: folder, log: log) }
        }
        let results = OveroptimizationResults(configuration: configuration, seeds: outcomes)
        try OveroptimizationReport.write(results, to: directory)
        print(OveroptimizationReport.summary(results))
        ExperimentConsole.printFiles(directory)
    }
}
