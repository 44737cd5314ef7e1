import Foundation
import XCTest

/// `charter orpo --eval-only` and `charter kto --eval-only` print TRL 1.16's eval metrics for the parity fixtures
/// (Tests/AlignmentTests/Fixtures/trl/expected_orpo_kto.json).
extension CLITests {
    func testORPOAndKTOEvalOnlyPrintTRLsMetrics() throws {
        let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("AlignmentTests/Fixtures/trl")
        let expectedFile = fixtures.appendingPathComponent("expected_orpo_kto.json")
        let expected = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: expectedFile)) as? [String: [String: [String: Double]]])
        let runs: [(command: [String], trl: [String: Double])] = [
            (["orpo", "--model", fixtures.appendingPathComponent("policy").path, "--beta", "0.1"], try XCTUnwrap(expected["orpo"]?["standard"])),
            (["kto", "--model", fixtures.appendingPathComponent("policy").path, "--ref-model", fixtures.appendingPathComponent("reference").path,
              "--batch-size", "4"], try XCTUnwrap(expected["kto"]?["paired_standard"])),
        ]
        for (command, trl) in runs {
            let (status, output, errors) = try charter(command + ["--dataset", fixtures.appendingPathComponent("preference_standard.jsonl").path,
                                                                  "--eval-batch-size", "4", "--eval-only"])
            XCTAssertEqual(status, 0, errors)
            let printed = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(output.utf8)) as? [String: Double], output)
            for (key, value) in trl {
                let mine = try XCTUnwrap(printed[key], "\(command[0]): \(key) missing from \(output)")
                XCTAssertLessThanOrEqual(abs(mine - value), 1e-3 * abs(value) + 1e-6, "\(command[0]) \(key)")
            }
        }
    }

    /// `charter dpo --precompute-ref-batch-size` reaches TRL's key: the precomputed reference gives the per-step
    /// reference's eval metrics, and 0 is refused by the key's name.
    func testDPOPrecomputeRefBatchSizeFlag() throws {
        let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("AlignmentTests/Fixtures/trl")
        let common = ["dpo", "--model", fixtures.appendingPathComponent("policy").path, "--ref-model", fixtures.appendingPathComponent("reference").path,
                      "--dataset", fixtures.appendingPathComponent("preference_standard.jsonl").path, "--eval-batch-size", "4", "--eval-only"]
        let perStep = try charter(common)
        XCTAssertEqual(perStep.0, 0, perStep.2)
        let precomputed = try charter(common + ["--precompute-ref-log-probs", "--precompute-ref-batch-size", "3"])
        XCTAssertEqual(precomputed.0, 0, precomputed.2)
        let a = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(perStep.1.utf8)) as? [String: Double], perStep.1)
        let b = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(precomputed.1.utf8)) as? [String: Double], precomputed.1)
        XCTAssertEqual(Set(a.keys), Set(b.keys))
        for (key, value) in a { XCTAssertEqual(b[key]!, value, accuracy: 1e-6 * max(1, abs(value)), key) }
        let zero = try charter(common + ["--precompute-ref-log-probs", "--precompute-ref-batch-size", "0"])
        XCTAssertNotEqual(zero.0, 0)
        XCTAssertTrue(zero.2.contains("precompute_ref_batch_size: must be at least 1"), zero.2)
    }
}
