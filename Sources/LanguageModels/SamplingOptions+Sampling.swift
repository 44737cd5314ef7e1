import Foundation
import Tensors

/// How the next token is chosen from the model's logits, in transformers' order:
/// temperature, then top-k, then top-p (nucleus), then min-p; temperature 0 is greedy.
extension SamplingOptions {
    /// Picks a token from one row of logits.
    public func sample(_ logits: UnsafeBufferPointer<Float>, generator: inout SeededGenerator) -> Int {
        if temperature == 0 { return Self.argmax(logits) }
        // Candidates sorted by logit, highest first (ties by index, so the order is deterministic).
        var candidates = Array(logits.indices).filter { logits[$0] > -Float.infinity }
        guard !candidates.isEmpty else { return Self.argmax(logits) }
        candidates.sort { logits[$0] != logits[$1] ? logits[$0] > logits[$1] : $0 < $1 }
        if topK > 0 && topK < candidates.count { candidates.removeLast(candidates.count - topK) }
        let top = logits[candidates[0]] / temperature
        var probabilities = candidates.map { Double(Foundation.exp(logits[$0] / temperature - top)) }
        var total = probabilities.reduce(0, +)
        if topP < 1 {
            var cumulative = 0.0, keep = probabilities.count
            for (index, p) in probabilities.enumerated() {
                cumulative += p / total
                if cumulative >= Double(topP) { keep = index + 1; break }
            }
            candidates.removeLast(candidates.count - keep); probabilities.removeLast(probabilities.count - keep)
            total = probabilities.reduce(0, +)
        }
        if minP > 0 {
            // The largest probability is the first one (sorted); compare unnormalised weights.
            let threshold = Double(minP) * probabilities[0]
            let keep = probabilities.firstIndex { $0 < threshold } ?? probabilities.count
            candidates.removeLast(candidates.count - keep); probabilities.removeLast(probabilities.count - keep)
            total = probabilities.reduce(0, +)
        }
        let target = Double(generator.nextUniform()) * total
        var cumulative = 0.0
        for (candidate, p) in zip(candidates, probabilities) {
            cumulative += p
            if target < cumulative { return candidate }
        }
        return candidates[candidates.count - 1]
    }

    static func argmax(_ values: UnsafeBufferPointer<Float>) -> Int {
        var best = 0
        for i in values.indices where values[i] > values[best] { best = i }
        return best
    }
}
