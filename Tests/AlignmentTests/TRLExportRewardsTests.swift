import Foundation
import JSON
import XCTest
@testable import Alignment
import Datasets

/// `charter export trl grpo|rloo`: the rewards become charter_rewards.py, named in config.yaml's reward_funcs as
/// `trl grpo` imports them, and score fixed completions exactly as Charter's reward functions do
/// (Fixtures/trl/rewards: expected_rewards.json from running the generated module, make_reward_fixtures.py).
final class TRLExportRewardsTests: XCTestCase {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/trl/rewards")

    struct Case: Decodable {
        let prompt: String
        let completion: String
        let completion_ids: [Int32]
        let columns: [[JSONValue]]
        let scores: [String: Double]
    }
    /// A conversational prompt as TRL hands it to the exported module, and the object the module's cmd: and http
    /// rewards send for it (`rollouts` in charter_rewards.py).
    struct Conversational: Decodable {
        let messages: [[String: String]]
        let completion: String
        let completion_ids: [Int32]
        let columns: [[JSONValue]]
        let sent: JSONValue
    }
    struct Expected: Decodable { let max_completion_length: Int; let command: String; let cases: [Case]; let conversational: [Conversational] }

    func testGeneratedRewardsScoreAsCharterDoes() throws {
        let expected = try JSONDecoder().decode(Expected.self, from: Data(contentsOf: Self.fixtures.appendingPathComponent("expected_rewards.json")))
        let length = expected.max_completion_length
        let script = Self.fixtures.appendingPathComponent("score.awk").path
        let functions: [String: RewardFunction] = [
            "exact_match": ExactMatchReward(), "length": SoftOverlongPunishment(maximumLength: length, cache: max(1, length / 4)),
            "command": CommandReward(command: expected.command.replacingOccurrences(of: "score.awk", with: script)),
        ]
        let rollouts = expected.cases.map { item -> ScoredRollout in
            var rollout = ScoredRollout(promptIds: [], responseIds: item.completion_ids, prompt: item.prompt, response: item.completion,
                                        endsWithStopToken: true)
            rollout.columns = item.columns.compactMap { pair in pair.first?.stringValue.map { JSONValue.Member($0, pair[1]) } }
            return rollout
        }
        XCTAssertGreaterThan(rollouts.count, 10)
        var matched = 0
        for (name, function) in functions.sorted(by: { $0.key < $1.key }) {
            let scores = try function.scores(rollouts)
            for (item, score) in zip(expected.cases, scores) {
                let python = try XCTUnwrap(item.scores[name], name)
                XCTAssertEqual(Double(score), python, accuracy: 1e-6, "\(name) of \(item.completion.debugDescription)")
                matched += 1
            }
        }
        XCTAssertEqual(matched, 3 * expected.cases.count)
        // The cases exercise both outcomes of each reward.
        XCTAssertEqual(Set(expected.cases.compactMap { $0.scores["exact_match"] }), [0, 1])
        XCTAssertGreaterThan(Set(expected.cases.compactMap { $0.scores["length"] }).count, 2)
    }

    /// A conversational prompt reaches Charter's cmd: and http rewards as it reaches the exported module's under TRL:
    /// the same object — the prompt's messages, the completion as `[{"role": "assistant", "content": …}]`, the ids of
    /// the chat prompt as the policy's template renders it (Charter's encoder and transformers' apply_chat_template
    /// agree), the completion's ids and the row's columns.
    func testConversationalRolloutsAreSentAsTheExportedModuleSendsThem() throws {
        let expected = try JSONDecoder().decode(Expected.self, from: Data(contentsOf: Self.fixtures.appendingPathComponent("expected_rewards.json")))
        let encoder = try ExampleEncoder.load(directory: Self.fixtures.deletingLastPathComponent().appendingPathComponent("policy"))
        XCTAssertGreaterThan(expected.conversational.count, 2)
        for item in expected.conversational {
            let messages = try item.messages.map { Message(role: try XCTUnwrap(Role(rawValue: $0["role"] ?? "")), content: $0["content"] ?? "") }
            var rollout = ScoredRollout(promptIds: try encoder.conversation(messages, addGenerationPrompt: true, line: 1).ids,
                                        responseIds: item.completion_ids, prompt: "rendered", response: item.completion, endsWithStopToken: true)
            rollout.promptMessages = messages
            rollout.columns = item.columns.compactMap { pair in pair.first?.stringValue.map { JSONValue.Member($0, pair[1]) } }
            let sent = CommandReward.object(for: rollout)
            XCTAssertEqual(Self.sortingKeys(sent).serialized(), Self.sortingKeys(item.sent).serialized(), item.completion)
            guard case .array(let prompt)? = sent["prompt"] else { return XCTFail("the prompt is not a list of messages: \(sent.serialized())") }
            XCTAssertEqual(prompt.count, 2)
        }
    }

    /// `value` with every object's members in key order (JSONDecoder does not keep a file's order).
    static func sortingKeys(_ value: JSONValue) -> JSONValue {
        switch value {
        case .object(let members): return .object(members.sorted { $0.key < $1.key }.map { JSONValue.Member($0.key, sortingKeys($0.value)) })
        case .array(let values): return .array(values.map(sortingKeys))
        default: return value
        }
    }

    /// The exporter still writes the module the golden scores came from.
    func testExporterWritesTheFixtureModule() throws {
        let fixture = try String(contentsOf: Self.fixtures.appendingPathComponent("charter_rewards.py"), encoding: .utf8)
        let modelLine = try XCTUnwrap(fixture.split(separator: "\n").first { $0.hasPrefix("MODEL = ") })
        let model = try XCTUnwrap(try JSONParser.parse(Data(modelLine.dropFirst(8).utf8)).stringValue)
        let rewards = try TRLExport.exportedRewards(["exact-match", "length", "cmd:awk -f score.awk"], maximumCompletionLength: 16)
        XCTAssertEqual(TRLExport.rewardModuleSource(rewards, model: model), fixture)
    }

    func testRewardFunctionsInConfig() throws {
        let recipe = TrainingRecipe(allowedKeys: GRPOConfiguration.keys + TrainingRecipe.modelKeys)
        var effective = try recipe.effective(GRPOConfiguration())
        effective["max_completion_length"] = 64
        let export = try TRLExport(trainer: "grpo", effective: effective, hasEvaluation: false, conversational: false, cpu: true,
                                   rewardFunctions: ["exact-match", "length", "cmd:python3 a.py", "cmd:python3 b.py", "https://judge.example/score"])
        XCTAssertEqual(export.config["reward_funcs"] as? [String], ["charter_rewards.exact_match", "charter_rewards.length",
                                                                   "charter_rewards.command", "charter_rewards.command_2", "charter_rewards.http"])
        XCTAssertEqual(export.rewards[1].kind, .length(maximum: 64, cache: 16))
        let accepted = try XCTUnwrap(TRLConfigKeys.keys(for: "grpo")).union(["reward_funcs"])
        XCTAssertEqual(Set(export.config.keys).subtracting(accepted), [], "only keys trl grpo accepts")
        let rloo = try TRLExport(trainer: "rloo", effective: try TrainingRecipe(allowedKeys: RLOOConfiguration.keys + TrainingRecipe.modelKeys).effective(RLOOConfiguration()),
                                 hasEvaluation: false, conversational: false, cpu: false, rewardFunctions: ["exact-match"])
        XCTAssertEqual(Set(rloo.config.keys).subtracting(try XCTUnwrap(TRLConfigKeys.keys(for: "rloo")).union(["reward_funcs"])), [])
        XCTAssertThrowsError(try TRLExport(trainer: "grpo", effective: effective, hasEvaluation: false, conversational: false, cpu: false)) {
            XCTAssertTrue("\($0)".contains("reward_funcs"), "\($0)")
        }
        XCTAssertThrowsError(try TRLExport(trainer: "grpo", effective: effective, hasEvaluation: false, conversational: false, cpu: false,
                                           rewardFunctions: ["models/judge"])) {
            XCTAssertTrue("\($0)".contains("\"models/judge\" cannot be exported"), "\($0)")
        }
        let source = TRLExport.rewardModuleSource(export.rewards, model: "model")
        for name in ["exact_match", "length", "command", "command_2", "http"] {
            XCTAssertTrue(source.contains("\ndef \(name)(prompts, completions, completion_ids, **columns):\n"), name)
        }
        XCTAssertTrue(source.contains(#"run_command("python3 b.py", "#), source)
    }
}
