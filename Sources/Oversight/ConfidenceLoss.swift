import Alignment
import Foundation
import Tensors

/// The losses of weak-to-strong training on a binary task, for a model that outputs one logit z per example
/// (p(positive) = σ(z); transformers' two-class logits [l₀, l₁] are the same model with z = l₁ − l₀).
///
/// Burns et al. 2023, "Weak-to-Strong Generalization: Eliciting Strong Capabilities With Weak Supervision", §4.3.2,
/// eq. 1 — the auxiliary confidence loss:
///
///     L_conf(f) = (1 − α) · CE(f(x), f_w(x)) + α · CE(f(x), f̂_t(x)),   f̂_t(x) = I[f(x) > t]
///
/// f_w(x) ∈ [0, 1] is the weak supervisor's soft label, f(x) the strong student's prediction and f̂_t(x) the student's
/// own prediction hardened at a threshold t. The threshold is adaptive, per batch: t is chosen so that the hardened
/// predictions have as many positives as the weak labels' mean says (appendix A.4; in the authors' code
/// `openai/weak-to-strong` `logconf_loss_fn`, t = torch.quantile(p₀, mean f_w) over the batch's p₀ = 1 − σ(z), and
/// an example is hardened to positive when p₀ < t). α is warmed up linearly from 0 to α_max over the first 20% of
/// training (the paper's schedule; the released code jumps from step_frac to 1 at the end of warm-up, openai/weak-to-strong#33).
/// With α = 0 the loss is plain cross-entropy on the weak labels — naive weak-to-strong finetuning.
public enum ConfidenceLoss {
    /// Mean binary cross-entropy of logits (B) against soft targets in [0, 1] (B):
    /// mean(−[y log σ(z) + (1 − y) log σ(−z)]) — `PreferenceLoss.reward` with soft labels and a zero "rejected" score.
    public static func crossEntropy(logits: Tensor, targets: [Float]) -> Tensor {
        precondition(logits.shape == [targets.count], "logits \(logits.shape) for \(targets.count) targets")
        let y = Tensor(shape: [targets.count], scalars: targets)
        return (-(PreferenceLoss.logSigmoid(logits) * y) - PreferenceLoss.logSigmoid(-logits) * (1 - y)).mean()
    }

    /// The auxiliary confidence loss of a batch (a scalar on the tape).
    /// - Parameters:
    ///   - logits: (B) the student's logits.
    ///   - weakLabels: (B) the weak supervisor's probabilities of the positive class.
    ///   - alpha: the weight of the student's hardened predictions (from `alpha(progress:maximum:warmupFraction:)`).
    public static func auxiliaryConfidence(logits: Tensor, weakLabels: [Float], alpha: Float) -> Tensor {
        let hardened = hardenedPredictions(logits: logits.scalars, weakLabels: weakLabels)
        let targets = zip(weakLabels, hardened).map { (1 - alpha) * $0 + alpha * $1 }  // no gradient through f̂_t
        return crossEntropy(logits: logits, targets: targets)
    }

    /// f̂_t: 1 where the student's p₀ = 1 − σ(z) is below t = quantile(p₀, mean weak label), else 0 — so that about
    /// a mean-weak-label fraction of the batch is hardened to positive.
    public static func hardenedPredictions(logits: [Float], weakLabels: [Float]) -> [Float] {
        precondition(logits.count == weakLabels.count && !logits.isEmpty, "\(logits.count) logits for \(weakLabels.count) weak labels")
        let negative = logits.map { 1 - sigmoid($0) }
        let meanWeak = Double(weakLabels.reduce(0, +)) / Double(weakLabels.count)
        let threshold = quantile(negative, meanWeak)
        return negative.map { $0 < threshold ? 1 : 0 }
    }

    /// α at `progress` (completed steps / total steps): α_max · min(1, progress / warmupFraction); α_max from the start
    /// when warmupFraction is 0.
    public static func alpha(progress: Double, maximum: Double, warmupFraction: Double) -> Double {
        guard warmupFraction > 0 else { return maximum }
        return maximum * min(1, max(0, progress) / warmupFraction)
    }

    /// torch.quantile's default (linear) interpolation: the value at rank q·(n − 1) of the sorted values.
    static func quantile(_ values: [Float], _ q: Double) -> Float {
        let sorted = values.sorted()
        let rank = min(max(q, 0), 1) * Double(sorted.count - 1)
        let below = Int(rank.rounded(.down)), above = min(below + 1, sorted.count - 1)
        let fraction = Float(rank - Double(below))
        return sorted[below] + (sorted[above] - sorted[below]) * fraction
    }

    static func sigmoid(_ z: Float) -> Float { 1 / (1 + Foundation.exp(-z)) }
}
