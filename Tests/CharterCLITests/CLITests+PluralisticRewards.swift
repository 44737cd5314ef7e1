import Foundation
import XCTest

extension CLITests {
    /// `charter reward --heads-from-labels --head NAME=FILE`: one head per principle of the label records plus one from
    /// a second file, named in ensemble.json; `ppo --principle-weights` refuses weights that miss a head before training.
    func testRewardHeadsFromLabelsAndFiles() throws {
        func record(_ index: Int, harmless: Double, helpful: Double) -> String {
            #"{"prompt": "Question \#(index):", "chosen": " yes", "rejected": " no", "chosen_probability": 0.6, "chosen_is_first": true, "judgements": [{"principle_id": "harmless", "p_first": \#(harmless)}, {"principle_id": "helpful", "p_first": \#(helpful)}]}"#
        }
        let labels = try write((1...8).map { record($0, harmless: 0.8, helpful: 0.3) }, to: "labels.jsonl")
        let honest = try write((1...8).map { #"{"prompt": "Question \#($0):", "chosen": " no", "rejected": " yes"}"# }, to: "honest.jsonl")
        let base = try tinyGPT(named: "base", contextLength: 64, seed: 5)
        let output = folder.appendingPathComponent("heads").path
        let (status, _, errors) = try charter(["reward", "--model", base.path, "--dataset", labels, "--heads-from-labels", "--head", "honest=\(honest)",
                                               "--output-dir", output, "--max-steps", "2"])
        XCTAssertEqual(status, 0, errors)
        XCTAssertTrue(errors.contains("2 principle heads from \(labels): harmless (8 pairs), helpful (8 pairs)"), errors)
        let manifest = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: "\(output)/ensemble.json"))) as? [String: Any]
        let members = try XCTUnwrap(manifest?["members"] as? [[String: Any]])
        XCTAssertEqual(members.map { $0["head"] as? String }, ["harmless", "helpful", "honest"])
        XCTAssertEqual(members.map { $0["path"] as? String }, ["head-harmless", "head-helpful", "head-honest"])

        let prompts = try write((1...4).map { #"{"prompt": "Question \#($0):"}"# }, to: "prompts.jsonl")
        let (ppoStatus, _, ppoErrors) = try charter(["ppo", "--model", base.path, "--reward-model", output, "--dataset", prompts,
                                                     "--principle-weights", "harmless=0.5,helpful=0.5", "--output-dir", folder.appendingPathComponent("ppo").path])
        XCTAssertNotEqual(ppoStatus, 0)
        XCTAssertTrue(ppoErrors.contains("does not name head(s) honest"), ppoErrors)

        // A file that is not label records names its line.
        let (badStatus, _, badErrors) = try charter(["reward", "--model", base.path, "--dataset", honest, "--heads-from-labels",
                                                     "--output-dir", folder.appendingPathComponent("bad").path])
        XCTAssertNotEqual(badStatus, 0)
        XCTAssertTrue(badErrors.contains("\(honest):1") && badErrors.contains("judgements"), badErrors)
    }
}
