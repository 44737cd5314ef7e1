import Alignment
import ArgumentParser
import Audit
import Foundation
import Experiments
import Quickstart
import Runtime
import Tensors

/// `charter experiment …`: controlled experiments from the alignment literature, reproduced on generated tasks
/// whose ground truth is known.
struct ExperimentCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "experiment",
        abstract: "Reproduce experiments from the alignment literature on generated tasks with a known ground truth.",
        subcommands: [FrontierCommand.self, DataQualityCommand.self, GRPOArithmeticCommand.self, SafetyCircuitCommand.self,
                      OveroptimizationCommand.self, PluralisticCommand.self, WeakToStrongCommand.self, DebateExperimentCommand.self])
}

/// `charter experiment frontier`: the reward/KL frontier of DPO and PPO (Rafailov et al. 2023, Figure 2 left).
struct FrontierCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "frontier",
        abstract: "DPO at several β and PPO at several KL targets on a review language with a programmatic reward: reward vs KL.",
        discussion: """
            Trains a reference model from scratch on generated reviews, samples preference pairs from it labelled by the \
            ground-truth reward r = (#positive − #negative)/#words, then trains DPO at each β and PPO (against a reward \
            model learned from the same pairs) at each KL target, and measures every policy's mean reward and \
            KL(π‖π_ref) on held-out prompts. Writes runs/<name>/results.json, report.html and each seed's pipeline folders.
            """)

    @Option(help: "Run name (folder under runs/).") var name = "frontier"
    @Option(help: "First seed.") var seed: UInt64 = 1
    @Option(help: "Number of seeds (seed, seed+1, …); the table then shows the spread.") var seeds = 1
    @Flag(help: "A smaller configuration (fewer steps, two β and two targets).") var reduced = false
    @Flag(help: "Only the summary table: no per-stage progress lines (no step counters either).") var quiet = false
    @Option(help: "Kernel threads.") var threads: Int?
    @Option(help: "DPO β values, comma-separated (default 0.05,0.1,0.3,1; with --reduced 0.1,1).") var betas: String?
    @Option(help: "PPO KL targets in nats per response, comma-separated (default 1,2,4,8; with --reduced 1,4).") var klTargets: String?

    func validate() throws {
        try ExperimentConsole.validate(name: name, seeds: seeds, threads: threads)
        _ = try makeConfiguration()
    }

    /// The configuration with the sweep options applied.
    func makeConfiguration() throws -> FrontierConfiguration {
        var configuration: FrontierConfiguration = reduced ? .reduced : .full
        do {
            if let betas { configuration.betas = try FrontierConfiguration.parseList(betas, option: "--betas") }
            if let klTargets { configuration.klTargets = try FrontierConfiguration.parseList(klTargets, option: "--kl-targets") }
            try configuration.validate()
        } catch let error as ExperimentError {
            throw ValidationError(error.description)
        }
        return configuration
    }

    func run() throws {
        ExperimentConsole.start(threads: threads, quiet: quiet)
        let configuration = try makeConfiguration()
        let directory = URL(fileURLWithPath: "runs/\(name)")
        let experiment = FrontierRun(name: name, configuration: configuration, seeds: (0..<UInt64(seeds)).map { seed + $0 }, directory: directory)
        let log = ExperimentConsole.logger(quiet: quiet)
        let results = try waitFor { try await experiment.run(log: log) }
        try FrontierReport.write(results, to: directory)
        print(FrontierReport.table(results))
        ExperimentConsole.printFiles(directory)
    }
}

/// `charter experiment audit`: issue 13's proof that auditing and cleaning preference data pays, on the toy world.
struct DataQualityCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit",
        abstract: "Plant label noise in a toy-world preference set, audit and clean it, and compare training on noisy, cleaned and oracle data.",
        discussion: """
            Per seed: trains the quickstart's helpful-only model, builds a preference set whose labels the toy world's judge \
            knows, plants 10% flipped labels, 5% duplicates and 5% both-bad pairs, runs charter audit with a cross-fitted \
            reward ensemble and charter clean (drop duplicates and both-bad, flip suspected mislabels; --policy adds others), measures detection \
            precision and recall per planted kind, then trains a reward model and DPO on the noisy, cleaned and oracle sets and \
            judges them on held-out ground truth. Writes runs/<name>/results.json and report.html.
            """)

    @Option(help: "Run name (folder under runs/).") var name = "data-quality"
    @Option(help: "First seed.") var seed: UInt64 = 1
    @Option(help: "Number of seeds (seed, seed+1, …); intervals need at least 2.") var seeds = 3
    @Flag(help: "A smaller configuration (fewer pairs, steps and evaluation requests).") var reduced = false
    @Flag(help: "Only rewrite report.html and print the table from runs/<name>/results.json (no training).") var reportOnly = false
    @Option(help: "Share of flipped labels planted (issue 13's setting: 0.10).") var flipRate = 0.10
    @Option(help: "Share of duplicates planted (0.05).") var duplicateRate = 0.05
    @Option(help: "Share of both-bad pairs planted (0.05).") var bothBadRate = 0.05
    @Option(help: "The audit flags a suspected mislabel when the ensemble's mean P(chosen ≻ rejected) is at most 1 − this (charter audit --mislabel-confidence; 0.8).")
    var mislabelConfidence = 0.8
    @Flag(help: "Only the summary table: no per-stage progress lines.") var quiet = false
    @Option(help: "Kernel threads.") var threads: Int?
    @Option(help: "Add the seed's helpful-only model as the audit's reference model with this relevance scale in nats (charter audit --reference-model … --relevance-scale); its vote joins the ensemble's mean for suspected mislabels.")
    var referenceRelevance: Double?
    @Option(help: "Another cleaning policy to try on the same audit, as NAME=FILE (charter clean's policy YAML); repeatable. Each adds the set cleaned-NAME, with its own reward model and DPO.")
    var policy: [String] = []
    @Option(help: "Only combine earlier runs of one configuration and kernel path with different seeds (comma-separated names under runs/) into runs/<name>: the tables and conclusions over all their seeds; extra --policy sets that not every run tried are left out (and named). No training.")
    var combine: String?
    @Option(name: .customLong("set"), help: "Override a configuration field, e.g. --set dpo_steps=160 or --set world.helpful_only_steps=300 (snake_case or camelCase as results.json lists the fields); repeatable. The noise rates, the mislabel threshold and the policies have their own options.")
    var overrides: [String] = []

    /// The configuration: the default (or --reduced) one, the noise and threshold options, the extra policies, then
    /// the --set fields.
    func configuration() throws -> DataQualityConfiguration {
        var configuration = reduced ? DataQualityConfiguration.reduced : DataQualityConfiguration()
        (configuration.noise.flipped, configuration.noise.duplicates, configuration.noise.bothBad) = (flipRate, duplicateRate, bothBadRate)
        configuration.mislabelConfidence = mislabelConfidence
        configuration.relevanceScale = referenceRelevance
        let policies = try policies()
        if !policies.isEmpty { configuration.policies = policies }
        let pairs = try ConfigurationOverrides.pairs(overrides, for: configuration)
        let ownOptions = ["noise": "--flip-rate, --duplicate-rate and --both-bad-rate", "mislabelConfidence": "--mislabel-confidence",
                          "relevanceScale": "--reference-relevance",
                          "policies": "--policy"]
        for (key, _) in pairs {
            if let option = ownOptions[String(key.split(separator: ".")[0])] {
                throw ValidationError("--set \(key): use \(option)")
            }
        }
        return try ConfigurationOverrides.apply(pairs, to: configuration, command: "experiment audit", textChoices: QuickstartConfiguration.textChoices)
    }

    /// The extra policies, read and checked: NAME is lower-case letters, digits and _, unique; FILE parses as a policy.
    func policies() throws -> [DataQualityConfiguration.NamedPolicy] {
        var seen: Set<String> = []
        return try policy.map { spec in
            guard let equals = spec.firstIndex(of: "="), spec.index(after: equals) < spec.endIndex else {
                throw ValidationError("--policy \(spec.debugDescription): expected NAME=FILE")
            }
            let name = String(spec[..<equals]), path = String(spec[spec.index(after: equals)...])
            guard !name.isEmpty, name.allSatisfy({ $0.isASCII && ($0.isLowercase || $0.isNumber || $0 == "_") }) else {
                throw ValidationError("--policy \(spec.debugDescription): NAME must be lower-case letters, digits or _ (it names the set cleaned-NAME)")
            }
            guard seen.insert(name).inserted else { throw ValidationError("--policy: the name \(name) is given twice") }
            guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
                throw ValidationError("--policy \(name): cannot read \(path)")
            }
            do { _ = try CleaningPolicy.parse(text, file: path) } catch { throw ValidationError("--policy \(name): \(error)") }
            return .init(name: name, text: text)
        }
    }

    func validate() throws {
        // The configuration reads and checks the policies too.
        if combine == nil { _ = try configuration() } else { _ = try policies() }
        if reportOnly, !overrides.isEmpty {
            throw ValidationError("--report-only rewrites the run's report from its own results: drop --set")
        }
        if combine != nil, !policy.isEmpty || !overrides.isEmpty || reduced || reportOnly {
            throw ValidationError("--combine only joins finished runs: drop --policy, --set, --reduced and --report-only (the runs' own settings are kept)")
        }
        try ExperimentConsole.validate(name: name, seeds: seeds, threads: threads)
        for (option, rate) in [("--flip-rate", flipRate), ("--duplicate-rate", duplicateRate), ("--both-bad-rate", bothBadRate)] where !(0...0.5).contains(rate) {
            throw ValidationError("\(option) must be in [0, 0.5] (got \(rate))")
        }
        guard flipRate + bothBadRate <= 0.9 else { throw ValidationError("--flip-rate + --both-bad-rate must leave clean pairs (got \(flipRate + bothBadRate))") }
        guard (0.5..<1).contains(mislabelConfidence) else { throw ValidationError("--mislabel-confidence must be in [0.5, 1) (got \(mislabelConfidence))") }
        if let referenceRelevance, !(referenceRelevance > 0) { throw ValidationError("--reference-relevance must be positive (got \(referenceRelevance))") }
    }

    func run() throws {
        ExperimentConsole.start(threads: threads, quiet: quiet)
        let directory = URL(fileURLWithPath: "runs/\(name)")
        if let combine {
            let runs = combine.split(separator: ",").map { URL(fileURLWithPath: "runs/\($0.trimmingCharacters(in: .whitespaces))") }
            let (results, leftOut) = try DataQualityResults.combine(runs, into: directory)
            if !leftOut.isEmpty {
                print("left out (not tried by every run): " + leftOut.map { "cleaned-\($0)" }.joined(separator: ", "))
            }
            print(DataQualityReport.table(results))
            return ExperimentConsole.printFiles(directory)
        }
        if reportOnly {
            return try ExperimentConsole.rewriteReport(DataQualityResults.self, directory: directory, update: { try $0.fillingSeenCompliance(from: $1) },
                                                       write: { try DataQualityReport.write($0, to: $1) }, summary: DataQualityReport.table)
        }
        let configuration = try configuration()
        var experiment = DataQualityRun(name: name, configuration: configuration, seeds: (0..<UInt64(seeds)).map { seed + $0 }, directory: directory)
        experiment.showProgress = !quiet
        let log = ExperimentConsole.logger(quiet: quiet)
        let results = try waitFor { [experiment] in try await experiment.run(log: log) }
        try DataQualityReport.write(results, to: directory)
        print(DataQualityReport.table(results))
        ExperimentConsole.printFiles(directory)
    }
}

/// `charter experiment safety-circuit`: issue 15's activation probes as safety circuits, on the toy world.
struct SafetyCircuitCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "safety-circuit",
        abstract: "Train prompt and response probes on the helpful-only toy-world model, use them to halt its held-out harmful generations, and steer along SL-CAI's refusal direction.",
        discussion: """
            Per seed: trains the quickstart's helpful-only model, a prompt probe (training harmful vs benign and borderline intents, \
            last prompt token) and a response probe (the model's own responses, every token, positive where the response gives \
            harmful steps; --response-probe-labels request: compliant responses to harmful requests vs every response to benign \
            and borderline ones), each with its layer, \
            method and threshold chosen on a validation split of the training intents; measures the prompt probe's AUROC on held-out \
            intents, then lets the model answer held-out requests without a circuit and with each probe halting it, judged by the \
            world's ground truth. Then it trains the seed's SL-CAI model and steers along its refusal direction (Arditi et al. \
            2024): ablated in SL-CAI, added to the helpful-only model, layer and strength chosen on the training intents, refusals \
            measured on held-out requests. Writes runs/<name>/results.json and report.html.
            """)

    @Option(help: "Run name (folder under runs/).") var name = "safety-circuit"
    @Option(help: "First seed.") var seed: UInt64 = 1
    @Option(help: "Number of seeds (seed, seed+1, …); intervals need at least 2.") var seeds = 3
    @Flag(help: "The test-suite size (the reduced world, fewer requests).") var reduced = false
    @Option(help: "A quickstart run folder (e.g. runs/quickstart) whose seeds' helpful-only and SL-CAI models to probe and steer instead of training them (same seeds and world sizes).")
    var modelsFrom: String?
    @Option(help: "How the response probe's examples are labelled: content (the response gives harmful steps, whatever was asked) or request (compliance with a harmful request vs any response to a benign or borderline one; refusals of harmful requests left out).")
    var responseProbeLabels: String = ResponseProbeLabels.content.rawValue
    @Option(help: "Responses of the helpful-only model per training intent for the response probe (default 24; its threshold is calibrated on the validation intents' share of them).")
    var responsesPerIntent: Int?
    @Flag(help: "Only rewrite report.html and print the table from runs/<name>/results.json (no training).") var reportOnly = false
    @Flag(help: "Only the summary table: no per-stage progress lines.") var quiet = false
    @Option(help: "Kernel threads.") var threads: Int?

    func validate() throws {
        try ExperimentConsole.validate(name: name, seeds: seeds, threads: threads)
        if let responsesPerIntent, !(1...256).contains(responsesPerIntent) {
            throw ValidationError("--responses-per-intent must be 1…256 (got \(responsesPerIntent))")
        }
        guard ResponseProbeLabels(rawValue: responseProbeLabels) != nil else {
            throw ValidationError("--response-probe-labels: \"\(responseProbeLabels)\" is not content or request")
        }
        if modelsFrom != nil && reduced { throw ValidationError("--models-from takes the quickstart run's models as they are; --reduced cannot resize them") }
    }

    func run() throws {
        ExperimentConsole.start(threads: threads, quiet: quiet)
        let directory = URL(fileURLWithPath: "runs/\(name)")
        if reportOnly {
            return try ExperimentConsole.rewriteReport(SafetyCircuitResults.self, directory: directory, write: { try SafetyCircuitReport.write($0, to: $1) }, summary: SafetyCircuitReport.table)
        }
        var configuration = reduced ? SafetyCircuitConfiguration.reduced : SafetyCircuitConfiguration()
        configuration.responseProbeLabels = ResponseProbeLabels(rawValue: responseProbeLabels)
        if let responsesPerIntent { configuration.responsesPerIntent = responsesPerIntent }
        let experiment = SafetyCircuitRun(name: name, configuration: configuration,
                                          seeds: (0..<UInt64(seeds)).map { seed + $0 }, directory: directory,
                                          modelsFrom: modelsFrom.map { URL(fileURLWithPath: $0) })
        let log = ExperimentConsole.logger(quiet: quiet)
        let results = try waitFor { try await experiment.run(log: log) }
        try SafetyCircuitReport.write(results, to: directory)
        print(SafetyCircuitReport.table(results))
        ExperimentConsole.printFiles(directory)
    }
}
