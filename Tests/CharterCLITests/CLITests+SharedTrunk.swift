import Foundation
import XCTest

extension CLITests {
    /// `charter reward --ensemble 3 --shared-trunk --bootstrap`: one folder OUTPUT/trunk with num_labels 3 and
    /// ensemble.json's members as its columns; `--eval-only` scores the ensemble with one loaded model;
    /// `--heads-from-labels --shared-trunk` names the columns by principle; ppo refuses the bare K-label folder as one
    /// reward model, naming num_labels.
    func testRewardSharedTrunkEnsembleAndHeads() throws {
        let base = try tinyGPT(named: "base", contextLength: 64, seed: 5)
        let pairs = try write((1...8).map { #"{"prompt": "Question \#($0):", "chosen": " yes", "rejected": " no"}"# }, to: "pairs.jsonl")
        let output = folder.appendingPathComponent("trunk-ensemble").path
        let (status, _, errors) = try charter(["reward", "--model", base.path, "--dataset", pairs, "--ensemble", "3", "--shared-trunk", "--bootstrap",
                                               "--output-dir", output, "--max-steps", "2"])
        XCTAssertEqual(status, 0, errors)
        XCTAssertTrue(errors.contains("shared trunk: 3 heads"), errors)
        func members(_ path: String) throws -> [[String: Any]] {
            let manifest = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: "\(path)/ensemble.json"))) as? [String: Any]
            return try XCTUnwrap(manifest?["members"] as? [[String: Any]])
        }
        XCTAssertEqual(try members(output).map { $0["path"] as? String }, ["trunk", "trunk", "trunk"])
        XCTAssertEqual(try members(output).map { $0["column"] as? Int }, [0, 1, 2])
        let config = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: "\(output)/trunk/config.json"))) as? [String: Any]
        XCTAssertEqual((config?["id2label"] as? [String: String])?.count, 3)
        XCTAssertEqual(config?["architectures"] as? [String], ["GPT2ForSequenceClassification"])
        // --eval-only on the ensemble folder: one model loaded for the three members, each member's accuracy.
        let (evalStatus, evalOutput, evalErrors) = try charter(["reward", "--model", output, "--dataset", pairs, "--eval-only"])
        XCTAssertEqual(evalStatus, 0, evalErrors)
        let metrics = try JSONSerialization.jsonObject(with: Data(evalOutput.utf8)) as? [String: Any]
        XCTAssertEqual(metrics?["eval_models_loaded"] as? Int, 1)
        XCTAssertEqual(metrics?["eval_sequences"] as? Int, 16)
        XCTAssertNotNil(metrics?["eval_accuracy/member-3"] as? Double)

        let labels = try write((1...6).map {
            #"{"prompt": "Question \#($0):", "chosen": " yes", "rejected": " no", "chosen_is_first": true, "judgements": [{"principle_id": "harmless", "p_first": 0.8}, {"principle_id": "helpful", "p_first": 0.3}]}"#
        }, to: "labels.jsonl")
        let heads = folder.appendingPathComponent("trunk-heads").path
        let (headStatus, _, headErrors) = try charter(["reward", "--model", base.path, "--dataset", labels, "--heads-from-labels", "--shared-trunk",
                                                       "--output-dir", heads, "--max-steps", "2"])
        XCTAssertEqual(headStatus, 0, headErrors)
        XCTAssertEqual(try members(heads).map { $0["head"] as? String }, ["harmless", "helpful"])
        XCTAssertEqual(try members(heads).map { $0["column"] as? Int }, [0, 1])
        XCTAssertEqual(try members(heads).map { $0["training_pairs"] as? Int }, [6, 6])

        let prompts = try write((1...4).map { #"{"prompt": "Question \#($0):"}"# }, to: "prompts.jsonl")
        let (ppoStatus, _, ppoErrors) = try charter(["ppo", "--model", base.path, "--reward-model", "\(output)/trunk", "--dataset", prompts,
                                                     "--output-dir", folder.appendingPathComponent("ppo").path])
        XCTAssertNotEqual(ppoStatus, 0)
        XCTAssertTrue(ppoErrors.contains("num_labels = 3"), ppoErrors)

        let (loneStatus, _, loneErrors) = try charter(["reward", "--model", base.path, "--dataset", pairs, "--shared-trunk", "--output-dir", output])
        XCTAssertNotEqual(loneStatus, 0)
        XCTAssertTrue(loneErrors.contains("--shared-trunk"), loneErrors)
    }
}
