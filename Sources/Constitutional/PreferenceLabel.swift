import Foundation

/// The arithmetic of AI-feedback soft labels (Bai et al. 2022, "Constitutional AI", §4.1–4.2), as pure functions.
///
/// The feedback model answers a multiple-choice question; the label is the probability it gives to each option,
/// normalised over the two options, and averaged over both presentation orders and over several principles.
public enum PreferenceLabel {
    /// The normalised probability of option (A):
    ///
    ///     p(A) = exp(ℓ_A) / (exp(ℓ_A) + exp(ℓ_B)) = σ(ℓ_A − ℓ_B)
    ///
    /// where ℓ_A = log p(" (A)" | prompt) and ℓ_B = log p(" (B)" | prompt) are the options' total log-probabilities
    /// (§4.1: "we compute the log-probability of the responses (A) and (B), … normalised"). Computed as a
    /// logistic of the difference, which is exact and never overflows.
    public static func softLabel(logProbabilityA: Double, logProbabilityB: Double) -> Double {
        let difference = logProbabilityA - logProbabilityB
        if difference >= 0 { return 1 / (1 + exp(-difference)) }
        let e = exp(difference)
        return e / (1 + e)
    }

    /// Chain-of-thought labels are "quite confident, with probabilities very close to 0 or 1", which hurts the
    /// preference model; the paper clamps them to 40–60% (§4.1): `min(max(p, low), high)`.
    public static func clamp(_ probability: Double, low: Double = 0.4, high: Double = 0.6) -> Double {
        precondition(low <= high, "clamp range \(low)...\(high) is empty")
        return min(max(probability, low), high)
    }

    /// Averages the two presentation orders to cancel position bias. Both arguments are probabilities that the
    /// *first* response is better: `firstAsA` from the order (A) = first, `firstAsB` from the order (A) = second
    /// (i.e. p(B) of that question).
    ///
    ///     p(first) = ½ (p_A(first shown as A) + p_B(first shown as B))
    public static func orderAveraged(firstAsA: Double, firstAsB: Double) -> Double {
        (firstAsA + firstAsB) / 2
    }

    /// Whether the preferred *response* changes with the order (the model prefers a position, not a response):
    /// one order favours the first response (p > ½) and the other the second (p < ½). Exact ties count as no
    /// preference, never as a flip.
    public static func flipsWithOrder(firstAsA: Double, firstAsB: Double) -> Bool {
        (firstAsA > 0.5 && firstAsB < 0.5) || (firstAsA < 0.5 && firstAsB > 0.5)
    }

    /// The fraction of order-swapped judgements whose preferred response flips (see ``flipsWithOrder(firstAsA:firstAsB:)``);
    /// 0 for no judgements.
    public static func positionBiasRate(_ judgements: [(firstAsA: Double, firstAsB: Double)]) -> Double {
        guard !judgements.isEmpty else { return 0 }
        return Double(judgements.filter { flipsWithOrder(firstAsA: $0.firstAsA, firstAsB: $0.firstAsB) }.count) / Double(judgements.count)
    }

    /// The ensemble over principles (§4.1: "we … ensemble over 16 principles"): the weighted mean of the
    /// per-principle probabilities, Σ wᵢ pᵢ / Σ wᵢ (the paper's equal weights when every wᵢ = 1).
    public static func ensemble(_ probabilities: [Double], weights: [Double]? = nil) -> Double {
        precondition(!probabilities.isEmpty, "an ensemble needs at least one probability")
        let weights = weights ?? probabilities.map { _ in 1 }
        precondition(weights.count == probabilities.count && weights.allSatisfy { $0 > 0 },
                     "ensemble weights \(weights) must be positive, one per probability (\(probabilities.count))")
        return zip(probabilities, weights).reduce(0) { $0 + $1.0 * $1.1 } / weights.reduce(0, +)
    }
}
