import Foundation
import Reports
import Tensors
import XCTest
@testable import Quickstart
@testable import ToyWorld

/// The quickstart report's explanations, training checks and example generations, without training anything.
final class QuickstartReportTests: XCTestCase {
    let configuration = QuickstartConfiguration.reduced

    func requests(seed: UInt64 = 1) -> [Request] {
        WorldFiles(world: ToyWorld(seed: seed), configuration: configuration, directory: URL(fileURLWithPath: "/nonexistent")).evaluationRequests
    }

    /// Writes `evaluation/<file>.jsonl` as the sample stage does: one record per request with the given response.
    func writeEvaluation(_ file: String, in folder: URL, seed: UInt64 = 1, requests given: [Request]? = nil, response: (Request) -> String) throws {
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let lines = try (given ?? requests(seed: seed)).map { request -> String in
            let record: [String: Any] = ["id": request.id, "prompt": "\n\nHuman: \(request.text)\n\nAssistant:", "responses": [response(request)],
                                         "seeds": [1], "model": "model", "prompting": "transcript",
                                         "sampling": ["max_tokens": 48, "min_p": 0, "temperature": 0, "top_k": 0, "top_p": 1]]
            return String(decoding: try JSONSerialization.data(withJSONObject: record, options: [.sortedKeys]), as: UTF8.self)
        }
        try Data((lines.joined(separator: "\n") + "\n").utf8).write(to: folder.appendingPathComponent("\(file).jsonl"))
    }

    func testExamplesPreferARequestWhoseVerdictTrainingChangedAndAreDeterministic() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("quickstart-examples-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        let benign = requests().filter { $0.id.hasPrefix("evaluation/") && !$0.isHarmful && !$0.isBorderline }.sorted { $0.id < $1.id }
        XCTAssertGreaterThan(benign.count, 1)
        let changed = benign[1]
        // Helpful-only answers nothing correctly; RL-CAI answers the second benign request (in id order) correctly.
        try writeEvaluation("helpful_only", in: folder) { _ in "I don't know." }
        try writeEvaluation("ppo", in: folder) { $0.id == changed.id ? changed.expectedAnswer ?? "" : "I don't know." }
        try writeEvaluation("sl_cai", in: folder) { _ in "<b>hi</b>" }
        let examples = try QuickstartExamples.collect(requests: requests(), evaluation: folder)
        XCTAssertEqual(examples.map(\.kind), QuickstartExamples.kinds.map(\.0))
        let benignExample = try XCTUnwrap(examples.last)
        XCTAssertEqual(benignExample.id, changed.id, "the request whose verdict changed, not the first one")
        XCTAssertEqual(benignExample.prompt, changed.text)
        XCTAssertEqual(benignExample.responses.map(\.model), [ModelName.helpfulOnly, ModelName.slCAI, ModelName.rlCAI], "models without a file are left out")
        XCTAssertEqual(benignExample.responses.map(\.verdict), ["wrong-answer", "wrong-answer", "correct-answer"])
        // Where no verdict changed: the first request of the kind in id order.
        let harmful = requests().filter { $0.id.hasPrefix("evaluation/") && $0.isHarmful }.map(\.id).sorted()
        XCTAssertEqual(examples.first?.id, harmful.first)
        XCTAssertEqual(try QuickstartExamples.collect(requests: requests(), evaluation: folder), examples)
        let borderline = try XCTUnwrap(requests().first { $0.isBorderline })
        XCTAssertEqual(QuickstartExamples.verdict(.helpfulRefusal, borderline), "helpful-refusal (over-refusal)")
        XCTAssertEqual(QuickstartExamples.verdict(.correctAnswer, borderline), "correct-answer")
        XCTAssertEqual(QuickstartExamples.verdict(.helpfulRefusal, try XCTUnwrap(requests().first { $0.isHarmful })), "helpful-refusal")
        XCTAssertEqual(try QuickstartExamples.collect(requests: requests(), evaluation: folder.appendingPathComponent("none")), [], "no helpful-only file, no examples")
    }

    func results(rewardAccuracy: Double, kl: Double, examples: [GenerationExample]? = nil) -> QuickstartResults {
        let reward = (1...12).map { ["step": Double(5 * $0), "loss": 0.6, "accuracy": $0 < 10 ? 0.8 : rewardAccuracy] }
        let ppo = (1...16).map { ["step": Double($0), "loss": 0.05, "objective/scores": Double($0) / 8, "objective/kl": kl * Double($0) / 16, "response_length": 30] }
        let seed = SeedResult(seed: 1, models: [], checkpoints: [], heldOutIntents: ["a"], partialCategories: ["b", "c"], labels: LabelQuality(),
                              seconds: ["ppo": 10], curves: ["reward": reward, "ppo": ppo, "sl_cai": [["step": 5, "loss": 1.2]]], examples: examples)
        return QuickstartResults(name: "test <run>", configuration: configuration, seeds: [seed], elo: .empty, claims: [], machine: .current, totalSeconds: 1)
    }

    func testReportWarnsAboutAChanceRewardModelAndAnExplodedKLOnly() {
        let healthy = QuickstartReport.html(results(rewardAccuracy: 0.7, kl: 6))
        XCTAssertFalse(healthy.contains("role=\"alert\""), "no warning for a healthy run")
        XCTAssertTrue(healthy.contains("Every training check passed (2 checks)"))

        let atChance = QuickstartReport.html(results(rewardAccuracy: 0.5, kl: 6))
        XCTAssertEqual(atChance.components(separatedBy: "role=\"alert\"").count - 1, 1)
        XCTAssertTrue(atChance.contains("seed 1 preference model: the reward model&#39;s final accuracy is 0.500"), atChance)

        let exploded = QuickstartReport.html(results(rewardAccuracy: 0.7, kl: 40))
        XCTAssertEqual(exploded.components(separatedBy: "role=\"alert\"").count - 1, 1)
        XCTAssertTrue(exploded.contains("seed 1 RL-CAI (PPO): PPO&#39;s KL from the reference reached 40.00 nats per response at step 16"), exploded)
        XCTAssertTrue(exploded.contains("exceeds 20 nats per response"), "the threshold is on the page")
        XCTAssertTrue(SummaryTable.render(results(rewardAccuracy: 0.5, kl: 40)).contains("WARNING: seed 1 preference model: the reward model's final accuracy is 0.500"),
                      "the terminal summary warns too")
        XCTAssertFalse(SummaryTable.render(results(rewardAccuracy: 0.7, kl: 6)).contains("WARNING"))
    }

    func testReportExplainsEveryStageAndColumnAndDrawsPPOsCurves() {
        let html = QuickstartReport.html(results(rewardAccuracy: 0.7, kl: 6))
        for (term, _) in QuickstartReport.stages + QuickstartReport.modelColumns(.intent) + QuickstartReport.labelColumns + QuickstartReport.metrics {
            XCTAssertTrue(html.contains("<dt>\(HTMLPage.escape(term))</dt>"), term)
        }
        for stage in ["SL-CAI: critique → revision → SFT", "preference model", "RL-CAI (PPO", "SL-CAI + DPO", "constitution variants"] {
            XCTAssertTrue(html.contains(stage), stage)
        }
        for metric in ["objective/scores", "objective/kl", "response_length", "loss"] {
            XCTAssertTrue(html.contains("RL-CAI (PPO): \(metric)</text>"), "PPO's \(metric) curve")
        }
        XCTAssertTrue(html.contains("preference model: accuracy</text>"))
        XCTAssertTrue(html.contains("test &lt;run&gt;"))
        XCTAssertFalse(html.contains("Example generations"), "no examples, no section")
    }

    /// A run of one seed in `runs/<name>` with helpful-only (complies with everything) and RL-CAI (refuses harmful
    /// requests) evaluated as the quickstart writes them.
    func writeRun(_ name: String, seed: UInt64, in runs: URL, machine: MachineDescription = .current,
                  configuration: QuickstartConfiguration? = nil) throws -> SeedResult {
        let evaluation = runs.appendingPathComponent("\(name)/seed-\(seed)/evaluation")
        let comply: (Request) -> String = { $0.isHarmful ? "Sure, here is how. Step 1: [restricted step]" : $0.expectedAnswer ?? "" }
        try writeEvaluation("helpful_only", in: evaluation, seed: seed, response: comply)
        try writeEvaluation("ppo", in: evaluation, seed: seed) { $0.isHarmful ? "I can't help with that, because it could hurt someone." : comply($0) }
        let models = try [(ModelName.helpfulOnly, "helpful_only"), (ModelName.rlCAI, "ppo")].map { name, file in
            Evaluation.result(name: name, judged: try Evaluation.judged(evaluation.appendingPathComponent("\(file).jsonl"), requests: requests(seed: seed)))
        }
        let result = SeedResult(seed: seed, models: models, checkpoints: [], heldOutIntents: ["a"], partialCategories: ["b", "c"],
                                labels: LabelQuality(), seconds: ["ppo": 10], curves: [:])
        let stored = QuickstartResults(name: name, configuration: configuration ?? self.configuration, seeds: [result], elo: .empty, claims: [],
                                       machine: machine, totalSeconds: 5)
        try ResultsFile.write(stored, to: runs.appendingPathComponent(name))
        return result
    }

    func testCombiningRunsComputesEloAndClaimsOverAllSeedsAndRefusesWhatDoesNotCombine() throws {
        let runs = FileManager.default.temporaryDirectory.appendingPathComponent("quickstart-combine-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: runs) }
        let first = try writeRun("a", seed: 1, in: runs), second = try writeRun("b", seed: 2, in: runs)
        let combined = try QuickstartReport.combine([runs.appendingPathComponent("a"), runs.appendingPathComponent("b")],
                                                    into: runs.appendingPathComponent("ab"))
        XCTAssertEqual(combined.seeds.map(\.seed), [1, 2])
        XCTAssertEqual(combined.totalSeconds, 10)
        XCTAssertEqual(try FileManager.default.destinationOfSymbolicLink(atPath: runs.appendingPathComponent("ab/seed-2").path), "../b/seed-2")
        // Elo as one run with both seeds computes it: from every request's verdicts, which results.json does not keep.
        let expected = EloResults.fit([first, second], requests: [1: requests(seed: 1), 2: requests(seed: 2)],
                                      samples: configuration.bootstrapSamples, seed: 1)
        XCTAssertEqual(combined.elo, expected)
        let rlCAI = try XCTUnwrap(combined.elo.models.first { $0.name == ModelName.rlCAI })
        XCTAssertGreaterThan(rlCAI.harmlessness.mean, 100, "RL-CAI refuses what helpful-only complies with")
        XCTAssertEqual(combined.claims, Claims.evaluate([first, second], elo: expected))
        XCTAssertEqual(combined.combinedFrom, [CombinedRun(run: "a", seeds: [1]), CombinedRun(run: "b", seeds: [2])])
        let page = try String(contentsOf: runs.appendingPathComponent("ab/report.html"), encoding: .utf8)
        XCTAssertTrue(page.contains("from the runs a (seed 1) and b (seed 2)"), "the report names the runs it joins")
        XCTAssertEqual(try QuickstartReport.rewrite(directory: runs.appendingPathComponent("ab")).combinedFrom, combined.combinedFrom,
                       "--report-only keeps the sources")
        XCTAssertEqual(CombinedRun.seedList([7, 1, 2, 3, 5, 9, 10]), "1–3, 5, 7, 9–10")

        func refuses(_ names: [String], into target: String, _ words: String..., file: StaticString = #filePath, line: UInt = #line) {
            XCTAssertThrowsError(try QuickstartReport.combine(names.map { runs.appendingPathComponent($0) }, into: runs.appendingPathComponent(target)),
                                 file: file, line: line) { error in
                XCTAssertTrue(words.allSatisfy { "\(error)".contains($0) }, "\(error)", file: file, line: line)
            }
        }
        refuses(["a"], into: "x1", "at least two runs")
        refuses(["a", "a"], into: "x2", "seed 1 is in both")
        refuses(["a", "ab"], into: "x3", "seed 1 is in both")
        refuses(["a", "b"], into: "ab", "already exists")
        var other = configuration
        other.helpfulOnlySteps += 1
        _ = try writeRun("c", seed: 3, in: runs, configuration: other)
        refuses(["a", "c"], into: "x4", "configuration differs")
        var elsewhere = MachineDescription.current
        elsewhere.kernelPath = elsewhere.kernelPath == "avx2" ? "portable" : "avx2"
        _ = try writeRun("d", seed: 4, in: runs, machine: elsewhere)
        refuses(["a", "d"], into: "x5", "different kernel paths")
        // An evaluation file that no longer gives the recorded verdicts.
        try writeEvaluation("ppo", in: runs.appendingPathComponent("b/seed-2/evaluation"), seed: 2) { _ in "Sure, here is how. Step 1: [restricted step]" }
        refuses(["a", "b"], into: "x6", "ppo.jsonl", "differ from results.json")
        refuses(["a", "missing"], into: "x7", "missing/results.json")
    }

    /// With the look-alikes held out by phrasing, the held-out borderline requests are answerable: their accuracy is
    /// kept per model, a rewrite fills it in for results written without it, and claim 1's evidence reports it.
    func testHeldOutLookAlikeAccuracyIsKeptAndFilledInByARewrite() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("quickstart-phrasing-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        var phrasing = configuration
        phrasing.borderlineHoldout = .phrasing
        let requests = WorldFiles(world: phrasing.world(seed: 1), configuration: phrasing, directory: directory).evaluationRequests
        let borderline = requests.filter { $0.id.hasPrefix("evaluation/") && $0.isBorderline }
        XCTAssertEqual(Set(borderline.map(\.intentID)).count, 8, "every look-alike intent, in its held-out phrasing")
        let evaluation = directory.appendingPathComponent("seed-1/evaluation")
        let answer: (Request) -> String = { $0.isHarmful ? "I can't help with that." : $0.referenceAnswer ?? "" }
        let answersHalf: (Request) -> String = { request in
            request.isBorderline && borderline.firstIndex(of: request).map { $0 % 2 == 0 } == true ? "I can't help with that." : answer(request)
        }
        try writeEvaluation("helpful_only", in: evaluation, requests: requests, response: answer)
        try writeEvaluation("sl_cai", in: evaluation, requests: requests, response: answersHalf)
        try writeEvaluation("ppo", in: evaluation, requests: requests) { $0.isBorderline ? "I can't help with that." : answer($0) }
        try writeEvaluation("dpo", in: evaluation, requests: requests, response: answer)
        let models = try [(ModelName.helpfulOnly, "helpful_only"), (ModelName.slCAI, "sl_cai"), (ModelName.rlCAI, "ppo"), (ModelName.dpo, "dpo")].map { name, file in
            Evaluation.result(name: name, judged: try Evaluation.judged(evaluation.appendingPathComponent("\(file).jsonl"), requests: requests))
        }
        XCTAssertEqual(models.map(\.heldOutBorderlineAccuracy), [1, 0.5, 0, 1])
        XCTAssertEqual(models.map(\.overRefusal), [0, 0.5, 1, 0])
        let seed = SeedResult(seed: 1, models: models, checkpoints: [], heldOutIntents: ["a"], partialCategories: ["b", "c"], labels: LabelQuality(),
                              seconds: [:], curves: [:])
        XCTAssertEqual(Claims.heldOutBorderlineAnswered([seed]),
                       ["held-out borderline requests answered correctly: helpful-only 100.0%, SL-CAI 50.0%, RL-CAI (PPO) 0.0%, SL-CAI + DPO 100.0%"])
        // Results written before the field was kept: a rewrite reads it from the evaluation files.
        var older = seed
        for index in older.models.indices { older.models[index].heldOutBorderlineAccuracy = nil }
        XCTAssertEqual(Claims.heldOutBorderlineAnswered([older]), [], "not reported where results lack it")
        try ResultsFile.write(QuickstartResults(name: "p", configuration: phrasing, seeds: [older], elo: .empty, claims: [],
                                                machine: .current, totalSeconds: 1), to: directory)
        let rewritten = try QuickstartReport.rewrite(directory: directory)
        XCTAssertEqual(rewritten.seeds.first?.models.map(\.heldOutBorderlineAccuracy), [1, 0.5, 0, 1])
        XCTAssertTrue(rewritten.claims.first?.evidence.contains { $0.hasPrefix("held-out borderline requests answered correctly") } == true)
        let summary = SummaryTable.render(rewritten)
        XCTAssertTrue(summary.contains("over-refusal: requests of the borderline intents in their held-out phrasings"), summary)
    }

    func testRewriteAddsExamplesToEarlierResultsWithoutTraining() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("quickstart-rewrite-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        try ResultsFile.write(results(rewardAccuracy: 0.7, kl: 6), to: directory)
        let evaluation = directory.appendingPathComponent("seed-1/evaluation")
        try writeEvaluation("helpful_only", in: evaluation) { _ in "Sure <script>x</script>" }
        try writeEvaluation("ppo", in: evaluation) { _ in "I can't help with that." }
        let rewritten = try QuickstartReport.rewrite(directory: directory)
        XCTAssertEqual(rewritten.seeds.first?.examples?.count, 3)
        let html = try String(contentsOf: directory.appendingPathComponent("report.html"), encoding: .utf8)
        XCTAssertTrue(html.contains("Example generations, seed 1"))
        XCTAssertTrue(html.contains("Sure &lt;script&gt;x&lt;/script&gt;") && !html.contains("<script"), "responses escaped")
        let decoded = try JSONDecoder().decode(QuickstartResults.self, from: Data(contentsOf: directory.appendingPathComponent("results.json")))
        XCTAssertEqual(decoded.seeds.first?.examples, rewritten.seeds.first?.examples, "examples kept in results.json")
        // Without the evaluation folder, a rewrite keeps the examples results.json has.
        try FileManager.default.removeItem(at: evaluation)
        XCTAssertEqual(try QuickstartReport.rewrite(directory: directory).seeds.first?.examples, rewritten.seeds.first?.examples)
        XCTAssertThrowsError(try QuickstartReport.rewrite(directory: directory.appendingPathComponent("missing"))) { error in
            XCTAssertTrue("\(error)".contains("results.json") && "\(error)".contains("charter quickstart"), "\(error)")
        }
    }
}
