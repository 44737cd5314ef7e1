import Foundation
import Reports
import XCTest
@testable import Experiments

final class PluralisticTests: XCTestCase {
    func testGroupRewardsCountWordsAsDocumented() {
        // 2 positive, 1 negative, 3 neutral of 6 words.
        let text = " great lovely awful it is the."
        XCTAssertEqual(ReviewGroups.enthusiastReward(text), 1.0 / 6, accuracy: 1e-12)
        XCTAssertEqual(ReviewGroups.factualReward(text), (3.0 - 3) / 6, accuracy: 1e-12)
        XCTAssertEqual(ReviewGroups.factualReward(" it is the design."), 1)
        XCTAssertEqual(ReviewGroups.factualReward(" superb."), -1)
        XCTAssertEqual(ReviewGroups.factualReward(""), 0)
    }

    /// The claims read planted per-seed outcomes: intervals over seeds, holding only above 0.
    func testConfigurationsWrittenBeforeTheInContextConditionStillDecode() throws {
        var configuration = PluralisticConfiguration.reduced
        configuration.inContextSteps = 77
        let data = try JSONEncoder().encode(configuration)
        XCTAssertEqual(try JSONDecoder().decode(PluralisticConfiguration.self, from: data), configuration)
        var object = try XCTUnwrap(JSONSerialization.jsonObject(with: data) as? [String: Any])
        object["inContextSteps"] = nil
        object["inContextLearningRate"] = nil
        let old = try JSONDecoder().decode(PluralisticConfiguration.self, from: JSONSerialization.data(withJSONObject: object))
        XCTAssertEqual(old.inContextSteps, 0, "an older run had no in-context policy")
        XCTAssertEqual(old.ppoEpisodes, configuration.ppoEpisodes)
        XCTAssertEqual(old.world, configuration.world)
        object["pairsPerPrompt"] = nil
        XCTAssertThrowsError(try JSONDecoder().decode(PluralisticConfiguration.self, from: JSONSerialization.data(withJSONObject: object)))
        // Written with the label design, before the heads design existed: steps kept, design read as labels.
        var labelRun = try XCTUnwrap(JSONSerialization.jsonObject(with: data) as? [String: Any])
        XCTAssertEqual(labelRun["inContextDesign"] as? String, "heads")
        for key in ["inContextDesign", "inContextSamplesPerPrompt", "inContextKeptPerPrompt"] { labelRun[key] = nil }
        let labels = try JSONDecoder().decode(PluralisticConfiguration.self, from: JSONSerialization.data(withJSONObject: labelRun))
        XCTAssertEqual(labels.inContextDesign, .labels)
        XCTAssertEqual(labels.inContextSteps, 77)
        let labelPage = PluralisticReport.page(PluralisticResults(configuration: labels, seeds: [inContextSeed()])).html
        XCTAssertTrue(labelPage.contains("weights: enthusiast 0.75, factual 0.25") && !labelPage.contains("crowd: "), "a label run's page describes the label design")
        let headsPage = PluralisticReport.page(PluralisticResults(configuration: configuration, seeds: [inContextSeed()])).html
        XCTAssertTrue(headsPage.contains("crowd: EEEF") && headsPage.contains("rank highest"), "a heads run's page describes the heads design")
    }

    private func inContextSeed() -> PluralisticSeed {
        PluralisticSeed(seed: 1, pairs: [:], accuracy: [:], selections: [0.0, 1.0].map {
            PluralisticSelection(policy: "in-context", method: "weighted", factualWeight: $0, enthusiast: 0, factual: 0, enthusiastStandardised: 0, factualStandardised: 0)
        }, seconds: [:], inContextExamples: 10)
    }

    /// The crowd line: one letter per reader, F's share the factual weight; weights it cannot state are refused when
    /// the heads design is on, and allowed with the label design or without an in-context policy.
    func testCrowdLineStatesWeightsInQuartersAndRefusesOthers() throws {
        XCTAssertEqual([0, 0.25, 0.5, 0.75, 1].map { PluralisticInContext.prefix(.heads, factualWeight: $0) },
                       ["crowd: EEEE\n", "crowd: EEEF\n", "crowd: EEFF\n", "crowd: EFFF\n", "crowd: FFFF\n"])
        XCTAssertEqual(PluralisticInContext.prefix(.labels, factualWeight: 0.25), "weights: enthusiast 0.75, factual 0.25\n")
        XCTAssertFalse(PluralisticInContext.crowdCanState(0.3))
        XCTAssertFalse(PluralisticInContext.crowdCanState(1.25))
        var c = PluralisticConfiguration()
        XCTAssertNoThrow(try c.validate())
        c.factualWeights = [0, 0.3, 1]
        XCTAssertThrowsError(try c.validate()) { XCTAssertTrue("\($0)".contains("factualWeights") && "\($0)".contains("1/4"), "\($0)") }
        c.inContextDesign = .labels
        XCTAssertNoThrow(try c.validate())
        c.inContextDesign = .heads
        c.inContextSteps = 0
        XCTAssertNoThrow(try c.validate())
        c = PluralisticConfiguration()
        c.inContextKeptPerPrompt = c.inContextSamplesPerPrompt + 1
        XCTAssertThrowsError(try c.validate()) { XCTAssertTrue("\($0)".contains("inContextKeptPerPrompt"), "\($0)") }
    }

    /// The heads design's targets: per weight and prompt, the kept samples the objective of that weight ranks highest
    /// (ties to the earlier sample), after that weight's crowd line.
    func testHeadTargetsAreEachPromptsTopSamplesAtEachWeight() {
        let prompts = ["My lamp:", "My tent:"]
        let samples: [(promptIndex: Int, text: String)] = [(0, " great."), (1, " superb."), (0, " it is."), (1, " the size."), (0, " lovely design."), (1, " awful.")]
        // Weight 0 ranks sentiment first; weight 1 ranks neutral words first; samples 0 and 4 tie at weight 1.
        let objectives = [[3, 3, 1, 1, 2, 0], [0, 0, 2, 2, 0, 1]] as [[Double]]
        let examples = PluralisticInContext.selectedExamples(prompts: prompts, samples: samples, objectives: objectives, factualWeights: [0, 1], kept: 2)
        XCTAssertEqual(examples.map(\.prompt), ["crowd: EEEE\nMy lamp:", "crowd: EEEE\nMy lamp:", "crowd: EEEE\nMy tent:", "crowd: EEEE\nMy tent:",
                                                "crowd: FFFF\nMy lamp:", "crowd: FFFF\nMy lamp:", "crowd: FFFF\nMy tent:", "crowd: FFFF\nMy tent:"])
        XCTAssertEqual(examples.map(\.completion), [" great.", " lovely design.", " superb.", " the size.",
                                                    " it is.", " great.", " the size.", " awful."])
        XCTAssertEqual(PluralisticInContext.selectedExamples(prompts: prompts, samples: samples, objectives: objectives, factualWeights: [0, 1], kept: 3).count, 12)
    }

    func testClaimsReadPlantedSelections() {
        func selection(_ method: String, _ weight: Double?, _ e: Double, _ f: Double) -> PluralisticSelection {
            PluralisticSelection(method: method, factualWeight: weight, enthusiast: e / 3, factual: f / 3, enthusiastStandardised: e, factualStandardised: f)
        }
        let seeds = [0.0, 0.05, -0.05].enumerated().map { index, noise in
            PluralisticSeed(seed: UInt64(index + 1), pairs: [:], accuracy: ["pooled/factual": 0.6], selections: [
                selection("weighted", 0, 1 + noise, -0.2), selection("weighted", 0.5, 0.6, 0.5 + noise), selection("weighted", 1, 0.1, 1 + noise),
                selection("maxmin", nil, 0.55, 0.45 + noise), selection("pooled", nil, 0.9, 0.1 + noise / 2),
            ], seconds: [:])
        }
        let results = PluralisticResults(configuration: .reduced, seeds: seeds)
        XCTAssertEqual(results.monotoneSeeds, 3)
        let claims = Dictionary(uniqueKeysWithValues: results.claims.map { ($0.statement, $0) })
        XCTAssertEqual(claims.count, 5)
        let gain = claims.first { $0.key.contains("factual readers gain") }!.value
        XCTAssertEqual(gain.difference.mean, 1.2, accuracy: 1e-9)
        XCTAssertTrue(gain.holds)
        let worst = claims.first { $0.key.contains("MaxMin serves the worse-off") }!.value
        XCTAssertEqual(worst.difference.mean, 0.45 - 0.1, accuracy: 1e-9)
        XCTAssertTrue(worst.holds)
        XCTAssertEqual(results.selections.first { $0.label == "pooled" }!.worstGroup.mean, 0.1, accuracy: 1e-9)
        // One seed: no interval, nothing holds.
        XCTAssertTrue(PluralisticResults(configuration: .reduced, seeds: [seeds[0]]).claims.allSatisfy { !$0.holds })
    }

    /// The conditioning data follow the labels, not the ground truth: here the labels are planted against r_e and r_f
    /// (the "enthusiasts" chose the duller review), and the examples still take what each label chose.
    func testInContextConditioningReadsOnlyTheLabels() {
        func preference(_ chosen: String, _ rejected: String) -> FrontierPreference { FrontierPreference(prompt: "My lamp:", chosen: chosen, rejected: rejected) }
        let pairs = [
            PluralisticInContext.LabelledPair(prompt: "My lamp:", enthusiast: preference(" awful dull.", " superb great."),
                                              factual: preference(" superb great.", " awful dull.")),
            PluralisticInContext.LabelledPair(prompt: "My lamp:", enthusiast: nil, factual: preference(" it is.", " great.")),
            PluralisticInContext.LabelledPair(prompt: "My lamp:", enthusiast: preference(" lovely.", " the."), factual: nil),
        ]
        let examples = PluralisticInContext.conditioningExamples(pairs, factualWeights: [0, 1], seed: 7)
        // Weight 0: every decider is an enthusiast (the tied second pair is left out); weight 1: every decider a factual reader.
        XCTAssertEqual(examples.map(\.completion), [" awful dull.", " lovely.", " superb great.", " it is."])
        XCTAssertEqual(examples.map(\.prompt), [String](repeating: "weights: enthusiast 1.00, factual 0.00\nMy lamp:", count: 2)
                           + [String](repeating: "weights: enthusiast 0.00, factual 1.00\nMy lamp:", count: 2))
        XCTAssertLessThan(ReviewGroups.enthusiastReward(examples[0].completion), ReviewGroups.enthusiastReward(" superb great."),
                          "the planted label goes against the ground truth, so following it is not following r_e")
        // Weight 0.25 over many conflicting pairs: about a quarter of the deciders are factual readers (seeded, so exact).
        let conflicts = [PluralisticInContext.LabelledPair](repeating: pairs[0], count: 400)
        let quarter = PluralisticInContext.conditioningExamples(conflicts, factualWeights: [0.25], seed: 7)
        XCTAssertEqual(quarter.count, 400)
        let factualShare = Double(quarter.filter { $0.completion == " superb great." }.count) / 400
        XCTAssertEqual(factualShare, 0.25, accuracy: 0.06)
        XCTAssertEqual(quarter.map(\.completion), PluralisticInContext.conditioningExamples(conflicts, factualWeights: [0.25], seed: 7).map(\.completion))
    }

    /// In-context rows get their own sweep claims, monotonicity count and comparisons with best-of-n at the sweep's ends.
    func testInContextClaimsReadPlantedSelections() throws {
        func selection(_ policy: String, _ weight: Double, _ e: Double, _ f: Double) -> PluralisticSelection {
            PluralisticSelection(policy: policy, method: "weighted", factualWeight: weight, enthusiast: e, factual: f, enthusiastStandardised: e, factualStandardised: f)
        }
        let seeds = [0.0, 0.05, -0.05].enumerated().map { index, noise in
            PluralisticSeed(seed: UInt64(index + 1), pairs: [:], accuracy: [:], selections: [
                selection("best-of-n", 0, 1.4 + noise, -0.2), selection("best-of-n", 1, 0.1, 1.5 + noise),
                // The second seed's in-context sweep is not monotone for enthusiasts.
                selection("in-context", 0, 0.5 + noise, 0), selection("in-context", 1, index == 1 ? 0.6 : 0.2, 0.7 + noise),
            ], seconds: [:], inContextExamples: 100)
        }
        let results = PluralisticResults(configuration: .reduced, seeds: seeds)
        XCTAssertEqual(results.inContextMonotoneSeeds, 2)
        XCTAssertEqual(results.monotoneSeeds, 3)
        let claims = Dictionary(uniqueKeysWithValues: results.claims.map { ($0.statement, $0) })
        let gain = try XCTUnwrap(claims.first { $0.key.hasPrefix("in-context: factual readers gain") }?.value)
        XCTAssertEqual(gain.difference.mean, 0.7, accuracy: 1e-9)
        let factualEnd = try XCTUnwrap(claims.first { $0.key.contains("gives factual readers more than the in-context policy at factual weight 1.00") }?.value)
        XCTAssertEqual(factualEnd.difference.mean, 0.8, accuracy: 1e-9)
        XCTAssertTrue(factualEnd.holds)
        let enthusiastEnd = try XCTUnwrap(claims.first { $0.key.contains("gives enthusiasts more than the in-context policy at factual weight 0.00") }?.value)
        XCTAssertEqual(enthusiastEnd.difference.mean, 0.9, accuracy: 1e-9)
        XCTAssertNil(PluralisticResults(configuration: .reduced, seeds: seeds.map { seed in
            var seed = seed
            seed.selections.removeAll { $0.policy == "in-context" }
            return seed
        }).inContextMonotoneSeeds)
        XCTAssertTrue(PluralisticReport.page(results).html.contains("in-context (weights in the prompt)"))
    }

    /// The reduced experiment end to end (one seed): heads trained per group move best-of-n along the trade-off as the
    /// weights ask, and the pooled model leans to its majority.
    func testReducedRunMovesAlongTheTradeOff() async throws {
        var c = PluralisticConfiguration.reduced
        c.world.referenceSteps = 150
        c.rewardSteps = 40
        c.ppoFactualWeights = [1]
        c.ppoEpisodes = 64
        c.evaluationSamples = 32
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("pluralistic-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        let seed = try await Pluralistic.run(c, seed: 1, folder: folder.appendingPathComponent("seed-1"), log: { _ in })
        let weighted = seed.selections.filter { $0.policy == "best-of-n" && $0.method == "weighted" }
        XCTAssertEqual(weighted.map(\.factualWeight), [0, 0.5, 1])
        XCTAssertGreaterThan(weighted.last!.factualStandardised, weighted.first!.factualStandardised + 0.3, "\(weighted)")
        XCTAssertGreaterThan(weighted.first!.enthusiastStandardised, weighted.last!.enthusiastStandardised + 0.3, "\(weighted)")
        let pooled = try XCTUnwrap(seed.selections.first { $0.policy == "best-of-n" && $0.method == "pooled" })
        // PPO ran against the weighted heads, MaxMin and the pooled model, each measured on held-out prompts.
        XCTAssertEqual(seed.selections.filter { $0.policy == "PPO" }.map(\.label), ["PPO: weighted (factual 1.00)", "PPO: maxmin", "PPO: pooled"])
        XCTAssertTrue(seed.selections.filter { $0.policy == "PPO" }.allSatisfy { $0.kl != nil && $0.factual.isFinite })
        XCTAssertGreaterThan(pooled.enthusiastStandardised, pooled.factualStandardised, "the pooled model should lean to its 80% majority: \(pooled)")
        // The in-context policy: trained once on conditioning examples from the labelled pairs, sampled at every weight.
        let inContext = seed.selections.filter { $0.policy == "in-context" }
        XCTAssertEqual(inContext.map(\.label), ["in-context: weighted (factual 0.00)", "in-context: weighted (factual 0.50)", "in-context: weighted (factual 1.00)"])
        let examples = try XCTUnwrap(seed.inContextExamples)
        // The heads design keeps the best few of each training prompt's samples at every weight.
        let trainingPrompts = FrontierTask(seed: 1, heldOutCount: c.world.heldOutItems).trainingPrompts.count
        XCTAssertEqual(examples, c.factualWeights.count * trainingPrompts * c.inContextKeptPerPrompt)
        // Fine-tuning and the weight line move the policy away from the reference: a positive KL at every weight.
        XCTAssertTrue(inContext.allSatisfy { ($0.kl ?? 0) > 0 && $0.factual.isFinite }, "\(inContext)")
        XCTAssertGreaterThan(try XCTUnwrap(seed.accuracy["enthusiast head/enthusiast"]), 0.6)
        XCTAssertGreaterThan(try XCTUnwrap(seed.accuracy["factual head/factual"]), 0.6)
        let results = PluralisticResults(configuration: c, seeds: [seed])
        try PluralisticReport.write(results, to: folder)
        let html = try String(contentsOf: folder.appendingPathComponent("report.html"), encoding: .utf8)
        XCTAssertTrue(html.contains("MaxMin") && html.contains("<svg"))
    }
}
