/// The coefficient β of the KL penalty: fixed, or adapted towards a target KL (Ziegler et al. 2019,
/// "Fine-Tuning Language Models from Human Preferences", §2.2):
///
///     e_t = clip(KL_t / KL_target − 1, −0.2, 0.2),   β_{t+1} = β_t · (1 + K_β · e_t)
///
/// with K_β = n / horizon for a batch of n episodes — a proportional controller that raises β when the policy drifts
/// further than the target and lowers it when it stays closer. KL_t is the mean over the batch of each response's
/// summed per-token KL (TRL's `objective/kl`).
public struct PPOKLController: Codable, Equatable, Sendable {
    /// The current β.
    public private(set) var coefficient: Float
    /// Target KL in nats per response; nil keeps β fixed.
    public let target: Float?
    /// Episodes over which the proportional error is corrected.
    public let horizon: Float

    public init(coefficient: Float, target: Float? = nil, horizon: Float = 10_000) {
        self.coefficient = coefficient
        self.target = target
        self.horizon = horizon
    }

    /// Moves β after a batch of `episodes` rollouts whose mean KL was `kl`; a fixed controller ignores it.
    public mutating func update(kl: Double, episodes: Int) {
        guard let target, target > 0, kl.isFinite else { return }
        let error = Swift.min(Swift.max(kl / Double(target) - 1, -0.2), 0.2)
        coefficient = Float(Double(coefficient) * (1 + error * Double(episodes) / Double(horizon)))
    }
}
