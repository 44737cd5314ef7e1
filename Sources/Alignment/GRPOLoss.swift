import Foundation
import Tensors

/// Group Relative Policy Optimization's math as pure functions (Shao et al. 2024, "DeepSeekMath: Pushing the Limits of
/// Mathematical Reasoning in Open Language Models", §4.1), with the loss normalisations TRL 1.16 offers: the
/// group-relative advantage, the per-token weights of each `loss_type`, and the clipped surrogate with the k3 KL
/// penalty to the reference. The trainer only orchestrates these.
public enum GRPOLoss {
    /// How token losses are aggregated (TRL's `loss_type`).
    public enum LossType: String, Codable, CaseIterable, Sendable {
        /// Mean over each sequence's tokens, then over sequences (DeepSeekMath's 1/|o_i| normalisation; length-biased).
        case grpo
        /// Sum over tokens / (sequences × `max_completion_length`), a constant (Liu et al. 2025, "Understanding R1-Zero-
        /// Like Training: A Critical Perspective" — Dr. GRPO).
        case drGRPO = "dr_grpo"
        /// Sum over tokens / the number of completion tokens in the whole generation batch (Yu et al. 2025, DAPO).
        case dapo
        /// Sum over tokens / the number of completion tokens in the micro-batch.
        case bnpo
    }

    /// How the group-centred rewards are scaled (TRL's `scale_rewards`).
    public enum RewardScaling: String, Codable, CaseIterable, Sendable {
        /// By the standard deviation within each group (DeepSeekMath).
        case group
        /// By the standard deviation over the whole generation batch (Hu et al. 2025, PPO Lite).
        case batch
        /// Not at all (Dr. GRPO: scaling by the group's std biases toward too easy and too hard questions).
        case none
    }

    /// Group-relative advantages (DeepSeekMath's outcome supervision, eq. in §4.1.2): for G completions o_1…o_G of one
    /// prompt with rewards r_i,
    ///
    ///     Â_i = (r_i − mean(r_1…r_G)) / (std + 1e−4)
    ///
    /// where std is the unbiased standard deviation of the group (`group`), of the whole batch (`batch`), or 1 with no
    /// 1e−4 (`none`). Completions are laid out group by group (prompt 0's G completions, then prompt 1's, …).
    /// - Returns: the advantages and, per completion, whether its group's std is 0 (`frac_reward_zero_std`).
    public static func advantages(rewards: [Float], groupSize: Int, scaling: RewardScaling) -> (advantages: [Float], zeroStd: [Bool]) {
        precondition(groupSize > 0 && rewards.count % groupSize == 0, "advantages: \(rewards.count) rewards in groups of \(groupSize)")
        let values = rewards.map(Double.init)
        var advantages: [Float] = [], zeroStd: [Bool] = []
        let batchStd = standardDeviation(values[...])
        for start in stride(from: 0, to: values.count, by: groupSize) {
            let group = values[start..<(start + groupSize)]
            let mean = group.reduce(0, +) / Double(groupSize)
            let groupStd = standardDeviation(group)
            let std = scaling == .batch ? batchStd : groupStd
            for value in group {
                advantages.append(Float(scaling == .none ? value - mean : (value - mean) / (std + 1e-4)))
                zeroStd.append(std <= 1e-8)
            }
        }
        return (advantages, zeroStd)
    }

    /// Unbiased standard deviation (torch's / TRL's `nanstd` without NaNs); 0 for fewer than two values.
    static func standardDeviation(_ values: ArraySlice<Double>) -> Double {
        guard values.count > 1 else { return 0 }
        let mean = values.reduce(0, +) / Double(values.count)
        return (values.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(values.count - 1)).squareRoot()
    }

    /// Per-token weights w_{b,t} of a micro-batch such that the micro-batch's loss is Σ_{b,t} w_{b,t} ℓ_{b,t}, for
    /// TRL 1.16's normalisations, before the trainer's division by `gradient_accumulation_steps`:
    /// - `grpo`: 1 / (|o_b| · B), the mean over each sequence then over the B sequences;
    /// - `bnpo`: 1 / Σ_b |o_b|, the token mean of the micro-batch;
    /// - `dr_grpo`: 1 / (B · `max_completion_length`);
    /// - `dapo`: accumulation / (tokens in the whole generation batch), so that after the division by the
    ///   accumulation steps every token of the generation batch weighs the same.
    /// - Parameters:
    ///   - lengths: |o_b|, completion tokens per sequence of the micro-batch (0 for a masked completion).
    ///   - generationBatchTokens: completion tokens of the whole generation batch (`dapo` only).
    /// - Returns: one weight per sequence (the same for each of its tokens).
    public static func sequenceWeights(lossType: LossType, lengths: [Int], maximumCompletionLength: Int,
                                       generationBatchTokens: Int, accumulationSteps: Int) -> [Float] {
        let batch = Double(lengths.count)
        let tokens = Double(Swift.max(lengths.reduce(0, +), 1))
        return lengths.map { length in
            switch lossType {
            case .grpo: return Float(1 / (Double(Swift.max(length, 1)) * batch))
            case .bnpo: return Float(1 / tokens)
            case .drGRPO: return Float(1 / (batch * Double(maximumCompletionLength)))
            case .dapo: return Float(Double(accumulationSteps) / Double(Swift.max(generationBatchTokens, 1)))
            }
        }
    }

    /// Statistics TRL logs with the loss, over completion tokens.
    public struct Statistics: Equatable, Sendable {
        /// Token mean of the k3 KL estimate to the reference (`kl`; 0 without a reference).
        public var kl: Double
        /// Fraction of tokens with ρ < 1 − ε_low and Â < 0 (`clip_ratio/low_mean`).
        public var lowClipped: Double
        /// Fraction of tokens with ρ > 1 + ε_high and Â > 0 (`clip_ratio/high_mean`).
        public var highClipped: Double
        /// Per-sequence fractions of those, for `clip_ratio/low_min` and `clip_ratio/high_max`.
        public var lowClippedPerSequence: [Double]
        public var highClippedPerSequence: [Double]
        /// Either (`clip_ratio/region_mean`).
        public var regionClipped: Double
    }

    /// The GRPO objective as a loss (DeepSeekMath eq. 3, with DAPO's asymmetric clip ε_low/ε_high and the loss type's
    /// normalisation):
    ///
    ///     ρ_{i,t} = π_θ(o_{i,t} | q, o_{i,<t}) / π_old(o_{i,t} | q, o_{i,<t})
    ///     ℓ_{i,t} = −min(ρ_{i,t} Â_i, clip(ρ_{i,t}, 1 − ε_low, 1 + ε_high) Â_i) + β D_{i,t}
    ///     D_{i,t} = π_ref/π_θ − log(π_ref/π_θ) − 1          (the k3 estimator of KL(π_θ ‖ π_ref), ≥ 0)
    ///     D_{i,t} ← ρ_{i,t} D_{i,t}                           (with `biasCorrectedKL`, TRL 1.16's default)
    ///     L = Σ_{i,t} w_{i,t} ℓ_{i,t}                          (w from `sequenceWeights`)
    ///
    /// Shapes: every tensor (B, W), values at completion-token positions, 0 elsewhere.
    /// - Parameters:
    ///   - logProbabilities: log π_θ of the completion tokens, on the tape.
    ///   - oldLogProbabilities: log π_old (constants); with one iteration per generation TRL uses log π_θ detached.
    ///   - referenceLogProbabilities: log π_ref (constants), nil when β = 0.
    ///   - advantages: Â_i at each of completion i's tokens.
    ///   - weights: w_{i,t} at each completion token, 0 elsewhere.
    ///   - biasCorrectedKL: weight the KL term by the (differentiable) ratio ρ, so that its gradient is the unbiased
    ///     reverse-KL gradient under samples of π_old (DeepSeek-AI 2025, "DeepSeek-V3.2"; TRL's
    ///     `use_bias_correction_kl`). It changes the gradient even on-policy, where ρ = 1.
    public static func loss(logProbabilities: Tensor, oldLogProbabilities: Tensor, referenceLogProbabilities: Tensor?,
                            advantages: Tensor, weights: Tensor, mask: Tensor, beta: Float, epsilonLow: Float,
                            epsilonHigh: Float, biasCorrectedKL: Bool = true) -> (loss: Tensor, statistics: Statistics) {
        precondition(logProbabilities.shape == oldLogProbabilities.shape && logProbabilities.shape == advantages.shape
                     && logProbabilities.shape == weights.shape && logProbabilities.shape == mask.shape,
                     "GRPOLoss.loss: shapes \(logProbabilities.shape) \(oldLogProbabilities.shape) \(advantages.shape) \(weights.shape) \(mask.shape)")
        let ratio = (logProbabilities - oldLogProbabilities).exp()
        let unclipped = -advantages * ratio
        let clipped = -advantages * ratio.clamped(min: 1 - epsilonLow, max: 1 + epsilonHigh)
        let clippedIsLarger = withoutGradients { PPOLoss.greater(clipped, unclipped) }
        var perToken = Tensor.where(clippedIsLarger, clipped, unclipped)
        var kl = 0.0
        if let referenceLogProbabilities, beta != 0 {
            let logRatio = referenceLogProbabilities - logProbabilities  // log(π_ref/π_θ)
            var divergence = logRatio.exp() - logRatio - 1
            if biasCorrectedKL { divergence = divergence * ratio }
            perToken = perToken + divergence * beta
            kl = withoutGradients { PPOLoss.maskedMean(divergence, mask) }
        }
        let loss = (perToken * weights).sum()
        let statistics = withoutGradients { () -> Statistics in
            let ratios = ratio.scalars, advantageValues = advantages.scalars, maskValues = mask.scalars
            let width = mask.shape[1]
            var low = [Double](repeating: 0, count: mask.shape[0]), high = low, counts = low
            for index in maskValues.indices where maskValues[index] != 0 {
                let row = index / width
                counts[row] += 1
                if ratios[index] < 1 - epsilonLow && advantageValues[index] < 0 { low[row] += 1 }
                if ratios[index] > 1 + epsilonHigh && advantageValues[index] > 0 { high[row] += 1 }
            }
            let total = Swift.max(counts.reduce(0, +), 1)
            let rows = counts.indices.filter { counts[$0] > 0 }
            return Statistics(kl: kl, lowClipped: low.reduce(0, +) / total, highClipped: high.reduce(0, +) / total,
                              lowClippedPerSequence: rows.map { low[$0] / counts[$0] },
                              highClippedPerSequence: rows.map { high[$0] / counts[$0] },
                              regionClipped: (low.reduce(0, +) + high.reduce(0, +)) / total)
        }
        return (loss, statistics)
    }
}
