import Constitutional
import Foundation
import LanguageModels

/// A model's answer to a two-option question as a probability, read as `charter label` reads AI feedback (Bai et al.
/// 2022, §4.1): the log-probabilities ℓ_A, ℓ_B of " (A)" and " (B)" after the prompt, normalised to σ(ℓ_A − ℓ_B)
/// (``PreferenceLabel/softLabel(logProbabilityA:logProbabilityB:)``), asked with the options in both orders and
/// averaged (``PreferenceLabel/orderAveraged(firstAsA:firstAsB:)``).
enum OptionScoring {
    /// - Parameters:
    ///   - prompt: the prompt with the task's first option shown as (A) (`true`) or as (B) (`false`).
    ///   - round: recorded in the verdict.
    /// - Throws: ``OversightError`` when the model returns non-finite log-probabilities; the model's own errors.
    static func verdict(_ model: any LanguageModel, correctOption: Int, round: Int, bothOrders: Bool, taskID: String,
                        prompt: (_ firstAsA: Bool) -> String) async throws -> JudgeVerdict {
        var orders: [JudgeOrder] = []
        for firstAsA in bothOrders ? [true, false] : [true] {
            let text = prompt(firstAsA)
            let scoreA = try await model.score(prompt: text, completion: ComparisonPrompts.optionA).totalLogProbability
            let scoreB = try await model.score(prompt: text, completion: ComparisonPrompts.optionB).totalLogProbability
            guard scoreA.isFinite, scoreB.isFinite else {
                throw OversightError("\(model.name) returned non-finite log-probabilities for the options (\(scoreA), \(scoreB)) on task \(taskID)")
            }
            let probabilityA = PreferenceLabel.softLabel(logProbabilityA: scoreA, logProbabilityB: scoreB)
            orders.append(JudgeOrder(order: firstAsA ? "first-as-A" : "first-as-B", logProbabilityA: scoreA, logProbabilityB: scoreB,
                                     probabilityFirst: firstAsA ? probabilityA : 1 - probabilityA))
        }
        let first = orders.count == 2
            ? PreferenceLabel.orderAveraged(firstAsA: orders[0].probabilityFirst, firstAsB: orders[1].probabilityFirst)
            : orders[0].probabilityFirst
        return JudgeVerdict(round: round, orders: orders, probabilityFirst: first, probabilityCorrect: correctOption == 0 ? first : 1 - first)
    }
}
