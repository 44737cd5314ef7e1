import Foundation
import JSON
import Tensors

/// Online DPO on the shared rollouts (Guo et al. 2024, "Direct Language Model Alignment from Online AI Feedback"; TRL
/// 1.16's `OnlineDPOTrainer.training_step`): each prompt's group is its two completions; scores or a judge decide
/// which is chosen; the loss is `PreferenceLoss.dpo` on the pair's summed log-probabilities against the reference's.
extension GroupRolloutTrainer {
    /// β of the epoch in progress (TRL's list of β, one per epoch, its last for the epochs after).
    var onlineBeta: Float {
        guard case .onlineDPO(_, let betas, _) = method else { return settings.beta }
        return betas[min(epochInProgress, betas.count - 1)]
    }

    /// Subtracts `missing_eos_penalty` from the score of each completion without eos, decides each pair from the
    /// scores (the first is chosen when its score is at least the second's, as in TRL) unless a judge already did,
    /// and cuts prompts to `max_length` for the forward passes (the scorers saw them whole).
    func rank(_ rollouts: inout GroupRollouts, missingEOSPenalty: Float?) {
        precondition(rollouts.groupSize == 2, "online DPO ranks pairs, got groups of \(rollouts.groupSize)")
        if let penalty = missingEOSPenalty {
            for index in 0..<rollouts.count where rollouts.truncated[index] { rollouts.rewards[index] -= penalty }
        }
        if judge == nil {
            rollouts.firstIsChosen = stride(from: 0, to: rollouts.count, by: 2).map { rollouts.rewards[$0] >= rollouts.rewards[$0 + 1] }
        }
        if let limit = settings.maximumLength { rollouts.truncatePrompts(toFit: limit) }
    }

    /// Asks the judge about every prompt's two completions; true where the first is chosen.
    /// - Throws: what the judge throws, and `TrainingError.data` for a wrong count or an answer outside [0, 1].
    func judge(_ rollouts: GroupRollouts, with judge: PairwiseJudge, contexts: [PromptContext]) throws -> [Bool] {
        let items = scoredItems(rollouts, contexts: contexts)
        let pairs = stride(from: 0, to: items.count, by: 2).map { JudgedPair(first: items[$0], second: items[$0 + 1]) }
        let preferences = try judge.preferences(pairs)
        guard preferences.count == pairs.count else {
            throw TrainingError.data("the judge \(judge.name) answered \(preferences.count) times for \(pairs.count) pairs")
        }
        if let bad = preferences.firstIndex(where: { !($0 >= 0 && $0 <= 1) }) {
            throw TrainingError.data("the judge \(judge.name) gave pair \(bad) the probability \(preferences[bad]), not one in [0, 1]")
        }
        return preferences.map { $0 >= 0.5 }
    }

    /// The loss of the pairs at `indices` (whole groups: 2p, 2p + 1) on the tape, and TRL's statistics for them:
    /// `objective/kl`, `objective/entropy`, `objective/non_score_reward` (sums over each completion's own tokens),
    /// `rewards/chosen|rejected|accuracies|margins`, `logps/chosen|rejected`, `val/contain_eos_token`, `beta`, and
    /// with scores `objective/scores`, `objective/scores_margin` and `objective/rlhf_reward`.
    func onlineDPOLoss(_ rollouts: GroupRollouts, indices: [Int], kind: PreferenceLoss.Kind) -> (Tensor, [String: Double]) {
        precondition(indices.count % 2 == 0 && stride(from: 0, to: indices.count, by: 2).allSatisfy { indices[$0] % 2 == 0 && indices[$0 + 1] == indices[$0] + 1 },
                     "online DPO micro-batches hold whole pairs, got \(indices)")
        let pairs = indices.count / 2
        let groups = stride(from: 0, to: indices.count, by: 2).map { indices[$0] / 2 }
        let chosen = groups.map { rollouts.firstIsChosen[$0] ? 2 * $0 : 2 * $0 + 1 }
        let rejected = groups.map { rollouts.firstIsChosen[$0] ? 2 * $0 + 1 : 2 * $0 }
        let ordered = chosen + rejected  // TRL's cr_indices: every chosen completion, then every rejected one
        let batch = rollouts.batch(ordered, padding: encoder.padding)
        let output = policy.model.forward(batch.input, cache: nil)
        let (logProbabilities, _) = temperedLogProbabilities(output, targets: batch.targets)  // (2P, T), untempered
        let sums = (logProbabilities * batch.placed(rollouts.tokenRows(ordered) { _ in 1 })).sum(axis: 1)  // (2P)
        guard let referenceRows = rollouts.referenceLogProbabilities else { preconditionFailure("online DPO needs the reference's log-probs") }
        let referenceSums = ordered.map { referenceRows[$0].reduce(Float(0), +) }
        let beta = onlineBeta
        let loss = PreferenceLoss.dpo(kind, policyChosen: sums.slice(axis: 0, 0..<pairs), policyRejected: sums.slice(axis: 0, pairs..<(2 * pairs)),
                                      referenceChosen: Tensor(shape: [pairs], scalars: Array(referenceSums[0..<pairs])),
                                      referenceRejected: Tensor(shape: [pairs], scalars: Array(referenceSums[pairs...])), beta: beta).mean()

        let policySums = sums.scalars.map(Double.init), references = referenceSums.map(Double.init), b = Double(beta)
        func mean(_ values: [Double]) -> Double { values.reduce(0, +) / Double(max(values.count, 1)) }
        let kl = zip(policySums, references).map { $0 - $1 }
        let chosenRewards = (0..<pairs).map { b * kl[$0] }, rejectedRewards = (0..<pairs).map { b * kl[pairs + $0] }
        let margins = zip(chosenRewards, rejectedRewards).map { $0 - $1 }
        var statistics: [String: Double] = [
            "objective/kl": mean(kl), "objective/entropy": -mean(policySums), "objective/non_score_reward": -b * mean(kl),
            "rewards/chosen": mean(chosenRewards), "rewards/rejected": mean(rejectedRewards), "rewards/margins": mean(margins),
            "rewards/accuracies": mean(margins.map { $0 > 0 ? 1 : 0 }), "logps/chosen": mean(Array(policySums[0..<pairs])),
            "logps/rejected": mean(Array(policySums[pairs...])), "val/contain_eos_token": mean(ordered.map { rollouts.truncated[$0] ? 0 : 1 }),
            "beta": Double("\(beta)") ?? b,  // 0.1, not the widened 0.10000000149
        ]
        if judge == nil {
            let scores = ordered.map { Double(rollouts.rewards[$0]) }
            statistics["objective/scores"] = mean(scores)
            statistics["objective/scores_margin"] = mean((0..<pairs).map { scores[$0] - scores[pairs + $0] })
            statistics["objective/rlhf_reward"] = mean(zip(scores, kl).map { $0 - b * $1 })
        }
        return (loss, statistics)
    }
}
