import Alignment
import ArgumentParser

/// The ensemble flags `charter ppo`, `grpo`, `rloo` and `online-dpo` share: how a reward-model ensemble folder's
/// members become one reward (`RewardAggregationSettings`' keys).
struct RewardAggregationFlags: ParsableArguments {
    @Option(help: "reward_aggregation for an ensemble folder: mean, min, uncertainty, weighted or maxmin.") var rewardAggregation: String?
    @Option(help: "reward_uncertainty_penalty: λ of --reward-aggregation uncertainty (mean − λ·variance).") var rewardUncertaintyPenalty: Double?
    @Option(help: "principle_weights for a folder of heads, e.g. harmless=0.7,helpful=0.3 (implies --reward-aggregation weighted).")
    var principleWeights: String?
    @Option(help: "principle_groups for MaxMin over heads, e.g. harmless+honest,helpful (implies --reward-aggregation maxmin).")
    var principleGroups: String?

    /// The flags given, as recipe keys (nil: not given); weights imply `weighted` and groups `maxmin`.
    var recipeValues: [String: Any?] {
        ["reward_aggregation": rewardAggregation ?? (principleWeights != nil ? "weighted" : principleGroups != nil ? "maxmin" : nil),
         "reward_uncertainty_penalty": rewardUncertaintyPenalty, "principle_weights": principleWeights, "principle_groups": principleGroups]
    }
}
