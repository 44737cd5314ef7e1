import Foundation
import LanguageModels
import Pipelines
import Reports
import Tensors
import Tokenizers
import XCTest
@testable import Experiments

/// The frontier experiment's parts: the ground truth, pair labelling, the KL estimator, the report, option errors.
final class FrontierTests: XCTestCase {
    // MARK: Ground truth and the review language

    func testGroundTruthRewardCountsPositiveMinusNegativeOverWords() {
        XCTAssertEqual(FrontierTask.reward(" great and sturdy."), 2.0 / 3.0, accuracy: 1e-12)
        XCTAssertEqual(FrontierTask.reward(" awful."), -1)
        XCTAssertEqual(FrontierTask.reward(" Great, but NOISY!"), 0)  // case and punctuation are ignored
        XCTAssertEqual(FrontierTask.reward(" lovely zebra"), 0.5)     // unknown words count as neutral words
        XCTAssertEqual(FrontierTask.reward(" it was poor and dull"), -0.4, accuracy: 1e-12)
        XCTAssertEqual(FrontierTask.reward(""), 0)
        XCTAssertEqual(FrontierTask.reward(" ... !"), 0)              // no words at all
        XCTAssertTrue(Set(FrontierTask.positiveWords).isDisjoint(with: FrontierTask.negativeWords + FrontierTask.neutralWords))
        XCTAssertTrue(Set(FrontierTask.negativeWords).isDisjoint(with: FrontierTask.neutralWords))
    }

    func testItemSplitAndCorpusAreSeededAndWellFormed() {
        let task = FrontierTask(seed: 3, heldOutCount: 8)
        XCTAssertEqual(task.heldOutItems.count, 8)
        XCTAssertEqual(Set(task.heldOutItems + task.trainingItems), Set(FrontierTask.items))
        XCTAssertTrue(Set(task.heldOutItems).isDisjoint(with: task.trainingItems))
        XCTAssertEqual(FrontierTask(seed: 3, heldOutCount: 8).heldOutItems, task.heldOutItems)
        XCTAssertNotEqual(FrontierTask(seed: 4, heldOutCount: 8).heldOutItems, task.heldOutItems)
        XCTAssertTrue(task.heldOutPrompts.allSatisfy { prompt in !task.trainingPrompts.contains(prompt) })

        let corpus = task.corpus(count: 400, seed: 3)
        XCTAssertEqual(corpus.map(\.completion), task.corpus(count: 400, seed: 3).map(\.completion))
        let known = Set(FrontierTask.positiveWords + FrontierTask.negativeWords + FrontierTask.neutralWords)
        for document in corpus {
            XCTAssertTrue(document.completion.hasPrefix(" ") && document.completion.hasSuffix("."), document.completion)
            let words = document.completion.dropLast().split(separator: " ").map(String.init)
            XCTAssertTrue(FrontierTask.wordCount.contains(words.count), document.completion)
            XCTAssertTrue(words.allSatisfy(known.contains), document.completion)
        }
        // Mixed sentiment: the corpus has clearly positive and clearly negative reviews, averaging near 0.
        let rewards = corpus.map { FrontierTask.reward($0.completion) }
        XCTAssertGreaterThan(rewards.filter { $0 >= 0.5 }.count, 20)
        XCTAssertGreaterThan(rewards.filter { $0 <= -0.5 }.count, 20)
        XCTAssertEqual(rewards.reduce(0, +) / Double(rewards.count), 0, accuracy: 0.1)
    }

    // MARK: Pairs

    func testLabelOrdersByGroundTruthEitherWayAndSkipsTies() throws {
        let up = try XCTUnwrap(FrontierPairs.label(prompt: "My lamp:", " great.", " awful."))
        XCTAssertEqual(up, FrontierPreference(prompt: "My lamp:", chosen: " great.", rejected: " awful."))
        let down = try XCTUnwrap(FrontierPairs.label(prompt: "My lamp:", " awful.", " great."))
        XCTAssertEqual(down, FrontierPreference(prompt: "My lamp:", chosen: " great.", rejected: " awful."))
        XCTAssertNil(FrontierPairs.label(prompt: "p", " great and awful.", " it is."))  // 0 = 0, different texts
        XCTAssertNil(FrontierPairs.label(prompt: "p", " great.", " great."))

        func sample(_ prompt: Int, _ text: String) -> FrontierSample {
            FrontierSample(promptIndex: prompt, promptIds: [1], responseIds: [2], text: text)
        }
        let samples = [sample(0, " great."), sample(0, " dull."), sample(1, " it is."), sample(1, " the price."),
                       sample(2, " poor lamp."), sample(2, " lovely lovely.")]
        let (preferences, statistics) = FrontierPairs.label(samples, prompts: ["a", "b", "c"])
        XCTAssertEqual(preferences, [FrontierPreference(prompt: "a", chosen: " great.", rejected: " dull."),
                                     FrontierPreference(prompt: "c", chosen: " lovely lovely.", rejected: " poor lamp.")])
        XCTAssertEqual(statistics, FrontierPairStatistics(sampled: 3, labelled: 2, ties: 1, meanChosenReward: 1, meanRejectedReward: -0.75))
    }

    func testPreferencesAreTRLJSONLines() throws {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("frontier-pairs-\(UUID().uuidString).jsonl")
        defer { try? FileManager.default.removeItem(at: url) }
        try FrontierPairs.write([FrontierPreference(prompt: "My lamp:", chosen: " great.", rejected: " awful.")], to: url)
        XCTAssertEqual(try String(contentsOf: url, encoding: .utf8), #"{"chosen":" great.","prompt":"My lamp:","rejected":" awful."}"# + "\n")
    }

    // MARK: KL

    /// A tokenizer trained on a few reviews, and a random tiny Llama over its vocabulary.
    static func tinyModel(seed: UInt64) throws -> (any CausalLanguageModel, Tokenizer) {
        let texts = FrontierTask(seed: 1, heldOutCount: 4).corpus(count: 50, seed: 1).map { $0.prompt + $0.completion }
        let tokenizer = try BPETrainer(vocabularySize: 300).train(on: texts)
        var configuration = LlamaConfiguration()
        configuration.vocabularySize = tokenizer.vocabularySize
        configuration.hiddenSize = 32
        configuration.intermediateSize = 64
        configuration.layerCount = 1
        configuration.headCount = 2
        configuration.keyValueHeadCount = 2
        configuration.maximumPositionEmbeddings = 64
        configuration.tieWordEmbeddings = true
        var generator = SeededGenerator(seed: seed)
        return (LlamaModel(configuration, generator: &generator), tokenizer)
    }

    func testKLOfAModelAgainstItselfIsExactlyZeroAndPositiveAgainstAnother() throws {
        let (model, tokenizer) = try Self.tinyModel(seed: 5)
        let prompts = ["My lamp:", "Review of the kettle:"]
        let (same, samples, ratios) = try FrontierEvaluation.measure(policy: model, reference: model, tokenizer: tokenizer, prompts: prompts,
                                                                  count: 24, maximumNewTokens: 6, seed: 9)
        XCTAssertEqual(samples.count, 24)
        XCTAssertEqual(samples.map(\.promptIndex), (0..<24).map { $0 % 2 })
        XCTAssertTrue(ratios.allSatisfy { $0 == 0 }, "\(ratios)")
        XCTAssertEqual(same.kl, 0)
        XCTAssertEqual(same.klStandardError, 0)

        // A policy far from the reference: the same weights with its (tied) embedding scaled up, so its next-token
        // distributions are peaked where the reference's are nearly uniform.
        let (policy, _) = try Self.tinyModel(seed: 5)
        let embeddings = policy.namedParameters().filter { $0.tensor.shape == [tokenizer.vocabularySize, 32] }
        XCTAssertEqual(embeddings.count, 1)
        for (_, tensor) in embeddings { tensor.assign(tensor * 60) }
        let (different, _, differentRatios) = try FrontierEvaluation.measure(policy: policy, reference: model, tokenizer: tokenizer, prompts: prompts,
                                                                          count: 24, maximumNewTokens: 6, seed: 9)
        XCTAssertGreaterThan(different.kl, 1)
        XCTAssertGreaterThan(different.kl, 3 * different.klStandardError)
        // The estimate is the mean of the per-sample log-ratios, each a sum over the sampled tokens.
        XCTAssertEqual(different.kl, differentRatios.reduce(0, +) / 24, accuracy: 1e-9)
    }

    // MARK: Report

    static func results(seeds: [UInt64] = [1]) -> FrontierResults {
        func measurement(reward: Double, kl: Double) -> FrontierMeasurement {
            FrontierMeasurement(samples: 256, rewardMean: reward, rewardStandardError: 0.02, kl: kl, klStandardError: 0.1, meanLength: 7.5, endedRate: 0.98)
        }
        func run(_ name: String, _ method: String, beta: Double? = nil, target: Double? = nil, reward: Double, kl: Double) -> FrontierRunResult {
            // Trained runs have a checkpoint halfway and their final policy.
            let trajectory = method == "reference" ? [] : [FrontierCheckpoint(step: 50, measurement: measurement(reward: reward / 2, kl: kl / 2)),
                                                           FrontierCheckpoint(step: 100, measurement: measurement(reward: reward, kl: kl))]
            return FrontierRunResult(name: name, method: method, beta: beta, klTarget: target, measurement: measurement(reward: reward, kl: kl),
                                     trajectory: trajectory, trainingSeconds: method == "reference" ? 20 : 12, finalMetrics: ["loss": 0.5])
        }
        let seedResults = seeds.map { seed in
            FrontierSeedResult(seed: seed, pairs: FrontierPairStatistics(sampled: 100, labelled: 80, ties: 20, meanChosenReward: 0.3, meanRejectedReward: -0.3),
                               runs: [run("reference", "reference", reward: 0.01, kl: 0),
                                      run("dpo-beta-0.1", "DPO", beta: 0.1, reward: 0.6 + Double(seed) / 100, kl: 5),
                                      run("dpo-beta-1", "DPO", beta: 1, reward: 0.3, kl: 1),
                                      run("ppo-kl-4", "PPO", target: 4, reward: 0.5, kl: 3.9)],
                               seconds: ["dpo-beta-0.1": 12], curves: ["sft": [["step": 10, "loss": 3], ["step": 20, "loss": 2]],
                                                                       "reward": [["step": 5, "loss": 0.6, "accuracy": 0.75]],
                                                                       "dpo-beta-0.1": [["step": 5, "loss": 0.6, "rewards/margins": 0.2]],
                                                                       "ppo-kl-4": [["step": 1, "objective/kl": 0.5, "objective/scores": 0.1]]])
        }
        var configuration = FrontierConfiguration()
        configuration.betas = [0.1, 1]
        configuration.klTargets = [4]
        return FrontierResults(name: "test <run>", configuration: configuration, seeds: seedResults, totalSeconds: 42)
    }

    func testTableShowsEveryRunWithItsSettingRewardAndKL() {
        let table = FrontierReport.table(Self.results())
        let rows = table.split(separator: "\n").map(String.init)
        let dpo = try? XCTUnwrap(rows.first { $0.hasPrefix("dpo-beta-0.1") })
        XCTAssertTrue(dpo?.contains("β 0.1") == true && dpo?.contains("0.610 ± 0.020") == true && dpo?.contains("5.00 ± 0.10") == true, dpo ?? table)
        XCTAssertTrue(rows.contains { $0.hasPrefix("ppo-kl-4") && $0.contains("KL target 4") && $0.contains("3.90 ± 0.10") }, table)
        XCTAssertTrue(rows.contains { $0.hasPrefix("reference") && $0.contains("0.00 ± 0.10") && $0.hasSuffix("20") }, table)
        XCTAssertTrue(table.contains("80 pairs labelled, 20 of 100 ties skipped"), table)
        XCTAssertTrue(table.contains("reward model training accuracy 0.75"), table)

        let several = FrontierReport.table(Self.results(seeds: [1, 2]))
        XCTAssertTrue(several.contains("0.615 (0.610–0.620)"), several)
    }

    func testReportIsSelfContainedAndResultsRoundTrip() throws {
        let results = Self.results()
        let html = FrontierReport.html(results)
        XCTAssertTrue(html.contains("test &lt;run&gt;"))
        XCTAssertFalse(html.contains("<script") || html.contains("src=") || html.contains("href="))
        // The frontier: one series per method, a point per checkpoint, each run's final point labelled, the reference
        // at KL 0.
        let frontier = FrontierReport.frontier(results)
        for label in ["π_ref", "β 0.1", "β 1", "KL target 4"] {
            XCTAssertEqual(frontier.components(separatedBy: ">\(label)</text>").count - 1, 1, label)
        }
        XCTAssertEqual(frontier.components(separatedBy: "<circle").count - 1, 1 + 3 * 2)
        XCTAssertEqual(frontier.components(separatedBy: "<title>DPO</title>").count - 1, 4)
        XCTAssertTrue(html.contains("DPO: rewards/margins") && html.contains("PPO: objective/kl") && html.contains("reference SFT: loss"))

        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("frontier-report-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        try FrontierReport.write(results, to: directory)
        let decoded = try JSONDecoder().decode(FrontierResults.self, from: Data(contentsOf: directory.appendingPathComponent("results.json")))
        XCTAssertEqual(decoded, results)
        XCTAssertTrue(FileManager.default.fileExists(atPath: directory.appendingPathComponent("report.html").path))
    }

    func testReportExplainsItsStagesAndWarnsAboutAChanceRewardModelOrARunawayKL() {
        var results = Self.results()
        let healthy = FrontierReport.html(results)
        XCTAssertFalse(healthy.contains("role=\"alert\""), "the test results' reward model (0.75) and PPO KL (0.5) pass")
        XCTAssertTrue(healthy.contains("Every training check passed (2 checks)"), healthy)
        for (term, _) in FrontierReport.stages(results.configuration) + FrontierReport.columns(results) + FrontierReport.metrics {
            XCTAssertTrue(healthy.contains("<dt>\(HTMLPage.escape(term))</dt>"), term)
        }
        XCTAssertTrue(healthy.contains("<td>dpo-beta-0.1</td><td>β 0.1</td><td class=\"num\">0.610 ± 0.020</td>"), "the runs as an HTML table")

        results.seeds[0].curves["reward"] = [["step": 5, "loss": 0.69, "accuracy": 0.55]]
        let atChance = FrontierReport.html(results)
        XCTAssertEqual(atChance.components(separatedBy: "role=\"alert\"").count - 1, 1)
        XCTAssertTrue(atChance.contains("seed 1 reward model: the reward model&#39;s final accuracy is 0.550"), atChance)

        results.seeds[0].curves["ppo-kl-4"] = [["step": 1, "objective/kl": 3], ["step": 2, "objective/kl": 30]]
        let runaway = FrontierReport.html(results)
        XCTAssertEqual(runaway.components(separatedBy: "role=\"alert\"").count - 1, 2)
        XCTAssertTrue(runaway.contains("seed 1 ppo-kl-4: PPO&#39;s KL from the reference reached 30.00 nats per response at step 2"), runaway)
        XCTAssertTrue(FrontierReport.table(results).contains("WARNING: seed 1 ppo-kl-4: PPO's KL"), "the terminal table warns too")
        XCTAssertFalse(FrontierReport.table(Self.results()).contains("WARNING"))
    }

    func testExamplesAreEachRunsFirstContinuationOfTheFirstPrompts() throws {
        let evaluation = FileManager.default.temporaryDirectory.appendingPathComponent("frontier-examples-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: evaluation) }
        try FileManager.default.createDirectory(at: evaluation, withIntermediateDirectories: true)
        func write(_ run: String, _ rows: [(String, String, Double)]) throws {
            let lines = rows.map { "{\"completion\":\"\($0.1)\",\"prompt\":\"\($0.0)\",\"reward\":\($0.2)}\n" }
            try Data(lines.joined().utf8).write(to: evaluation.appendingPathComponent("\(run).jsonl"))
        }
        try write("reference", [("p1", " meh", 0), ("p2", " ok", 0.1), ("p3", " x", 0), ("p1", " second sample", 0.5)])
        try write("dpo-beta-0.1", [("p1", " great <b>", 0.5), ("p2", " fine", 0.25)])
        let examples = FrontierRun.examples(runs: ["reference", "dpo-beta-0.1", "ppo-kl-4"], evaluation: evaluation)
        XCTAssertEqual(examples.map(\.prompt), ["p1", "p2"])
        XCTAssertEqual(examples[0].responses, [GenerationExample.Response(model: "reference", text: " meh", verdict: "reward +0.000"),
                                               GenerationExample.Response(model: "dpo-beta-0.1", text: " great <b>", verdict: "reward +0.500")])
        var results = Self.results()
        results.seeds[0].examples = examples
        let html = FrontierReport.html(results)
        XCTAssertTrue(html.contains("Example continuations, seed 1") && html.contains(" great &lt;b&gt;"), html)
    }

    // MARK: Options

    func testBadOptionValuesNameTheOption() {
        func message(_ body: () throws -> Any) -> String {
            do { _ = try body(); return "no error" } catch { return "\(error)" }
        }
        XCTAssertEqual(try FrontierConfiguration.parseList("0.05, 0.1,1", option: "--betas"), [0.05, 0.1, 1])
        XCTAssertTrue(message { try FrontierConfiguration.parseList("0.1,abc", option: "--betas") }.hasPrefix("--betas: \"abc\" is not a positive number"))
        XCTAssertTrue(message { try FrontierConfiguration.parseList("2,-4", option: "--kl-targets") }.hasPrefix("--kl-targets: \"-4\""))
        XCTAssertTrue(message { try FrontierConfiguration.parseList("0", option: "--betas") }.hasPrefix("--betas: \"0\""))
        XCTAssertTrue(message { try FrontierConfiguration.parseList("inf", option: "--betas") }.hasPrefix("--betas: \"inf\""))
        XCTAssertTrue(message { try FrontierConfiguration.parseList("1,,2", option: "--betas") }.hasPrefix("--betas: \"\""))
        XCTAssertTrue(message { try FrontierConfiguration.parseList("", option: "--kl-targets") }.hasPrefix("--kl-targets: empty"))

        var configuration = FrontierConfiguration()
        configuration.klTargets = [2, 2]
        XCTAssertTrue(message { try configuration.validate() }.hasPrefix("--kl-targets: values must be distinct"))
        configuration = FrontierConfiguration()
        configuration.betas = []
        XCTAssertTrue(message { try configuration.validate() }.hasPrefix("--betas: give at least one"))
        configuration = FrontierConfiguration()
        configuration.evaluationSamples = 1
        XCTAssertTrue(message { try configuration.validate() }.hasPrefix("evaluationSamples:"))
        XCTAssertNoThrow(try FrontierConfiguration.full.validate())
        XCTAssertNoThrow(try FrontierConfiguration.reduced.validate())
    }

    func testRecipesParseWithOneStagePerSweepValue() throws {
        let base = FileManager.default.temporaryDirectory
        let reference = try PipelineRecipe.parse(yaml: FrontierRecipe.referenceYAML(.full, seed: 1), file: "reference.yaml", baseDirectory: base)
        XCTAssertEqual(reference.stages.map(\.type), [.sft])
        let training = try PipelineRecipe.parse(yaml: FrontierRecipe.trainingYAML(.full, seed: 1), file: "training.yaml", baseDirectory: base)
        XCTAssertEqual(training.stages.map(\.name), ["reward", "dpo-beta-0.05", "dpo-beta-0.1", "dpo-beta-0.3", "dpo-beta-1",
                                                     "ppo-kl-1", "ppo-kl-2", "ppo-kl-4", "ppo-kl-8"])
        XCTAssertTrue(training.stages.first { $0.name == "ppo-kl-4" }?.trainingYAML.contains("kl_target: 4") == true)
        XCTAssertTrue(training.stages.first { $0.name == "dpo-beta-0.05" }?.trainingYAML.contains("beta: 0.05") == true)
    }

    // MARK: End to end

    /// The whole experiment at a micro size (≈ 40 s in a debug build): DPO with a small β must raise the held-out
    /// ground-truth reward above the reference's by more than two standard errors, and every output must be written.
    func testMicroRunRaisesRewardWithDPOAndWritesItsOutputs() async throws {
        var c = FrontierConfiguration()
        c.corpusSize = 600
        c.vocabularySize = 512
        c.hiddenSize = 32
        c.layerCount = 1
        c.headCount = 2
        c.intermediateSize = 64
        c.contextLength = 32
        c.responseLength = 12
        c.referenceSteps = 200
        c.pairsPerPrompt = 6
        c.betas = [0.1]
        c.dpoSteps = 50
        c.dpoLearningRate = 1e-3
        c.rewardSteps = 10
        c.klTargets = [4]
        c.ppoEpisodes = 64
        c.evaluationSamples = 128
        c.checkpointsPerRun = 1
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("charter-frontier-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let results = try await FrontierRun(name: "micro", configuration: c, seeds: [1], directory: directory).run { _ in }
        // Measured (seed 1, debug): reference −0.014 ± 0.028, DPO β 0.1 0.199 ± 0.034 at KL 1.1 nats.
        let runs = try XCTUnwrap(results.seeds.first).runs
        XCTAssertEqual(runs.map(\.name), ["reference", "dpo-beta-0.1", "ppo-kl-4"])
        let reference = runs[0].measurement, dpo = runs[1].measurement
        XCTAssertEqual(reference.kl, 0)
        XCTAssertGreaterThan(dpo.rewardMean, reference.rewardMean + 2 * (dpo.rewardStandardError + reference.rewardStandardError))
        XCTAssertGreaterThan(dpo.kl, 0)
        try FrontierReport.write(results, to: directory)
        for file in ["results.json", "report.html", "seed-1/pairs/preferences.jsonl", "seed-1/evaluation/dpo-beta-0.1.jsonl",
                     "seed-1/training/ppo-kl-4/model/config.json"] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: directory.appendingPathComponent(file).path), file)
        }
    }
}
