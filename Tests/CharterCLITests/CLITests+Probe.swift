import Foundation
import XCTest

extension CLITests {
    /// probe collect → train → eval, then generate with the probe as a circuit: a prompt of the detected class is
    /// refused with finish_reason content_filter and its trigger logged, chat does the same per turn; a probe for another
    /// model is refused by name.
    func testProbeCommandsAndTheGenerateCircuit() throws {
        var lines: [String] = []
        for opening in ["I saw a", "Please bring the", "Where is my", "They painted the", "Look at that", "Draw me a", "Nobody wants a", "Here comes the"] {
            for word in ["apple", "pear", "plum"] { lines.append(#"{"text": "\#(opening) \#(word)", "label": true}"#) }
            for word in ["cat", "dog", "horse"] { lines.append(#"{"text": "\#(opening) \#(word)", "label": false}"#) }
        }
        let data = try write(lines, to: "labelled.jsonl")
        let acts = folder.appendingPathComponent("acts").path, probe = folder.appendingPathComponent("probe").path
        let (collected, collectOutput, collectErrors) = try charter(["probe", "collect", "--model", folder.path, "--data", data, "--output", acts])
        XCTAssertEqual(collected, 0, collectErrors)
        XCTAssertTrue(collectOutput.contains("48 rows of 3 layer(s) × 32"), collectOutput)
        let (trained, trainOutput, trainErrors) = try charter(["probe", "train", acts, "--output", probe, "--method", "logistic"])
        XCTAssertEqual(trained, 0, trainErrors)
        XCTAssertTrue(trainOutput.contains("layer 2 logistic: held-out AUROC"), trainOutput)
        // The training page shows the sweep: a chart and one row per collected layer (3 here) of the logistic method.
        let trainPage = try String(contentsOfFile: probe + "/report.html", encoding: .utf8)
        XCTAssertTrue(trainPage.contains("Held-out AUROC by hidden state"), "no AUROC-by-layer chart")
        for layer in 0...2 { XCTAssertTrue(trainPage.contains("<tr><td>\(layer)</td><td>logistic</td>"), "no sweep row for hidden state \(layer)") }
        XCTAssertFalse(trainPage.contains("<td>difference-of-means</td>"), "only the requested method is swept")
        let report = folder.appendingPathComponent("probe-eval").path
        let (evaluated, evalOutput, evalErrors) = try charter(["probe", "eval", probe, "--activations", acts, "--report", report])
        XCTAssertEqual(evaluated, 0, evalErrors)
        let metrics = try JSONSerialization.jsonObject(with: Data(evalOutput.utf8)) as? [String: Any]
        XCTAssertGreaterThan(metrics?["auroc"] as? Double ?? 0, 0.9, evalOutput)
        // The evaluation page carries the same AUROC and the histograms of both labels.
        let evalPage = try String(contentsOfFile: report + "/report.html", encoding: .utf8)
        XCTAssertTrue(evalPage.contains(String(format: "%.4f", metrics?["auroc"] as? Double ?? -1)), "the page's AUROC is the printed one")
        XCTAssertTrue(evalPage.contains("Probe probability by label") && evalPage.contains(">positive<") && evalPage.contains(">negative<"),
                      "no histogram of positives and negatives")

        let prompts = try write([#"{"prompt": "Where is my apple"}"#, #"{"prompt": "Where is my horse"}"#], to: "prompts.jsonl")
        let (generated, output, errors) = try charter(["generate", "--model", folder.path, "--input", prompts, "--probe", probe,
                                                       "--on-trigger", "refuse", "--refusal", "No.", "--max-new-tokens", "3"])
        XCTAssertEqual(generated, 0, errors)
        let records = output.split(separator: "\n").compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
        XCTAssertEqual(records.count, 2)
        XCTAssertEqual(records[0]["finish_reason"] as? String, "content_filter")
        XCTAssertEqual(records[0]["completion"] as? String, "No.")
        XCTAssertEqual((records[0]["probe_triggers"] as? [[String: Any]])?.count, 1)
        XCTAssertTrue(errors.contains("prompts.jsonl:1 triggered on the prompt"), errors)
        XCTAssertNotEqual(records[1]["finish_reason"] as? String, "content_filter")

        // Steering along the probe's direction: from the first token (changes greedy text), or from a trigger on
        // (the triggered prompt goes on instead of being refused); flags that do not fit together are refused.
        func completions(_ extra: [String]) throws -> [String] {
            let (status, output, errors) = try charter(["generate", "--model", folder.path, "--input", prompts, "--max-new-tokens", "6",
                                                        "--temperature", "0"] + extra)
            XCTAssertEqual(status, 0, errors)
            return output.split(separator: "\n").compactMap { line in
                (try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])?["finish_reason"].map { "\($0)" }
            }
        }
        let (_, plainText, _) = try charter(["generate", "--model", folder.path, "--prompt", "Where is my", "--max-new-tokens", "6", "--temperature", "0"])
        let (pushed, pushedText, pushedErrors) = try charter(["generate", "--model", folder.path, "--prompt", "Where is my", "--max-new-tokens", "6",
                                                              "--temperature", "0", "--steer", probe, "--steer-layers", "1,2", "--steer-alpha", "60"])
        XCTAssertEqual(pushed, 0, pushedErrors)
        XCTAssertNotEqual(pushedText, plainText, "a strong push along the probe's direction changes greedy text")
        XCTAssertFalse(try completions(["--probe", probe, "--on-trigger", "steer", "--steer-ablate"]).contains("content_filter"),
                       "a steered trigger goes on")
        for (flags, message) in [(["--on-trigger", "steer", "--steer-ablate"], "--on-trigger steer needs --probe"),
                                 (["--steer-alpha", "2"], "need --steer DIR"),
                                 (["--steer", probe, "--steer-alpha", "2", "--steer-ablate"], "exactly one of --steer-alpha A and --steer-ablate"),
                                 (["--steer", probe, "--steer-ablate", "--steer-layers", "9"], "layer 9 does not exist")] {
            let (status, _, errors) = try charter(["generate", "--model", folder.path, "--prompt", "hi", "--max-new-tokens", "2"] + flags)
            XCTAssertNotEqual(status, 0, "\(flags)")
            XCTAssertTrue(errors.contains(message), "\(flags): \(errors)")
        }

        // chat --probe: the same circuit per turn. A threshold of 0 triggers on every prompt, one above 1 never does, so
        // this checks the wiring (refuse replaces the whole reply, halt keeps what was said, each trigger is logged by
        // turn) whatever the template does to the probe's scores.
        func chat(threshold: Double, action: String) throws -> (output: String, errors: String) {
            let copy = folder.appendingPathComponent("probe-\(threshold)-\(action)")
            try? FileManager.default.removeItem(at: copy)
            try FileManager.default.copyItem(at: URL(fileURLWithPath: probe), to: copy)
            let descriptionURL = copy.appendingPathComponent("probe.json")
            var description = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: descriptionURL)) as? [String: Any])
            description["threshold"] = threshold
            try JSONSerialization.data(withJSONObject: description).write(to: descriptionURL)
            let (status, output, errors) = try charter(["chat", "--model", folder.path, "--chat-template", "chatml", "--max-new-tokens", "4",
                                                        "--probe", copy.path, "--probe-watch", "prompt", "--on-trigger", action,
                                                        "--refusal", "No."], input: "Where is my apple\nWhere is my horse\n/quit\n")
            XCTAssertEqual(status, 0, errors)
            return (output, errors)
        }
        let refusedChat = try chat(threshold: 0, action: "refuse")
        XCTAssertEqual(refusedChat.output, "No.\nNo.\n", "every turn refused, shown whole")
        XCTAssertTrue(refusedChat.errors.contains("turn 1 triggered on the prompt") && refusedChat.errors.contains("turn 2 triggered on the prompt"),
                      refusedChat.errors)
        let haltedChat = try chat(threshold: 0, action: "halt")
        XCTAssertEqual(haltedChat.output, "\n\n", "a prompt trigger halts before the first token")
        XCTAssertTrue(haltedChat.errors.contains("→ halt"), haltedChat.errors)
        let quietChat = try chat(threshold: 1.5, action: "refuse")
        XCTAssertFalse(quietChat.errors.contains("triggered"), quietChat.errors)
        XCTAssertEqual(quietChat.output.split(separator: "\n", omittingEmptySubsequences: false).count, 3, "two replies: \(quietChat.output)")
        XCTAssertFalse(quietChat.output.contains("No."), quietChat.output)

        let other = try tinyGPT(named: "other", contextLength: 64, seed: 3)
        let (refused, _, refusal) = try charter(["generate", "--model", other.path, "--prompt", "hello", "--probe", probe])
        XCTAssertNotEqual(refused, 0)
        XCTAssertTrue(refusal.contains("probe.json was made for a model with hidden size 32, but the model given has 16"), refusal)
    }
}
