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
}
