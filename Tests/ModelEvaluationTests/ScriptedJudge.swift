import Foundation
import LanguageModels

/// A judge whose log-probabilities follow a rule on the text it is asked about, so that tests know the right answer.
struct ScriptedJudge: LanguageModel {
    var name = "scripted-judge"
    /// log p(completion | prompt).
    let rule: @Sendable (_ prompt: String, _ completion: String) -> Double

    func complete(_ request: CompletionRequest) async throws -> Completion {
        Completion(text: "", finishReason: .stop, promptTokenCount: 0, completionTokenCount: 0)
    }
    func chat(_ request: ChatRequest) async throws -> Completion {
        Completion(text: "", finishReason: .stop, promptTokenCount: 0, completionTokenCount: 0)
    }
    func score(prompt: String, completion: String) async throws -> Score {
        // One pseudo-token per character, so that mean log-probabilities are per character.
        let total = rule(prompt, completion), count = max(completion.count, 1)
        return Score(tokens: (0..<count).map { _ in TokenLogProbability(token: "x", logProbability: Float(total / Double(count))) })
    }

    /// The texts after the last "(A) " and "(B) " option markers of a comparison prompt.
    static func options(_ prompt: String) -> (a: String, b: String) {
        guard let a = prompt.range(of: "\n(A) ", options: .backwards), let b = prompt.range(of: "\n(B) ", options: .backwards) else { return ("", "") }
        let afterB = prompt[b.upperBound...]
        let bText = afterB.range(of: "\n").map { String(afterB[..<$0.lowerBound]) } ?? String(afterB)
        return (String(prompt[a.upperBound..<b.lowerBound]), bText)
    }

    /// Prefers the option containing "good" (log-odds `strength`); no preference when both or neither do.
    static func prefersGood(strength: Double = 3) -> ScriptedJudge {
        ScriptedJudge { prompt, completion in
            let (a, b) = options(prompt)
            let goodA = a.contains("good"), goodB = b.contains("good")
            let preferred: String? = goodA == goodB ? nil : (goodA ? " (A)" : " (B)")
            guard let preferred else { return -1 }
            return completion == preferred ? -0.05 : -0.05 - strength
        }
    }
}
