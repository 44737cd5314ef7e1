import Foundation
import Tensors

extension CausalBatch {
    /// Σ of the per-token statistics TRL's fused LM head reports, over target tokens, for two groups of rows (DPO:
    /// chosen / rejected halves; KTO: desirable / undesirable rows).
    struct TokenStatistics {
        var entropySum = 0.0
        /// Σ over target tokens of the logits' mean over the vocabulary, per group.
        var firstLogitSum = 0.0, secondLogitSum = 0.0
        var firstTokens = 0, secondTokens = 0
        /// Target tokens of the first group whose largest logit is the target.
        var firstTopOneCorrect = 0
    }

    /// Per-token entropy, mean logit (over the vocabulary) and top-1 agreement at every target position.
    /// logits: (B, T, V); `isFirst(row)` says which group a sequence belongs to.
    func tokenStatistics(_ logits: Tensor, isFirst: (Int) -> Bool) -> TokenStatistics {
        var statistics = TokenStatistics()
        let vocabulary = logits.shape[2]
        logits.withUnsafeBufferPointer { values in
            for (position, target) in targets.enumerated() where target != Self.ignoreIndex {
                let base = position * vocabulary
                var largest = -Float.infinity, best = 0
                var sum = 0.0
                for v in 0..<vocabulary {
                    let value = values[base + v]
                    sum += Double(value)
                    if value > largest { largest = value; best = v }
                }
                // Entropy = log Σ e^l − Σ p·l, accumulated relative to the largest logit.
                var normalizer = 0.0, weighted = 0.0
                for v in 0..<vocabulary {
                    let shifted = Double(values[base + v] - largest)
                    let e = Foundation.exp(shifted)
                    normalizer += e
                    weighted += e * shifted
                }
                statistics.entropySum += Foundation.log(normalizer) - weighted / normalizer
                if isFirst(position / time) {
                    statistics.firstLogitSum += sum / Double(vocabulary)
                    statistics.firstTokens += 1
                    if best == Int(target) { statistics.firstTopOneCorrect += 1 }
                } else {
                    statistics.secondLogitSum += sum / Double(vocabulary)
                    statistics.secondTokens += 1
                }
            }
        }
        return statistics
    }
}
