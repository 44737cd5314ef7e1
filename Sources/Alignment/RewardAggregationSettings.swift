import Foundation
import Settings

/// The recipe keys that say how a reward-model ensemble folder's members become one reward (``RewardAggregation``),
/// read alike by PPO, GRPO, RLOO and online DPO (each configuration flattens them beside its own keys):
/// `reward_aggregation` (mean, min, uncertainty — Coste et al. 2024; weighted, maxmin — over named heads),
/// `reward_uncertainty_penalty` (λ of uncertainty), `principle_weights` (weighted) and `principle_groups` (maxmin).
public struct RewardAggregationSettings: KeyedSettings, Equatable, Sendable {
    /// `reward_aggregation`: mean, min, uncertainty, weighted or maxmin. Only an ensemble folder (one with
    /// ensemble.json) is aggregated; any other value than mean needs one.
    public var name = "mean"
    /// λ of `uncertainty`: the reward is the members' mean − λ · their variance (`reward_uncertainty_penalty`).
    public var uncertaintyPenalty = 1.0
    /// `principle_weights` of `weighted`: "harmless=0.7,helpful=0.3", one weight per head of the ensemble.
    public var principleWeights: String?
    /// `principle_groups` of `maxmin`: "harmless+honest,helpful", groups of heads; the reward is the lowest group's mean.
    public var principleGroups: String?

    public init() {}

    public static var fields: [SettingsField<Self>] {
        [.init("reward_aggregation", \.name,
               where: SettingsCheck { RewardAggregation.names.contains($0) ? nil : "must be one of \(RewardAggregation.names.joined(separator: ", "))" }),
         .init("reward_uncertainty_penalty", \.uncertaintyPenalty, where: SettingsCheck<Double>.finite.and(.atLeast(0))),
         .init("principle_weights", \.principleWeights, where: SettingsCheck { (try? RewardAggregation.parseWeights($0)) == nil ? "must be head=weight,… with weights ≥ 0, one positive" : nil },
               omitsNil: true),
         .init("principle_groups", \.principleGroups, where: SettingsCheck { (try? RewardAggregation.parseGroups($0)) == nil ? "must be groups of heads, e.g. harmless+honest,helpful" : nil },
               omitsNil: true)]
    }

    /// The aggregation the keys name.
    /// - Throws: `SettingsError` naming the key (weights or groups missing, malformed, or given to another aggregation).
    public var aggregation: RewardAggregation {
        get throws { try RewardAggregation(name: name, penalty: uncertaintyPenalty, weights: principleWeights, groups: principleGroups) }
    }

    /// Whether the keys ask for anything but the members' mean (and so need an ensemble folder among the rewards).
    public var aggregatesEnsemble: Bool { name != "mean" }
}
