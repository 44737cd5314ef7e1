import Foundation

/// Checks of a training stage's logged metrics (`metrics.jsonl` rows, TRL names) for a stage that learned nothing or
/// ran away: a reward model whose accuracy is at chance, a PPO run whose KL from the reference exploded. Every
/// experiment's report runs the same checks with the same thresholds and states them on the page.
public enum TrainingChecks {
    /// A reward model is "at chance" when its final accuracy is at most 0.5 + this margin.
    public static let chanceMargin = 0.05
    /// A PPO run's KL has "exploded" when a logged `objective/kl` exceeds this many nats per response.
    public static let klLimit = 20.0

    /// One check of one stage.
    public struct Outcome: Codable, Equatable, Sendable {
        /// Which stage (e.g. "seed 1 reward").
        public var stage: String
        /// What was checked ("reward model above chance", "PPO KL bounded").
        public var check: String
        /// The threshold, in words.
        public var threshold: String
        /// The measured value, in words ("accuracy 0.68 (mean of the last 3 logged values)").
        public var measured: String
        /// Whether the stage failed the check.
        public var failed: Bool
        /// A sentence for the page's warning callout.
        public var warning: String
    }

    /// The reward model's final accuracy: the last held-out `eval_accuracy` when the run evaluated, otherwise the
    /// mean training `accuracy` over the last quarter of the logged rows (at least one; the logged values are
    /// already means over their logging window); nil when nothing was logged.
    public static func finalRewardAccuracy(_ curve: [[String: Double]]) -> (value: Double, source: String)? {
        if let held = curve.last(where: { $0["eval_accuracy"] != nil })?["eval_accuracy"] {
            return (held, "held-out eval_accuracy")
        }
        let logged = curve.compactMap { $0["accuracy"] }
        guard !logged.isEmpty else { return nil }
        let tail = Array(logged.suffix(max(1, logged.count / 4)))
        return (Statistics.mean(tail), tail.count == 1 ? "last logged training accuracy" : "mean training accuracy of the last \(tail.count) logged values")
    }

    /// Whether a reward model's final accuracy (``finalRewardAccuracy(_:)``) is above chance; nil when its curve
    /// logged no accuracy.
    public static func rewardModel(_ curve: [[String: Double]], stage: String) -> Outcome? {
        guard let (accuracy, source) = finalRewardAccuracy(curve) else { return nil }
        let limit = 0.5 + chanceMargin
        let failed = !(accuracy > limit)
        return Outcome(stage: stage, check: "reward model above chance", threshold: String(format: "accuracy > %.2f", limit),
                       measured: String(format: "accuracy %.3f", accuracy) + " (\(source))", failed: failed,
                       warning: "\(stage): the reward model's final accuracy is " + String(format: "%.3f", accuracy)
                           + " (\(source)), not above chance (" + String(format: "0.5 + %.2f", chanceMargin) + "): it learned no preference, so PPO against it optimises noise.")
    }

    /// Whether a PPO run's logged KL from the reference (`objective/kl`, nats per response) stayed within
    /// ``klLimit``; nil when its curve logged no KL.
    public static func ppoKL(_ curve: [[String: Double]], stage: String, limit: Double = klLimit) -> Outcome? {
        let logged = curve.compactMap { row -> (step: Double, kl: Double)? in row["objective/kl"].map { (row["step"] ?? 0, $0) } }
        // A NaN KL counts as the largest: the run diverged.
        guard let largest = logged.first(where: { $0.kl.isNaN }) ?? logged.max(by: { $0.kl < $1.kl }) else { return nil }
        let failed = !(largest.kl <= limit)
        return Outcome(stage: stage, check: "PPO KL bounded", threshold: String(format: "objective/kl ≤ %.0f nats", limit),
                       measured: String(format: "largest %.2f nats (step %.0f); last %.2f", largest.kl, largest.step, logged.last?.kl ?? 0), failed: failed,
                       warning: "\(stage): " + String(format: "PPO's KL from the reference reached %.2f nats per response at step %.0f, over the %.0f-nat limit: ", largest.kl, largest.step, limit)
                           + "the policy ran away from the reference (raise kl_coef or lower the learning rate).")
    }

    /// The thresholds, in a sentence for the page.
    public static var description: String {
        String(format: "A reward model is flagged as at chance when its final accuracy (the last held-out eval_accuracy, or else the mean training accuracy of the last quarter of its logged values) is at most %.2f (0.5 + %.2f). A PPO run is flagged when a logged objective/kl exceeds %.0f nats per response.",
               0.5 + chanceMargin, chanceMargin, klLimit)
    }
}
