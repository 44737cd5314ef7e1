import Foundation
import LanguageModels
import Tensors

/// B preference pairs as one right-padded batch of 2B sequences — the B prompt + chosen first, then the B
/// prompt + rejected, as TRL concatenates them — so the policy (and the reference) run once per micro-batch.
struct DPOBatch {
    let pairs: [DPOPair]
    let causal: CausalBatch
    /// Completion tokens that are targets, per sequence (2B): the chosen counts, then the rejected.
    let completionCounts: [Int]
    /// Non-padding tokens of all 2B sequences (TRL's `num_tokens` increment).
    let tokenCount: Int
    /// Pairs in which max_length cut a sequence.
    let truncatedCount: Int

    init(_ pairs: [DPOPair], padding: Int32, maximumLength: Int?, truncationMode: String) {
        self.pairs = pairs
        var chosen: [TokenizedSequence] = [], rejected: [TokenizedSequence] = []
        var truncated = 0
        for pair in pairs {
            let sequences = pair.sequences(maximumLength: maximumLength, truncationMode: truncationMode)
            chosen.append(sequences.chosen)
            rejected.append(sequences.rejected)
            if sequences.truncated { truncated += 1 }
        }
        let all = chosen + rejected
        causal = CausalBatch(all, padding: padding)
        completionCounts = all.map { $0.lossMask.dropFirst().filter { $0 }.count }
        tokenCount = all.reduce(0) { $0 + $1.ids.count }
        truncatedCount = truncated
    }

    var pairCount: Int { pairs.count }

    /// What one forward pass of a model over the batch gives DPO.
    struct Output {
        /// Σ log π(completion token) per sequence, (2B), on the tape when the model is trained.
        var logProbabilities: Tensor
        /// Σ of the per-token statistics TRL logs, over target tokens (chosen half / rejected half).
        var entropySum = 0.0
        var chosenLogitSum = 0.0, rejectedLogitSum = 0.0
        var chosenTopOneCorrect = 0
    }

    /// Runs `model` on the batch: sequence log-probabilities of the completions and, with `statistics`, the
    /// per-token entropy, mean logit (over the vocabulary) and top-1 agreement that TRL's fused LM head reports.
    func forward(_ model: any CausalLanguageModel, statistics: Bool) -> Output {
        let (logProbabilities, _, found) = causal.sequenceLogProbabilities(causal.output(model), statistics: statistics)
        var output = Output(logProbabilities: logProbabilities)
        guard let found else { return output }
        let half = pairCount
        let tokens = causal.tokenStatistics(found) { $0 < half }
        output.entropySum = tokens.entropySum
        output.chosenLogitSum = tokens.firstLogitSum
        output.rejectedLogitSum = tokens.secondLogitSum
        output.chosenTopOneCorrect = tokens.firstTopOneCorrect
        return output
    }
}
