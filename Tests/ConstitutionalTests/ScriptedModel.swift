import Foundation
import LanguageModels
@testable import Constitutional

/// A `LanguageModel` whose scores come from a closure (log-prob of `completion` after `prompt`) and whose
/// completions are a fixed text, for label math through the real prompting code.
struct ScriptedModel: LanguageModel {
    let name = "scripted"
    let logProbability: @Sendable (_ prompt: String, _ completion: String) -> Double

    init(_ logProbability: @escaping @Sendable (String, String) -> Double) { self.logProbability = logProbability }

    func complete(_ request: CompletionRequest) async throws -> Completion {
        Completion(text: " scripted reasoning\n", finishReason: .stop, promptTokenCount: 1, completionTokenCount: 2)
    }

    func chat(_ request: ChatRequest) async throws -> Completion {
        Completion(text: "scripted reply", finishReason: .stop, promptTokenCount: 1, completionTokenCount: 2)
    }

    func score(prompt: String, completion: String) async throws -> Score {
        Score(tokens: [TokenLogProbability(token: completion, logProbability: Float(logProbability(prompt, completion)))])
    }
}
