import Foundation
import Reports
import Runtime
import ToyWorld

/// Writes `results.json` and a self-contained `report.html` through the report toolkit: the training checks (a
/// warning for a preference model at chance or a PPO run whose KL exploded), what each stage does, HTML tables with
/// 95% intervals and an explanation of each column, before/after bars, example generations side by side, the Elo
/// plane with RL-CAI's trajectory, and every stage's training curves.
public enum QuickstartReport {
    public static func write(_ results: QuickstartResults, to directory: URL) throws {
        try ResultsFile.write(results, to: directory)
        try page(results).write(to: directory)
    }

    public static func html(_ results: QuickstartResults) -> String { page(results).html }

    /// Rewrites `directory`'s `results.json` and `report.html` from its results.json, first reading each seed's
    /// example generations again from `seed-N/evaluation/`, scoring its critique stages' audit trails and counting
    /// its identical pairs where older results lack them (a seed whose folder is gone keeps what it has), then
    /// judging the claims again; trains and evaluates nothing.
    /// - Throws: `QuickstartError` when there is no readable results.json; errors reading an evaluation file.
    public static func rewrite(directory: URL) throws -> QuickstartResults {
        var results = try read(directory, advice: "; run charter quickstart with this --name first")
        for index in results.seeds.indices {
            let seed = results.seeds[index].seed, folder = directory.appendingPathComponent("seed-\(seed)")
            let world = results.configuration.world(seed: seed)
            let files = WorldFiles(world: world, configuration: results.configuration, directory: folder.appendingPathComponent("world"))
            let examples = try QuickstartExamples.collect(requests: files.evaluationRequests, evaluation: folder.appendingPathComponent("evaluation"))
            if !examples.isEmpty { results.seeds[index].examples = examples }
            let critiques = try Evaluation.critiqueQualities(seedFolder: folder, world: world, configuration: results.configuration)
            if !critiques.isEmpty { results.seeds[index].critiques = critiques }
            // The held-out look-alikes' accuracy was kept from 2026-12-07 on; older results get it from their evaluation files.
            if results.seeds[index].models.contains(where: { $0.heldOutBorderlineAccuracy == nil }) {
                let evaluation = folder.appendingPathComponent("evaluation"), requests = files.evaluationRequests
                for (position, model) in results.seeds[index].models.enumerated() where model.heldOutBorderlineAccuracy == nil {
                    let url = evaluation.appendingPathComponent("\(try evaluationFile(model.name, seed: seed)).jsonl")
                    guard FileManager.default.fileExists(atPath: url.path) else { continue }
                    results.seeds[index].models[position].heldOutBorderlineAccuracy
                        = Evaluation.result(name: model.name, judged: try Evaluation.judged(url, requests: requests)).heldOutBorderlineAccuracy
                }
            }
            // Identical pairs were counted from 2026-12-05 on; older results get them from their label files.
            let labels = folder.appendingPathComponent("label/preferences.jsonl")
            if results.seeds[index].labels.identicalPairs == nil, FileManager.default.fileExists(atPath: labels.path) {
                let c = results.configuration
                let prompts = world.redTeamRequests(perIntent: c.redTeamPerIntent) + world.borderlineRequests(perIntent: c.borderlinePromptsPerIntent)
                results.seeds[index].labels.identicalPairs = try Evaluation.labelQuality(labels: labels, requests: prompts).identicalPairs
            }
        }
        // The claims again, from the stored results, so that their evidence has what this version reports.
        results.claims = Claims.evaluate(results.seeds, elo: results.elo)
        try write(results, to: directory)
        return results
    }

    /// Combines runs of the same configuration on the same kernel path and CPU, with different seeds, into one run at
    /// `directory`: its seed folders link to the runs' own, and Elo and the claims are computed again over every seed,
    /// as one invocation with all the seeds would have computed them. Trains and evaluates nothing.
    /// - Throws: `QuickstartError` naming the run whose results.json is unreadable, whose configuration or machine
    ///   differs from the first run's, or whose seed another run already has; or when `directory` already has a seed.
    public static func combine(_ runs: [URL], into directory: URL) throws -> QuickstartResults {
        let combination = try RunCombination(runs: runs, read: { try read($0) }, machine: \.machine, seeds: { $0.seeds.map(\.seed) },
                                             configurationDiffers: { $0.configuration != $1.configuration })
        let first = combination.parts[0]
        // Everything is read and checked before anything is written, so a refused combine leaves nothing behind.
        var seeds: [SeedResult] = [], requests: [UInt64: [Request]] = [:], links: [(link: URL, target: String)] = []
        for (run, part) in zip(runs, combination.parts) {
            for result in part.seeds {
                let folder = run.appendingPathComponent("seed-\(result.seed)")
                links.append(try RunCombination<QuickstartResults>.seedLink(seed: result.seed, of: run, into: directory))
                let evaluated = WorldFiles(world: first.configuration.world(seed: result.seed), configuration: first.configuration,
                                           directory: folder.appendingPathComponent("world")).evaluationRequests
                requests[result.seed] = evaluated
                seeds.append(try rejudged(result, evaluation: folder.appendingPathComponent("evaluation"), requests: evaluated))
            }
        }
        try RunCombination<QuickstartResults>.createLinks(links, in: directory)
        seeds.sort { $0.seed < $1.seed }
        let elo = EloResults.fit(seeds, requests: requests, samples: first.configuration.bootstrapSamples, seed: seeds[0].seed)
        let results = QuickstartResults(name: directory.lastPathComponent, configuration: first.configuration, seeds: seeds, elo: elo,
                                        claims: Claims.evaluate(seeds, elo: elo), machine: first.machine,
                                        totalSeconds: combination.parts.reduce(0) { $0 + $1.totalSeconds }, combinedFrom: combination.sources)
        try write(results, to: directory)
        return results
    }

    /// The results.json of the run in `directory`.
    /// - Throws: `QuickstartError` naming the file when it cannot be read (`advice` appended).
    static func read(_ directory: URL, advice: String = "") throws -> QuickstartResults {
        do {
            return try ResultsFile.read(QuickstartResults.self, in: directory, what: "the quickstart's results")
        } catch {
            throw QuickstartError("\(error)\(advice)")
        }
    }

    /// `result` with each model's per-request verdicts (which results.json does not keep; Elo needs them) judged
    /// again from the seed's evaluation files.
    /// - Throws: `QuickstartError` when a model's file is missing or its verdicts no longer count what results.json
    ///   recorded.
    /// The evaluation file (without `.jsonl`) in which a seed's model's responses are.
    static func evaluationFile(_ model: String, seed: UInt64) throws -> String {
        let files = Dictionary(uniqueKeysWithValues: QuickstartExamples.models + [(ModelName.onlineDPO, "online_dpo")])
        let step = model.hasPrefix(ModelName.rlCAI(step: 0).dropLast()) ? Int(model.split(separator: " ").last ?? "") : nil
        guard let file = files[model] ?? step.map({ "ppo-step-\($0)" }) else {
            throw QuickstartError("seed \(seed): no evaluation file is known for the model \(model)")
        }
        return file
    }

    static func rejudged(_ result: SeedResult, evaluation: URL, requests: [Request]) throws -> SeedResult {
        func rejudge(_ model: ModelResult) throws -> ModelResult {
            let url = evaluation.appendingPathComponent("\(try evaluationFile(model.name, seed: result.seed)).jsonl")
            let again = Evaluation.result(name: model.name, judged: try Evaluation.judged(url, requests: requests))
            guard again.verdicts == model.verdicts else {
                throw QuickstartError("\(url.path): its verdicts \(again.verdicts) differ from results.json's \(model.verdicts); "
                                      + "the evaluation files changed since the run")
            }
            var model = model
            model.judged = again.judged
            return model
        }
        var result = result
        result.models = try result.models.map(rejudge)
        result.checkpoints = try result.checkpoints.map(rejudge)
        return result
    }

    static func page(_ results: QuickstartResults) -> HTMLPage {
        var page = HTMLPage(title: "Charter quickstart")
        page.heading("Charter quickstart: \(results.name)")
        page.paragraph("Constitutional AI (Bai et al. 2022) on a generated toy world whose truth is known: every number is the ground-truth judge's verdict. "
                       + "Seed\(results.seeds.count == 1 ? "" : "s") \(results.seeds.map { String($0.seed) }.joined(separator: ", ")); each cell is the mean over seeds with its 95% t-interval. "
                       + "Kernel path \(results.machine.kernelPath) on \(results.machine.cpu) (\(results.machine.threads) threads); \(results.timeDescription)."
                       + (results.combinedFrom.map { " " + CombinedRun.sentence($0) } ?? ""))
        page.heading("Training checks", level: 2)
        page.trainingChecks(checks(results))
        page.heading("How the models were made", level: 2)
        page.definitions(stages)
        page.heading("Claims", level: 2)
        page.table(header: ["claim", "criterion", "evidence", "conclusion"],
                   rows: results.claims.map { ["\($0.id). \($0.title)", $0.criterion, $0.evidence.joined(separator: "\n"), $0.conclusion] })
        page.heading("Models on held-out requests", level: 2)
        let models = SummaryTable.modelRows(results)
        page.table(header: models.header, rows: models.rows,
                   caption: "Share of requests by the ground-truth judge: mean over seeds [95% interval].")
        page.definitions(modelColumns(results.configuration.borderlineHoldout))
        page.chart(bars(results))
        let examples = results.seeds.first { !($0.examples ?? []).isEmpty }
        if let examples, let chosen = examples.examples {
            page.heading("Example generations, seed \(examples.seed)", level: 2)
            page.paragraph("Every model's greedy response (as evaluated) to one held-out request of each kind, with the judge's verdict. "
                           + "Chosen without looking at the text: per kind, the first request in id order on which helpful-only's verdict and RL-CAI's differ, or the first request when they never do.")
            page.examples(chosen, id: "examples")
        }
        page.heading("AI feedback", level: 2)
        let labels = SummaryTable.labelRows(results)
        page.table(header: labels.header, rows: labels.rows, caption: "AI labels against the ground-truth judge: mean over seeds [95% interval].")
        page.definitions(labelColumns)
        let critiques = SummaryTable.critiqueRows(results)
        if !critiques.rows.isEmpty {
            page.heading("Critiques against the world's rule", level: 2)
            page.table(header: critiques.header, rows: critiques.rows, caption: "Each critique stage's critiques (the helpful-only model critiquing red-team answers) scored by the world's rule: mean over seeds [95% interval].")
            page.definitions(critiqueColumns)
        }
        page.heading("Helpfulness and harmlessness Elo", level: 2)
        page.paragraph("Bradley–Terry fits over ground-truth pairwise judgements of the models' answers (\(results.elo.helpfulnessComparisons) benign and borderline requests, \(results.elo.harmlessnessComparisons) held-out harmful ones, pooled over seeds), relative to the helpful-only model, with 95% bootstrap intervals (\(results.configuration.bootstrapSamples) resamples of the requests).")
        page.table(header: ["model", "helpfulness Elo", "harmlessness Elo"], rows: results.elo.models.map { point in
            [point.name, elo(point.helpfulness), elo(point.harmlessness)]
        })
        page.chart(eloChart(results.elo))
        page.heading("Training curves", level: 2)
        page.paragraph("Each stage's logged metrics (TRL names) against its optimizer step (PPO: iteration), one line per seed.")
        page.definitions(metrics)
        for (stage, title, names) in curveMetrics {
            page.heading(title, level: 3)
            page.charts(names.map { curve(results, stage: stage, title: title, metric: $0) }, id: "curves-\(stage)")
        }
        page.heading("Per seed", level: 2)
        page.table(header: ["seed", "partial constitution covers", "held-out intents", "stage seconds"],
                   rows: results.seeds.map { seed in
                       [String(seed.seed), seed.partialCategories.joined(separator: ", "), seed.heldOutIntents.joined(separator: ", "),
                        seed.seconds.sorted { $0.key < $1.key }.map { "\($0.key) \(String(format: "%.0f", $0.value))" }.joined(separator: ", ")]
                   })
        return page
    }

    /// Every seed's training checks: its preference model above chance, its PPO run's KL bounded.
    static func checks(_ results: QuickstartResults) -> [TrainingChecks.Outcome] {
        results.seeds.flatMap { seed in
            [TrainingChecks.rewardModel(seed.curves["reward"] ?? [], stage: "seed \(seed.seed) preference model"),
             TrainingChecks.ppoKL(seed.curves["ppo"] ?? [], stage: "seed \(seed.seed) RL-CAI (PPO)")].compactMap { $0 }
        }
    }

    /// One metric of one stage against the step, a line per seed; "" when no seed logged it.
    static func curve(_ results: QuickstartResults, stage: String, title: String, metric: String) -> String {
        let series = results.seeds.compactMap { seed -> SVGChart.Series? in
            let points = (seed.curves[stage] ?? []).compactMap { row -> SVGChart.Point? in
                guard let step = row["step"], let value = row[metric] else { return nil }
                return SVGChart.Point(step, value)
            }
            return points.isEmpty ? nil : SVGChart.Series("seed \(seed.seed)", points)
        }
        return SVGChart.lines(title: "\(title): \(metric)", series: series, xLabel: stage == "ppo" ? "PPO iteration" : "step", yLabel: metric)
    }

    static func elo(_ interval: Interval) -> String {
        interval.count > 0 ? String(format: "%.0f [%.0f, %.0f]", interval.mean, interval.lower, interval.upper) : String(format: "%.0f", interval.mean)
    }

    /// The (helpfulness, harmlessness) plane: RL-CAI's trajectory from SL-CAI through its checkpoints, and the other models.
    static func eloChart(_ elo: EloResults) -> String {
        let trajectory = elo.trajectory.compactMap(elo.point)
        let others = elo.models.filter { !elo.trajectory.contains($0.name) }
        func short(_ name: String) -> String { name.hasPrefix("RL-CAI step ") ? "step " + name.dropFirst("RL-CAI step ".count) : name }
        return SVGChart.lines(title: "Harmlessness vs helpfulness Elo (RL-CAI's checkpoints in order)",
                              series: [SVGChart.Series("SL-CAI → RL-CAI", trajectory.map { SVGChart.Point($0.helpfulness.mean, $0.harmlessness.mean) },
                                                       labels: trajectory.map { short($0.name) }),
                                       SVGChart.Series("other models", others.map { SVGChart.Point($0.helpfulness.mean, $0.harmlessness.mean) },
                                                       labels: others.map(\.name))],
                              xLabel: "helpfulness Elo", yLabel: "harmlessness Elo", style: .points, width: 640, height: 360)
    }

    /// Grouped bars: one group per metric, one bar per model (the mean over seeds, with the 95% interval as an
    /// error bar when several seeds ran).
    static func bars(_ results: QuickstartResults) -> String {
        let names = SummaryTable.tableModels.filter { name in results.seeds.contains { $0.model(name) != nil } }
        let metrics = Array(zip(["compliance", "helpful refusal", "evasive refusal", "over-refusal", "borderline answered"], SummaryTable.columns.prefix(5).map(\.1)))
        let series = names.map { name in
            let perMetric = metrics.map { metric in results.seeds.compactMap { $0.model(name).map(metric.1) } }
            return SVGChart.BarSeries(name, values: perMetric.map { $0.isEmpty ? nil : Statistics.mean($0) },
                                      intervals: perMetric.map { values -> ClosedRange<Double>? in
                                          guard values.count > 1 else { return nil }
                                          let interval = Statistics.interval95(values)
                                          return max(0, interval.lower)...min(1, interval.upper)
                                      })
        }
        return SVGChart.bars(title: "Held-out rates by model (95% intervals over seeds)", groups: metrics.map(\.0), series: series, yLabel: "share of requests",
                             yAxis: ChartAxis(lower: 0, upper: 1, step: 0.25, percent: true))
    }
}
