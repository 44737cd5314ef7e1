import Foundation
import Tensors

/// PPO-RLHF's math as pure functions: per-token KL estimators, the KL-shaped reward, generalised advantage
/// estimation, whitening and the clipped policy and value losses. The trainer only orchestrates these.
///
/// Sequences are ragged: one array per rollout, one entry per response token (the eos that ended the response is a
/// response token). Loss functions take right-padded (B, W) tensors with a (B, W) mask of real tokens.
public enum PPOLoss {
    /// Schulman's estimators of KL(π ‖ π_ref) from samples of π ("Approximating KL Divergence", 2020).
    public enum KLEstimator: String, Codable, CaseIterable, Sendable {
        /// k1 = log π(x) − log π_ref(x): unbiased, high variance, can be negative per token.
        case k1
        /// k3 = (r − 1) − log r with r = π_ref(x)/π(x): unbiased, lower variance, never negative.
        case k3
    }

    /// Per-token KL estimates of the policy against the reference at the sampled tokens.
    /// - Parameters:
    ///   - logProbabilities: log π(y_t | x, y_<t) of one response.
    ///   - referenceLogProbabilities: log π_ref of the same tokens.
    public static func kl(logProbabilities: [Float], referenceLogProbabilities: [Float], estimator: KLEstimator) -> [Float] {
        precondition(logProbabilities.count == referenceLogProbabilities.count,
                     "kl: \(logProbabilities.count) policy and \(referenceLogProbabilities.count) reference log-probs")
        return zip(logProbabilities, referenceLogProbabilities).map { logP, logRef in
            let logRatio = logRef - logP  // log r
            switch estimator {
            case .k1: return -logRatio
            case .k3: return Float(Foundation.expm1(Double(logRatio)) - Double(logRatio))
            }
        }
    }

    /// The KL-shaped per-token reward of RLHF (Ziegler et al. 2019, "Fine-Tuning Language Models from Human
    /// Preferences"; Ouyang et al. 2022, InstructGPT): r_t = −β·KL_t at every response token, plus the scalar
    /// score s at the last token, so Σ_t r_t = s − β·KL(π ‖ π_ref) estimated on the sample.
    /// - Returns: the rewards and the non-score part (−β·KL_t) separately, for TRL's `objective/non_score_reward`.
    public static func shapedRewards(kl: [Float], score: Float, coefficient beta: Float) -> (rewards: [Float], nonScore: [Float]) {
        let nonScore = kl.map { -beta * $0 }
        var rewards = nonScore
        if !rewards.isEmpty { rewards[rewards.count - 1] += score }
        return (rewards, nonScore)
    }

    /// Generalised advantage estimation (Schulman et al. 2016, "High-Dimensional Continuous Control Using
    /// Generalized Advantage Estimation") for one episode that ends after its last token (V after the end is 0):
    ///
    ///     δ_t = r_t + γ V_{t+1} − V_t,   A_t = δ_t + γλ A_{t+1},   returns R_t = A_t + V_t.
    public static func generalizedAdvantages(rewards: [Float], values: [Float], gamma: Float, lambda: Float)
        -> (advantages: [Float], returns: [Float]) {
        precondition(rewards.count == values.count, "GAE: \(rewards.count) rewards and \(values.count) values")
        var advantages = [Float](repeating: 0, count: rewards.count)
        var running: Float = 0
        for t in stride(from: rewards.count - 1, through: 0, by: -1) {
            let nextValue: Float = t + 1 < values.count ? values[t + 1] : 0
            let delta = rewards[t] + gamma * nextValue - values[t]
            running = delta + gamma * lambda * running
            advantages[t] = running
        }
        return (advantages, zip(advantages, values).map(+))
    }

    /// Whitening over every token of every sequence (TRL's `masked_whiten`): (x − mean) / √(var + 1e−8) with the
    /// unbiased variance; with `shiftMean` false the mean is added back (used for rewards, whose sign matters).
    public static func whiten(_ sequences: [[Float]], shiftMean: Bool = true) -> [[Float]] {
        let all = sequences.flatMap { $0 }.map(Double.init)
        guard all.count > 1 else { return sequences }
        let mean = all.reduce(0, +) / Double(all.count)
        let variance = all.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(all.count - 1)
        let scale = 1 / (variance + 1e-8).squareRoot()
        return sequences.map { row in row.map { Float((Double($0) - mean) * scale + (shiftMean ? 0 : mean)) } }
    }

    /// Statistics of a clipped loss that TRL logs, over real tokens.
    public struct PolicyStatistics: Equatable, Sendable {
        /// Fraction of tokens where the clipped term was the larger loss (`policy/clipfrac_avg`).
        public var clipFraction: Double
        /// ½·mean (log π_new − log π_old)², the approximate KL from the rollout policy (`policy/approxkl_avg`).
        public var approximateKL: Double
        /// mean π_new/π_old (`val/ratio`).
        public var ratio: Double
    }

    /// PPO's clipped surrogate (Schulman et al. 2017, "Proximal Policy Optimization Algorithms"), as a loss:
    ///
    ///     ρ_t = exp(log π_θ − log π_old),   L = mean_t max(−A_t ρ_t, −A_t clip(ρ_t, 1 − ε, 1 + ε))
    ///
    /// over the tokens where `mask` is 1. Shapes: every argument (B, W).
    /// - Parameters:
    ///   - logProbabilities: log π_θ of the sampled tokens, on the tape.
    ///   - oldLogProbabilities, advantages, mask: constants from the rollout.
    public static func clippedPolicyLoss(logProbabilities: Tensor, oldLogProbabilities: Tensor, advantages: Tensor,
                                         mask: Tensor, clipRange epsilon: Float) -> (loss: Tensor, statistics: PolicyStatistics) {
        precondition(logProbabilities.shape == oldLogProbabilities.shape && logProbabilities.shape == advantages.shape
                     && logProbabilities.shape == mask.shape,
                     "clippedPolicyLoss: shapes \(logProbabilities.shape) \(oldLogProbabilities.shape) \(advantages.shape) \(mask.shape)")
        let difference = logProbabilities - oldLogProbabilities
        let ratio = difference.exp()
        let unclipped = -advantages * ratio
        let clipped = -advantages * ratio.clamped(min: 1 - epsilon, max: 1 + epsilon)
        let clippedIsLarger = withoutGradients { Self.greater(clipped, unclipped) }
        let perToken = Tensor.where(clippedIsLarger, clipped, unclipped)
        let count = Swift.max(mask.scalars.reduce(0, +), 1)
        let loss = (perToken * mask).sum() * (1 / count)
        let statistics = withoutGradients {
            PolicyStatistics(clipFraction: Self.maskedMean(clippedIsLarger, mask),
                             approximateKL: 0.5 * Self.maskedMean(difference.squared(), mask),
                             ratio: Self.maskedMean(ratio, mask))
        }
        return (loss, statistics)
    }

    /// PPO's clipped value loss (as in OpenAI's baselines and TRL):
    ///
    ///     V_clip = clip(V_θ, V_old − ε_v, V_old + ε_v),   L = ½ mean_t max((V_θ − R_t)², (V_clip − R_t)²)
    ///
    /// over the tokens where `mask` is 1. Shapes: every argument (B, W).
    /// - Returns: the loss and the fraction of tokens where the clipped error was the larger (`val/clipfrac_avg`).
    public static func clippedValueLoss(values: Tensor, oldValues: Tensor, returns: Tensor, mask: Tensor,
                                        clipRange epsilon: Float) -> (loss: Tensor, clipFraction: Double) {
        precondition(values.shape == oldValues.shape && values.shape == returns.shape && values.shape == mask.shape,
                     "clippedValueLoss: shapes \(values.shape) \(oldValues.shape) \(returns.shape) \(mask.shape)")
        // clip(V, V_old − ε, V_old + ε) = V_old + clip(V − V_old, −ε, ε), which keeps the gradient where V is inside.
        let clippedValues = oldValues + (values - oldValues).clamped(min: -epsilon, max: epsilon)
        let unclipped = (values - returns).squared()
        let clipped = (clippedValues - returns).squared()
        let clippedIsLarger = withoutGradients { Self.greater(clipped, unclipped) }
        let perToken = Tensor.where(clippedIsLarger, clipped, unclipped)
        let count = Swift.max(mask.scalars.reduce(0, +), 1)
        let loss = (perToken * mask).sum() * (0.5 / count)
        return (loss, withoutGradients { Self.maskedMean(clippedIsLarger, mask) })
    }

    /// 1 where a > b, else 0 (no tape).
    static func greater(_ a: Tensor, _ b: Tensor) -> Tensor {
        Tensor(shape: a.shape, scalars: zip(a.scalars, b.scalars).map { $0 > $1 ? 1 : 0 })
    }

    /// Σ x·mask / Σ mask, in Double.
    static func maskedMean(_ x: Tensor, _ mask: Tensor) -> Double {
        var sum = 0.0, count = 0.0
        for (value, weight) in zip(x.scalars, mask.scalars) where weight != 0 { sum += Double(value); count += 1 }
        return count > 0 ? sum / count : 0
    }
}
