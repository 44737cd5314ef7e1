import Foundation
import LanguageModels
import Tensors

/// A batch of rollouts and everything PPO derives from them before the update: the rollout policy's log-probs and
/// values, the reference's log-probs, scores, per-token KL, shaped rewards, advantages and returns.
///
/// Per-token arrays have one entry per response token (eos included when the response stopped on it); the entry
/// for response token t belongs to the prediction made at position `promptLength + t − 1` of the sequence.
struct PPORollouts {
    /// Prompt followed by the (stop-token-cut) response, per rollout.
    var sequences: [[Int32]]
    var promptLengths: [Int]
    var logProbabilities: [[Float]] = []
    var referenceLogProbabilities: [[Float]] = []
    var values: [[Float]] = []
    var scores: [Float] = []
    var kl: [[Float]] = []
    var nonScoreRewards: [[Float]] = []
    var advantages: [[Float]] = []
    var returns: [[Float]] = []

    var count: Int { sequences.count }

    func response(_ index: Int) -> ArraySlice<Int32> { sequences[index][promptLengths[index]...] }
    func responseLength(_ index: Int) -> Int { sequences[index].count - promptLengths[index] }

    /// Right-padded model input for the rollouts at `indices`, with the targets whose log-probs PPO needs.
    func batch(_ indices: [Int], padding: Int32) -> PPOBatch {
        PPOBatch(sequences: indices.map { sequences[$0] }, promptLengths: indices.map { promptLengths[$0] }, padding: padding)
    }
}

/// Rollouts laid out for one forward pass: (B, T) right-padded ids; per-token quantities live at prediction
/// positions p = promptLength + t − 1 (the position whose logits predict response token t).
struct PPOBatch {
    let batch: Int
    let time: Int
    let ids: [Int32]
    /// (B·T) response token predicted at each position, `CausalBatch.ignoreIndex` elsewhere.
    let targets: [Int32]
    let promptLengths: [Int]
    let responseLengths: [Int]

    init(sequences: [[Int32]], promptLengths: [Int], padding: Int32) {
        batch = sequences.count
        time = max(1, sequences.map(\.count).max() ?? 1)
        self.promptLengths = promptLengths
        responseLengths = zip(sequences, promptLengths).map { $0.count - $1 }
        var ids: [Int32] = [], targets: [Int32] = []
        ids.reserveCapacity(batch * time); targets.reserveCapacity(batch * time)
        for (sequence, promptLength) in zip(sequences, promptLengths) {
            ids += sequence + [Int32](repeating: padding, count: time - sequence.count)
            for p in 0..<time {
                targets.append(p + 1 >= promptLength && p + 1 < sequence.count ? sequence[p + 1] : CausalBatch.ignoreIndex)
            }
        }
        self.ids = ids
        self.targets = targets
    }

    var input: ModelInput { ModelInput(ids: ids, batch: batch, time: time) }

    /// (B, T) tensor with each row's per-token values placed at its prediction positions, 0 elsewhere.
    func placed(_ rows: [[Float]]) -> Tensor {
        precondition(rows.count == batch, "placed: \(rows.count) rows for batch \(batch)")
        var scalars = [Float](repeating: 0, count: batch * time)
        for (b, row) in rows.enumerated() {
            precondition(row.count == responseLengths[b], "placed: row \(b) has \(row.count) values for \(responseLengths[b]) tokens")
            for (t, value) in row.enumerated() { scalars[b * time + promptLengths[b] + t - 1] = value }
        }
        return Tensor(shape: [batch, time], scalars: scalars)
    }

    /// (B, T) mask: 1 at prediction positions of response tokens.
    var mask: Tensor { placed(responseLengths.map { [Float](repeating: 1, count: $0) }) }

    /// Reads each row's per-token values back from a (B, T) tensor.
    func gathered(_ tensor: Tensor) -> [[Float]] {
        let scalars = tensor.scalars
        return (0..<batch).map { b in
            (0..<responseLengths[b]).map { t in scalars[b * time + promptLengths[b] + t - 1] }
        }
    }

    /// Mean entropy (nats) of the tempered next-token distribution over response positions (TRL's
    /// `policy/entropy_avg`), from the statistics of `PPOTrainer.temperedLogProbabilities`.
    func meanEntropy(_ found: Tensor.VocabularyStatistics) -> Double {
        var total = 0.0, counted = 0
        for row in 0..<(batch * time) where targets[row] != CausalBatch.ignoreIndex {
            total += found.entropy[row]
            counted += 1
        }
        return counted > 0 ? total / Double(counted) : 0
    }
}
