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

    /// Per-token entropy, mean logit (over the vocabulary) and top-1 agreement at every target position, from the
    /// statistics `sequenceLogProbabilities(_:statistics:)` gathered; `isFirst(row)` says which group a sequence belongs to.
    func tokenStatistics(_ found: Tensor.VocabularyStatistics, isFirst: (Int) -> Bool) -> TokenStatistics {
        var statistics = TokenStatistics()
        for (position, target) in targets.enumerated() where target != Self.ignoreIndex {
            statistics.entropySum += found.entropy[position]
            if isFirst(position / time) {
                statistics.firstLogitSum += found.logitMean[position]
                statistics.firstTokens += 1
                if found.argmax[position] == target { statistics.firstTopOneCorrect += 1 }
            } else {
                statistics.secondLogitSum += found.logitMean[position]
                statistics.secondTokens += 1
            }
        }
        return statistics
    }
}
