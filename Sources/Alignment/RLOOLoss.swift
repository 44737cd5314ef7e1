import Foundation
import Tensors

/// REINFORCE Leave-One-Out's math as pure functions (Ahmadian et al. 2024, "Back to Basics: Revisiting REINFORCE Style
/// Optimization for Learning from Human Feedback in LLMs"; Kool et al. 2019 for the leave-one-out baseline), as TRL 1.16's
/// `RLOOTrainer` computes it: the KL penalty enters the reward, the baseline of each completion is the mean reward of
/// its group's other completions, and the policy loss is a clipped surrogate on whole-sequence ratios.
public enum RLOOLoss {
    /// The KL-penalised rewards of Ahmadian et al. (the k1 estimator summed over the completion):
    ///
    ///     R_i = r_i − β Σ_t (log π_old(o_{i,t}) − log π_ref(o_{i,t}))
    ///
    /// - Parameters:
    ///   - logProbabilities, referenceLogProbabilities: per completion, one entry per completion token.
    public static func penalisedRewards(rewards: [Float], logProbabilities: [[Float]], referenceLogProbabilities: [[Float]],
                                        beta: Float) -> [Float] {
        precondition(rewards.count == logProbabilities.count && rewards.count == referenceLogProbabilities.count,
                     "penalisedRewards: \(rewards.count) rewards, \(logProbabilities.count) and \(referenceLogProbabilities.count) log-prob rows")
        return rewards.indices.map { index in
            let kl = zip(logProbabilities[index], referenceLogProbabilities[index]).reduce(Float(0)) { $0 + ($1.0 - $1.1) }
            return rewards[index] - beta * kl
        }
    }

    /// Leave-one-out advantages (Ahmadian et al.; Kool et al. 2019): for a group of G completions of one prompt,
    ///
    ///     A_i = R_i − 1/(G − 1) Σ_{j≠i} R_j
    ///
    /// optionally normalised over the whole batch to mean 0 and (unbiased) std 1: (A − mean) / (std + 1e−4)
    /// (TRL's `normalize_advantages`). Completions are laid out group by group.
    public static func advantages(rewards: [Float], groupSize: Int, normalize: Bool) -> [Float] {
        precondition(groupSize > 1 && rewards.count % groupSize == 0, "RLOO advantages: \(rewards.count) rewards in groups of \(groupSize)")
        var advantages: [Double] = []
        for start in stride(from: 0, to: rewards.count, by: groupSize) {
            let group = rewards[start..<(start + groupSize)].map(Double.init)
            let sum = group.reduce(0, +)
            for value in group { advantages.append(value - (sum - value) / Double(groupSize - 1)) }
        }
        if normalize {
            let mean = advantages.reduce(0, +) / Double(advantages.count)
            let std = GRPOLoss.standardDeviation(advantages[...])
            advantages = advantages.map { ($0 - mean) / (std + 1e-4) }
        }
        return advantages.map(Float.init)
    }

    /// The clipped surrogate on sequence ratios, averaged over the B completions:
    ///
    ///     ρ_i = exp(Σ_t log π_θ(o_{i,t}) − Σ_t log π_old(o_{i,t}))
    ///     L = 1/B Σ_i −min(ρ_i A_i, clip(ρ_i, 1 − ε_low, 1 + ε_high) A_i)
    ///
    /// - Parameters:
    ///   - sequenceLogProbabilities: (B) Σ_t log π_θ per completion, on the tape.
    ///   - oldSequenceLogProbabilities, advantages: (B) constants.
    /// - Returns: the loss and, per completion, whether it was clipped low (ρ < 1 − ε_low, A < 0) or high.
    public static func loss(sequenceLogProbabilities: Tensor, oldSequenceLogProbabilities: Tensor, advantages: Tensor,
                            epsilonLow: Float, epsilonHigh: Float) -> (loss: Tensor, lowClipped: [Bool], highClipped: [Bool]) {
        precondition(sequenceLogProbabilities.shape == oldSequenceLogProbabilities.shape && sequenceLogProbabilities.shape == advantages.shape,
                     "RLOOLoss.loss: shapes \(sequenceLogProbabilities.shape) \(oldSequenceLogProbabilities.shape) \(advantages.shape)")
        let ratio = (sequenceLogProbabilities - oldSequenceLogProbabilities).exp()
        let unclipped = -advantages * ratio
        let clipped = -advantages * ratio.clamped(min: 1 - epsilonLow, max: 1 + epsilonHigh)
        let clippedIsLarger = withoutGradients { PPOLoss.greater(clipped, unclipped) }
        let loss = Tensor.where(clippedIsLarger, clipped, unclipped).mean()
        let (ratios, values) = (ratio.scalars, advantages.scalars)
        return (loss, zip(ratios, values).map { $0 < 1 - epsilonLow && $1 < 0 }, zip(ratios, values).map { $0 > 1 + epsilonHigh && $1 > 0 })
    }
}
