import Foundation
import XCTest

extension CLITests {
    /// `experiment audit --combine` joins finished runs only: options that would train or change a run are refused,
    /// and so is a single run, before anything is read or written.
    func testExperimentAuditCombineRefusesTrainingOptionsAndASingleRun() throws {
        let policy = try write(["actions:", "  both_bad: keep"], to: "keep.yaml")
        let (status, _, errors) = try charter(["experiment", "audit", "--combine", "a,b", "--name", "ab", "--policy", "keep=\(policy)"],
                                              directory: folder)
        XCTAssertNotEqual(status, 0)
        XCTAssertTrue(errors.contains("--combine only joins finished runs: drop --policy"), errors)
        let (single, _, singleErrors) = try charter(["experiment", "audit", "--combine", "a", "--name", "ab"], directory: folder)
        XCTAssertNotEqual(single, 0)
        XCTAssertTrue(singleErrors.contains("--combine needs at least two runs (got 1)"), singleErrors)
        XCTAssertFalse(FileManager.default.fileExists(atPath: folder.appendingPathComponent("runs/ab").path))
    }

    /// `experiment audit --set` names a field it does not know, a value of the wrong type, and a field that has its
    /// own option, before anything is trained or written.
    func testExperimentAuditSetNamesTheFieldItRefuses() throws {
        for (set, expected) in [("dpo_step=3", "experiment audit --set dpo_step: no such field 'dpo_step'"),
                                ("dpo_steps=many", "experiment audit --set dpoSteps=many: expected a number or true/false"),
                                ("world.borderline_holdout=prompt", "world.borderlineHoldout=prompt: expected one of intent, phrasing"),
                                ("noise.flipped=0.2", "--set noise.flipped: use --flip-rate"),
                                ("mislabel_confidence=0.9", "--set mislabelConfidence: use --mislabel-confidence"),
                                ("dpo_steps", "--set dpo_steps: expected FIELD=VALUE")] {
            let (status, _, errors) = try charter(["experiment", "audit", "--name", "refused", "--seeds", "2", "--set", set], directory: folder)
            XCTAssertNotEqual(status, 0, set)
            XCTAssertTrue(errors.contains(expected), "\(set): \(errors)")
        }
        let (rewrite, _, rewriteErrors) = try charter(["experiment", "audit", "--name", "refused", "--report-only", "--set", "dpo_steps=3"], directory: folder)
        XCTAssertNotEqual(rewrite, 0)
        XCTAssertTrue(rewriteErrors.contains("--report-only rewrites the run's report from its own results: drop --set"), rewriteErrors)
        XCTAssertFalse(FileManager.default.fileExists(atPath: folder.appendingPathComponent("runs/refused").path))
    }

    func testAuditThenCleanEndToEnd() throws {
        let data = try write([
            #"{"prompt": "Pick one", "chosen": "A", "rejected": "B"}"#,
            #"{"prompt": "Pick one", "chosen": "A", "rejected": "B"}"#,
            #"{"prompt": "Pick one", "chosen": "B", "rejected": "A"}"#,
            #"{"prompt": "Mail?", "chosen": "Write to someone@example.org.", "rejected": "No."}"#,
            #"{"prompt": "Broken", "chosen": "#,
        ], to: "pairs.jsonl")
        let audit = folder.appendingPathComponent("audit").path
        let (status, output, errors) = try charter(["audit", data, "--output", audit])
        XCTAssertEqual(status, 0, errors)
        XCTAssertTrue(output.contains("audit: 4 pairs, 1 unreadable lines, 4 pairs flagged"), output)
        XCTAssertTrue(errors.contains("pairs.jsonl:5: invalid JSON"), errors)
        for file in ["audit.json", "findings.jsonl", "report.html"] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: "\(audit)/\(file)"), file)
        }

        let policy = try write(["actions:", "  exact_duplicate: drop", "  contradiction: flip", "  personal_data: drop"], to: "policy.yaml")
        let cleaned = folder.appendingPathComponent("clean.jsonl").path
        let (cleanStatus, cleanOutput, cleanErrors) = try charter(["clean", data, "--audit", audit, "--policy", policy, "--output", cleaned])
        XCTAssertEqual(cleanStatus, 0, cleanErrors)
        XCTAssertTrue(cleanOutput.contains("5 rows in = 2 out + 3 dropped (1 of them unreadable); 1 flipped"), cleanOutput)
        let lines = try String(contentsOfFile: cleaned, encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(lines, [#"{"prompt": "Pick one", "chosen": "A", "rejected": "B"}"#, #"{"prompt": "Pick one", "chosen": "A", "rejected": "B"}"#])
        let changes = try String(contentsOfFile: cleaned + ".changes.jsonl", encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(changes.count, 4)

        let badPolicy = try write(["actions:", "  duplicate: drop"], to: "bad-policy.yaml")
        let (badStatus, _, badErrors) = try charter(["clean", data, "--audit", audit, "--policy", badPolicy, "--output", cleaned])
        XCTAssertNotEqual(badStatus, 0)
        XCTAssertTrue(badErrors.contains("bad-policy.yaml:2: actions.duplicate: unknown finding"), badErrors)
    }

    /// `charter label`'s own records (a tiny random model as the feedback model) are read with their judgements.
    func testAuditReadsLabelRecords() throws {
        let pairs = try write([
            #"{"id": "p1", "prompt": "How do I open a jar?", "response_a": " Twist the lid.", "response_b": " Smash it."}"#,
            #"{"id": "p2", "prompt": "Say hi.", "response_a": " Hi!", "response_b": " No."}"#,
            #"{"id": "p3", "prompt": "Name a colour.", "response_a": " Blue.", "response_b": " Seven."}"#,
        ], to: "pairs.jsonl")
        let labels = folder.appendingPathComponent("labels.jsonl").path
        let (labelStatus, _, labelErrors) = try charter(["label", "--model", folder.path, "--pairs", pairs, "--principles", "2", "--output", labels])
        XCTAssertEqual(labelStatus, 0, labelErrors)
        let audit = folder.appendingPathComponent("label-audit").path
        let (status, output, errors) = try charter(["audit", labels, "--output", audit, "--low-confidence-margin", "0.5"])
        XCTAssertEqual(status, 0, errors)
        XCTAssertTrue(output.contains("audit: 3 pairs, 0 unreadable lines"), output)
        let document = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: "\(audit)/audit.json"))) as? [String: Any]
        let position = document?["position_bias"] as? [String: Any]
        // Two principles per pair, each asked in both orders: six judgements with a flip verdict.
        XCTAssertEqual(position?["judgements"] as? Int, 6)
        XCTAssertEqual((position?["per_principle"] as? [Any])?.isEmpty, false)
        // Every soft label is within ½ of ½.
        XCTAssertEqual((document?["counts"] as? [String: Any])?["low_confidence"] as? Int, 3)
        XCTAssertEqual((document?["soft_labels"] as? [String: Any])?["pairs"] as? Int, 3)
    }

    /// `--ensemble K --model BASE` with a TRL RewardConfig file: K reward models saved under DIR/reward_models, the
    /// findings and the ensemble in audit.json; inconsistent options are refused before anything runs.
    func testAuditWithACrossFittedEnsemble() throws {
        let data = try write((1...12).map { #"{"prompt": "Question \#($0):", "chosen": " yes", "rejected": " no"}"# }, to: "pairs.jsonl")
        let base = try tinyGPT(named: "base", contextLength: 64, seed: 5)
        let config = try write(["max_steps: 3", "per_device_train_batch_size: 4", "learning_rate: 0.001", "save_strategy: \"no\""], to: "rm.yaml")
        let audit = folder.appendingPathComponent("ensemble-audit").path
        let (status, output, errors) = try charter(["audit", data, "--ensemble", "2", "--model", base.path, "--ensemble-config", config, "--output", audit])
        XCTAssertEqual(status, 0, errors)
        XCTAssertTrue(output.contains("reward models: 2, 12 pairs scored"), output)
        XCTAssertTrue(errors.contains("audit: repeat-1-fold-1: training a reward model on"), errors)
        for fold in 1...2 {
            XCTAssertTrue(FileManager.default.fileExists(atPath: "\(audit)/reward_models/repeat-1-fold-\(fold)/model.safetensors"), "fold \(fold)")
        }
        let document = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: "\(audit)/audit.json"))) as? [String: Any]
        let models = document?["reward_models"] as? [String: Any]
        XCTAssertEqual(models?["folds"] as? Int, 2)
        XCTAssertEqual(models?["max_steps"] as? Int, 3)
        XCTAssertEqual(models?["scored_pairs"] as? Int, 12)
        XCTAssertTrue(models?["reference"] is NSNull, "no reference model given")

        // The same ensemble with the base model as reference: every pair gets a relevance gap, recorded in audit.json.
        let withReference = folder.appendingPathComponent("reference-audit").path
        let (referenceStatus, _, referenceErrors) = try charter(["audit", data, "--ensemble", "2", "--model", base.path, "--ensemble-config", config,
                                                                 "--reference-model", base.path, "--relevance-prompts", "2", "--output", withReference])
        XCTAssertEqual(referenceStatus, 0, referenceErrors)
        XCTAssertTrue(referenceErrors.contains("reference model: relevance of 12 of 12 pairs, 2 other prompts each"), referenceErrors)
        let referenceDocument = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: "\(withReference)/audit.json"))) as? [String: Any]
        let reference = (referenceDocument?["reward_models"] as? [String: Any])?["reference"] as? [String: Any]
        XCTAssertEqual(reference?["scored_pairs"] as? Int, 12)
        XCTAssertEqual(reference?["other_prompts"] as? Int, 2)
        let referenceReport = try String(contentsOfFile: "\(withReference)/report.html", encoding: .utf8)
        XCTAssertTrue(referenceReport.contains("The reference model (\(base.path)) scored each response"), "the report names the reference model")
        let (lonelyStatus, _, lonelyErrors) = try charter(["audit", data, "--reference-model", base.path, "--output", withReference])
        XCTAssertNotEqual(lonelyStatus, 0)
        XCTAssertTrue(lonelyErrors.contains("--reference-model votes beside reward models"), lonelyErrors)

        let (badStatus, _, badErrors) = try charter(["audit", data, "--model", base.path, "--output", audit])
        XCTAssertNotEqual(badStatus, 0)
        XCTAssertTrue(badErrors.contains("--model is the ensemble's starting model; add --ensemble K"), badErrors)
        let unknown = try write(["max_stepz: 3"], to: "bad-rm.yaml")
        let (unknownStatus, _, unknownErrors) = try charter(["audit", data, "--ensemble", "2", "--model", base.path, "--ensemble-config", unknown, "--output", audit])
        XCTAssertNotEqual(unknownStatus, 0)
        XCTAssertTrue(unknownErrors.contains("max_stepz"), unknownErrors)
    }
}
