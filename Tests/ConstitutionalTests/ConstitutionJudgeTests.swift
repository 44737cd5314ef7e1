import Alignment
import Datasets
import Foundation
import LanguageModels
import TestSupport
import XCTest
@testable import Constitutional

/// The constitution as online DPO's judge: AIFeedback's labels (both orders, principles ensembled) become the pair
/// ranking, through the synchronous judge interface, and an online DPO run is ranked by it.
final class ConstitutionJudgeTests: XCTestCase {
    static let constitution = Constitution(name: "t", version: "1", description: "", principles: [
        Principle(id: "p1", category: .harmlessness, comparison: "Which response is kinder?"),
    ])

    /// Prefers the option whose response contains "kind" at 0.75 in either order; counts its scoring calls.
    final class Calls: @unchecked Sendable { var count = 0; let lock = NSLock() }
    static func model(_ calls: Calls) -> ScriptedModel {
        ScriptedModel { prompt, completion in
            calls.lock.lock(); calls.count += 1; calls.lock.unlock()
            let optionIsA = completion == " (A)"
            let aIsKind = prompt.contains("(A) kind")
            return optionIsA == aIsKind ? log(0.3) : log(0.1)
        }
    }

    static func rollout(_ prompt: String, _ response: String) -> ScoredRollout {
        ScoredRollout(promptIds: [1], responseIds: [2], prompt: prompt, response: response, endsWithStopToken: true)
    }

    func testPreferencesAreAIFeedbackLabels() throws {
        let calls = Calls()
        let judge = ConstitutionJudge(feedback: try AIFeedback(constitution: Self.constitution, configuration: FeedbackConfiguration()),
                                      model: Self.model(calls))
        let pairs = [JudgedPair(first: Self.rollout("Hello", "kind words"), second: Self.rollout("Hello", "harsh words")),
                     JudgedPair(first: Self.rollout("Hi", "harsh words"), second: Self.rollout("Hi", "kind words"))]
        let preferences = try judge.preferences(pairs)
        XCTAssertEqual(preferences[0], 0.75, accuracy: 1e-6)
        XCTAssertEqual(preferences[1], 0.25, accuracy: 1e-6)
        XCTAssertEqual(calls.count, 2 * 2 * 2, "two pairs × both orders × both options")
        XCTAssertEqual(judge.pairsJudged, 2)
        XCTAssertEqual(judge.positionFlips, 0)
    }

    /// A conversational prompt reaches the feedback model as its messages, not as the policy's rendered chat text.
    func testConversationIsJudgedAsItsMessages() throws {
        final class Seen: @unchecked Sendable { var prompts: [String] = []; let lock = NSLock() }
        let seen = Seen()
        let model = ScriptedModel { prompt, _ in
            seen.lock.lock(); seen.prompts.append(prompt); seen.lock.unlock()
            return log(0.2)
        }
        let judge = ConstitutionJudge(feedback: try AIFeedback(constitution: Self.constitution, configuration: FeedbackConfiguration()),
                                      model: model)
        func rollout(_ response: String) -> ScoredRollout {
            var item = Self.rollout("<|im_start|>user\nHow do I greet a neighbour?<|im_end|>\n<|im_start|>assistant\n", response)
            item.promptMessages = [Message(role: .user, content: "How do I greet a neighbour?")]
            return item
        }
        _ = try judge.preferences([JudgedPair(first: rollout("kind words"), second: rollout("harsh words"))])
        XCTAssertFalse(seen.prompts.isEmpty)
        for prompt in seen.prompts {
            XCTAssertTrue(prompt.contains("How do I greet a neighbour?"), prompt)
            XCTAssertFalse(prompt.contains("<|im_start|>"), "the rendered chat text reached the judge: \(prompt)")
        }
    }

    func testRecipeNamesTheJudge() throws {
        func recipe(_ values: [String: Any]) throws -> TrainingRecipe {
            var recipe = TrainingRecipe(allowedKeys: ConstitutionJudge.recipeKeys)
            try recipe.override(values)
            return recipe
        }
        let open: (ModelSource) throws -> [any LanguageModel] = { _ in [Self.model(Calls())] }
        XCTAssertNil(try ConstitutionJudge.fromRecipe(try recipe([:]), seed: 1, makeModels: open))
        XCTAssertThrowsError(try ConstitutionJudge.fromRecipe(try recipe(["judge": "pairrm", "feedback_model": "x"]), seed: 1, makeModels: open)) {
            XCTAssertTrue("\($0)".contains("judge") && "\($0)".contains("pairrm"), "\($0)")
        }
        XCTAssertThrowsError(try ConstitutionJudge.fromRecipe(try recipe(["judge": "constitution"]), seed: 1, makeModels: open)) {
            XCTAssertTrue("\($0)".contains("feedback_model"), "\($0)")
        }
        XCTAssertThrowsError(try ConstitutionJudge.fromRecipe(try recipe(["feedback_model": "x"]), seed: 1, makeModels: open)) {
            XCTAssertTrue("\($0)".contains("feedback_model"), "\($0)")
        }
        let judge = try XCTUnwrap(try ConstitutionJudge.fromRecipe(try recipe(["judge": "constitution", "feedback_model": "endpoints.yaml",
                                                                               "principles_per_pair": 3, "both_orders": false]),
                                                                  constitution: Self.constitution, seed: 7, makeModels: open))
        XCTAssertEqual(judge.feedback.configuration.principlesPerPair, 3)
        XCTAssertFalse(judge.feedback.configuration.bothOrders)
        XCTAssertEqual(judge.feedback.configuration.seed, 7)
        XCTAssertEqual(judge.feedback.constitution.name, "t")
    }

    /// Two steps of online DPO on a tiny policy ranked by the constitution: every pair is judged in both orders, the
    /// run logs TRL's statistics (no scores: a judge gives none), and the policy moves.
    func testOnlineDPORunRankedByTheConstitution() throws {
        let directory = try TinyModels.temporaryDirectory("online-dpo-judge")
        defer { try? FileManager.default.removeItem(at: directory) }
        let folder = try TinyModels.folder(in: directory, name: "policy", seed: 3)
        let calls = Calls()
        let judge = ConstitutionJudge(feedback: try AIFeedback(constitution: Self.constitution, configuration: FeedbackConfiguration()),
                                      model: Self.model(calls))
        var configuration = OnlineDPOConfiguration()
        configuration.training.batchSize = 2
        configuration.training.maximumSteps = 2
        configuration.training.learningRate = 1e-2
        configuration.training.loggingSteps = 1
        configuration.training.saveSteps = 0
        configuration.training.outputDirectory = directory.appendingPathComponent("run").path
        configuration.maximumNewTokens = 4
        let policy = try TrainableModel(directory: folder)
        let before = policy.trainableParameters.map(\.scalars)
        let trainer = try OnlineDPOTrainer(configuration: configuration, policy: policy,
                                           reference: try ReferencePolicy.ppo(policy: policy, policyFolder: folder, referenceModel: nil),
                                           judge: judge, encoder: try ExampleEncoder.load(directory: folder),
                                           prompts: ["Say something.", "Greet me.", "Be kind."].map { Example(.promptOnly(prompt: .standard($0))) })
        let summary = try trainer.train()
        XCTAssertEqual(summary.iterations, 2)
        XCTAssertEqual(judge.pairsJudged, 4, "two steps × two prompts")
        XCTAssertEqual(calls.count, 4 * 2 * 2)
        let last = try XCTUnwrap(summary.history.last)
        for key in ["loss", "objective/kl", "objective/entropy", "rewards/chosen", "rewards/margins", "rewards/accuracies", "logps/chosen",
                    "val/contain_eos_token", "beta"] {
            XCTAssertNotNil(last[key], key)
        }
        XCTAssertNil(last["objective/scores"])
        XCTAssertTrue(zip(before, policy.trainableParameters.map(\.scalars)).contains { $0 != $1 }, "the policy was updated")
        XCTAssertTrue(FileManager.default.fileExists(atPath: directory.appendingPathComponent("run/model.safetensors").path))
    }
}
