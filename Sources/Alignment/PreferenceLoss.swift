import Tensors

/// Losses on pairs of sequence log-probabilities, as pure functions of (B) tensors.
/// Each doc comment writes the equation and cites the paper; the trainers only orchestrate.
public enum PreferenceLoss {
    /// log σ(x), stably: −log(1 + e^{−x}) where x ≥ 0, x − log(1 + e^{x}) where x < 0.
    ///
    /// Two branches rather than min(x, 0) − log(1 + e^{−|x|}): relu and abs have a zero subgradient at 0, which
    /// would give d/dx log σ(0) = 0 instead of ½ and stall DPO, whose logits start at exactly 0. Each branch's input
    /// is clamped so the branch not taken stays finite (and passes no NaN back).
    public static func logSigmoid(_ x: Tensor) -> Tensor {
        let positive = x.clamped(min: -1), negative = x.clamped(max: 1)
        let condition = Tensor(shape: x.shape, scalars: x.scalars.map { $0 >= 0 ? 1 : 0 })
        return Tensor.where(condition, -(1 + (-positive).exp()).log(), negative - (1 + negative.exp()).log())
    }

    /// DPO's loss variants (`loss_type` in TRL).
    public enum Kind: String, Codable, CaseIterable, Sendable {
        /// Rafailov et al. 2023; with label smoothing ε it is conservative DPO (Mitchell 2023):
        /// −(1−ε) log σ(β h) − ε log σ(−β h).
        case sigmoid
        /// Azar et al. 2023 (IPO): (h − 1/(2β))², on length-averaged log-probs.
        case ipo
        /// SLiC (Zhao et al. 2023): max(0, 1 − β h).
        case hinge
        /// Chowdhury et al. 2024 (robust DPO, noisy labels): [−(1−ε) log σ(β h) + ε log σ(−β h)] / (1 − 2ε).
        case robust
        /// Meng et al. 2024 (SimPO), reference-free on length-averaged log-probs:
        /// −(1−ε) log σ(β (π_c − π_r) − γ) − ε log σ(−β (π_c − π_r) + γ).
        case simpo
    }

    /// The DPO family's per-example losses (B), where h = (π_c − π_r) − (ref_c − ref_r) is the difference of
    /// policy and reference log-ratios. Policy terms carry gradients; reference terms are constants.
    /// - Parameters:
    ///   - labelSmoothing: ε, the assumed probability that a label is flipped (sigmoid, robust, simpo).
    ///   - simpoGamma: SimPO's target margin γ (TRL's `simpo_gamma`; the logit is shifted by γ/β before β is applied).
    public static func dpo(_ kind: Kind, policyChosen: Tensor, policyRejected: Tensor,
                           referenceChosen: Tensor?, referenceRejected: Tensor?,
                           beta: Float, labelSmoothing: Float = 0, simpoGamma: Float = 0.5) -> Tensor {
        let policyLogRatio = policyChosen - policyRejected
        var h = policyLogRatio
        if kind != .simpo {
            guard let referenceChosen, let referenceRejected else { preconditionFailure("\(kind) needs reference log-probs") }
            h = policyLogRatio - (referenceChosen - referenceRejected)
        }
        switch kind {
        case .sigmoid:
            return -logSigmoid(h * beta) * (1 - labelSmoothing) - logSigmoid(h * -beta) * labelSmoothing
        case .ipo:
            return (h - 1 / (2 * beta)).squared()
        case .hinge:
            return (1 - h * beta).relu()
        case .robust:
            return (-logSigmoid(h * beta) * (1 - labelSmoothing) + logSigmoid(h * -beta) * labelSmoothing) * (1 / (1 - 2 * labelSmoothing))
        case .simpo:
            let shifted = h - simpoGamma / beta
            return -logSigmoid(shifted * beta) * (1 - labelSmoothing) - logSigmoid(shifted * -beta) * labelSmoothing
        }
    }

    /// DPO's sigmoid loss with a per-pair label smoothing (B): −(1 − εᵢ) log σ(β hᵢ) − εᵢ log σ(−β hᵢ), where εᵢ = 1 − pᵢ
    /// for a soft label pᵢ = P(chosen ≻ rejected) (conservative DPO per pair; at pᵢ = ½ the loss is flat in hᵢ at 0).
    public static func softSigmoid(policyChosen: Tensor, policyRejected: Tensor, referenceChosen: Tensor?, referenceRejected: Tensor?,
                                   beta: Float, labelSmoothing: Tensor) -> Tensor {
        guard let referenceChosen, let referenceRejected else { preconditionFailure("sigmoid needs reference log-probs") }
        let h = (policyChosen - policyRejected) - (referenceChosen - referenceRejected)
        return -logSigmoid(h * beta) * (1 - labelSmoothing) - logSigmoid(h * -beta) * labelSmoothing
    }

    /// log(1 − e^x) for x ≤ 0, without cancellation: log(1 − e^x) where x < −0.01, else
    /// log(−x) + log(1 + x/2 + x²/6 + x³/24) (the series of −expm1(x)/(−x); its error x⁴/120 is below float precision).
    /// Each branch's input is clamped so the branch not taken stays finite.
    public static func logOneMinusExp(_ x: Tensor) -> Tensor {
        let far = x.clamped(max: -0.01), near = x.clamped(min: -0.01, max: -1e-30)
        let condition = Tensor(shape: x.shape, scalars: x.scalars.map { $0 < -0.01 ? 1 : 0 })
        let series = 1 + near * 0.5 + near.squared() * (1 / 6) + near.squared() * near * (1 / 24)
        return Tensor.where(condition, (1 - far.exp()).log(), (-near).log() + series.log())
    }

    /// ORPO's odds ratio (Hong et al. 2024, "ORPO: Monolithic Preference Optimization without Reference Model",
    /// eqs. 4 and 7), on length-averaged log-probabilities p_c, p_r (B) of the chosen and rejected completions:
    /// log odds = (p_c − p_r) − (log(1 − e^{p_c}) − log(1 − e^{p_r})), and the per-pair term log σ(log odds) that
    /// ORPO maximises (the trainer's loss is NLL(chosen) − λ · mean log σ(log odds)).
    /// - Returns: (log σ(log odds), log odds), both (B).
    public static func oddsRatio(chosen: Tensor, rejected: Tensor) -> (logSigmoidOdds: Tensor, logOdds: Tensor) {
        let logOdds = (chosen - rejected) - (logOneMinusExp(chosen) - logOneMinusExp(rejected))
        return (logSigmoid(logOdds), logOdds)
    }

    /// KTO's per-example losses (Ethayarajh et al. 2024, eq. 7; TRL's `KTOTrainer`), from the log-ratios
    /// h = log π(y|x) − log π_ref(y|x) (B) of examples labelled desirable or undesirable:
    /// λ_D (1 − σ(β (h − z))) for desirable, λ_U (1 − σ(β (z − h))) for undesirable, where z is the reference point —
    /// the batch's KL estimate (a constant, clamped at 0). With z = 0 this is APO-zero without pairs
    /// (D'Oosterlinck et al. 2024; TRL's `apo_zero_unpaired`).
    public static func kto(logRatios: Tensor, desirable: [Bool], referencePoint: Float, beta: Float,
                           desirableWeight: Float, undesirableWeight: Float) -> Tensor {
        precondition(logRatios.shape == [desirable.count], "log-ratios \(logRatios.shape) for \(desirable.count) labels")
        let signs = Tensor(shape: [desirable.count], scalars: desirable.map { $0 ? 1 : -1 })
        let weights = Tensor(shape: [desirable.count], scalars: desirable.map { $0 ? desirableWeight : undesirableWeight })
        return (1 - ((logRatios - referencePoint) * signs * beta).sigmoid()) * weights
    }

    /// Bradley–Terry reward-model loss (Ouyang et al. 2022; TRL's RewardTrainer): −log σ(r_c − r_r − m), with an
    /// optional margin m per pair, plus `centerCoefficient` · (r_c + r_r)² (Eisenstein et al. 2023) to keep
    /// rewards centred. With soft labels p = P(chosen ≻ rejected) (AI feedback), the loss is the cross-entropy
    /// −p log σ(Δ) − (1−p) log σ(−Δ).
    public static func reward(chosen: Tensor, rejected: Tensor, margin: Tensor? = nil, chosenProbability: Tensor? = nil,
                              centerCoefficient: Float = 0) -> Tensor {
        var difference = chosen - rejected
        if let margin { difference = difference - margin }
        var loss: Tensor
        if let p = chosenProbability {
            loss = -(logSigmoid(difference) * p) - logSigmoid(-difference) * (1 - p)
        } else {
            loss = -logSigmoid(difference)
        }
        if centerCoefficient > 0 { loss = loss + (chosen + rejected).squared() * centerCoefficient }
        return loss
    }
}
