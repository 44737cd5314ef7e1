import Foundation
import Tensors

/// The evaluation loop of the preference trainers (reward model, DPO), as TRL's `evaluate()` reports it: held-out
/// examples in batches of `per_device_eval_batch_size`, the loss averaged over examples, every other metric over
/// the batches that report it (KTO reports `rewards/chosen` only for batches with a desirable example), and
/// `num_tokens` as training has counted them so far.
enum HeldOutEvaluation {
    /// Metrics (without the `eval_` prefix) of `examples`, or nil when there are none.
    /// - Parameter compute: the loss and metrics of one batch (run without a tape).
    static func metrics<Example>(_ examples: [Example], batchSize: Int, tokensSeen: Double,
                                 compute: ([Example]) -> (loss: Tensor, metrics: [String: Double])) -> [String: Double]? {
        guard !examples.isEmpty else { return nil }
        return withoutGradients {
            var sums: [String: Double] = [:]
            var counts: [String: Double] = [:]
            var lossSum = 0.0
            for start in stride(from: 0, to: examples.count, by: batchSize) {
                let chunk = Array(examples[start..<min(start + batchSize, examples.count)])
                let (loss, metrics) = compute(chunk)
                lossSum += Double(loss.item) * Double(chunk.count)
                for (key, value) in metrics {
                    sums[key, default: 0] += value
                    counts[key, default: 0] += 1
                }
            }
            var result = sums.merging(counts) { sum, count in sum / count }
            result["loss"] = lossSum / Double(examples.count)
            result["num_tokens"] = tokensSeen
            return result
        }
    }
}
