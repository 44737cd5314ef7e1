import Datasets
import Foundation
import XCTest
@testable import Alignment
import LanguageModels

/// Charter's KTO evaluation metrics against TRL 1.16's `KTOTrainer.evaluate()` (policy/ with reference/ as ref_model)
/// on unpaired rows and on preference pairs TRL unpairs (Fixtures/trl/make_orpo_kto_fixtures.py): every metric within
/// 1e-3 relative.
final class KTOParityTests: XCTestCase {
    func testKTOEvaluationMatchesTRL() throws {
        let scenarios: [(String, String, (inout KTOConfiguration) -> Void)] = [
            ("unpaired", "unpaired_standard.jsonl", { $0.beta = 0.1 }),
            ("unpaired_weighted_truncated", "unpaired_standard.jsonl", {
                $0.beta = 0.5; $0.desirableWeight = 1.33; $0.undesirableWeight = 0.8; $0.maximumLength = 20 }),
            ("unpaired_apo_zero", "unpaired_standard.jsonl", { $0.beta = 0.2; $0.lossType = "apo_zero_unpaired" }),
            ("paired_standard", "preference_standard.jsonl", { $0.beta = 0.1 }),
            ("paired_conversational", "preference_conversational.jsonl", { $0.beta = 0.1 }),
            // The reference read once before evaluating, in batches of 3 (TRL: the same metrics as reading it per batch).
            ("paired_standard_precompute", "preference_standard.jsonl", {
                $0.beta = 0.1; $0.precomputeReferenceLogProbabilities = true; $0.precomputeReferenceBatchSize = 3
                $0.training.trainSamplingStrategy = "sequential" }),
        ]
        let expected = try ORPOParityTests.expected("kto")
        let fixtures = DPOParityTests.fixtures
        let policyFolder = fixtures.appendingPathComponent("policy")
        let encoder = try ExampleEncoder.load(directory: policyFolder)
        for (name, file, configure) in scenarios {
            var configuration = KTOConfiguration()
            configuration.training.batchSize = 4
            configuration.training.evaluationBatchSize = 4
            configure(&configuration)
            let data = try Dataset.load(fixtures.appendingPathComponent(file))
            let trainer = try KTOTrainer(configuration: configuration, policy: try TrainableModel(directory: policyFolder),
                                         reference: .model(try PretrainedModel.load(directory: fixtures.appendingPathComponent("reference"))),
                                         encoder: encoder, train: [], evaluation: data.examples)
            ORPOParityTests.assertMatches(try XCTUnwrap(try trainer.evaluate()), try XCTUnwrap(expected[name]), name)
        }
    }

    func testOneKTOStepMatchesTRL() throws {
        let fixtures = DPOParityTests.fixtures
        let policyFolder = fixtures.appendingPathComponent("policy")
        var configuration = KTOConfiguration()
        configuration.training = ORPOParityTests.oneStep(batchSize: 12)
        let data = try Dataset.load(fixtures.appendingPathComponent("preference_standard.jsonl"))
        let trainer = try KTOTrainer(configuration: configuration, policy: try TrainableModel(directory: policyFolder),
                                     reference: .model(try PretrainedModel.load(directory: fixtures.appendingPathComponent("reference"))),
                                     encoder: try ExampleEncoder.load(directory: policyFolder), train: data.examples, evaluation: data.examples)
        try ORPOParityTests.assertOneStepMatches(trainer, arguments: configuration.training,
                                                 try XCTUnwrap(try ORPOParityTests.expected("kto")["paired_standard_one_step"]),
                                                 "paired_standard_one_step")
    }

    /// precompute_ref_log_probs without ref_model: TRL reads the initial policy once as the reference (completions and
    /// KL completions), then takes one step; the step and the evaluation after it match.
    func testOneKTOStepWithTheInitialPolicyReadOnceMatchesTRL() throws {
        let fixtures = DPOParityTests.fixtures
        let policyFolder = fixtures.appendingPathComponent("policy")
        var configuration = KTOConfiguration()
        configuration.training = ORPOParityTests.oneStep(batchSize: 12)
        configuration.training.trainSamplingStrategy = "sequential"
        configuration.precomputeReferenceLogProbabilities = true
        let data = try Dataset.load(fixtures.appendingPathComponent("preference_standard.jsonl"))
        let trainer = try KTOTrainer(configuration: configuration, policy: try TrainableModel(directory: policyFolder), reference: .initialPolicy,
                                     encoder: try ExampleEncoder.load(directory: policyFolder), train: data.examples, evaluation: data.examples)
        try ORPOParityTests.assertOneStepMatches(trainer, arguments: configuration.training,
                                                 try XCTUnwrap(try ORPOParityTests.expected("kto")["paired_standard_one_step_precompute_initial_policy"]),
                                                 "paired_standard_one_step_precompute_initial_policy")
    }

    /// TRL's unpairing order: the chosen rows of a block of pairs, then its rejected rows; and the KL rotation.
    func testPairsAreUnpairedAndCompletionsRotatedAsTRL() throws {
        let fixtures = DPOParityTests.fixtures
        let encoder = try ExampleEncoder.load(directory: fixtures.appendingPathComponent("policy"))
        let pairs = try Dataset.load(fixtures.appendingPathComponent("preference_standard.jsonl")).examples
        let rows = try KTOExample.tokenize(pairs, encoder: encoder)
        XCTAssertEqual(rows.map(\.desirable), [Bool](repeating: true, count: 6) + [Bool](repeating: false, count: 6))
        XCTAssertEqual(rows.map(\.line), Array(1...6) + Array(1...6))
        let rotated = KTOExample.withMismatchedCompletions(rows, blockSize: 4)
        XCTAssertEqual(rotated[0].mismatchedCompletionIds, rows[3].completionIds)
        XCTAssertEqual(rotated[1].mismatchedCompletionIds, rows[0].completionIds)
        XCTAssertEqual(rotated[8].mismatchedCompletionIds, rows[11].completionIds)
    }
}
