import Foundation
import Tensors

/// How the next token is chosen from the model's logits, in transformers' order:
/// temperature, then top-k, then top-p (nucleus), then min-p; temperature 0 is greedy.
extension SamplingOptions {
    /// Picks a token from one row of logits.
    public func sample(_ logits: UnsafeBufferPointer<Float>, generator: inout SeededGenerator) -> Int {
        if temperature == 0 { return Self.argmax(logits) }
        // Candidates sorted by logit, highest first (ties by index, so the order is deterministic).
        var candidates = Self.sortedCandidates(logits)
        guard !candidates.isEmpty else { return Self.argmax(logits) }
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

    /// The indices of the logits above −∞ (not NaN), highest logit first and equal logits (−0 equal to +0) by index:
    /// the order of `sort { logits[$0] != logits[$1] ? logits[$0] > logits[$1] : $0 < $1 }`, computed as a stable radix
    /// sort of 64-bit keys (the logit's bits made to order descending, above the index). Sampling a token sorts the
    /// whole vocabulary; the comparison sort of 49,152 logits took about a tenth of a batched `critique` run.
    static func sortedCandidates(_ logits: UnsafeBufferPointer<Float>) -> [Int] {
        var keys: [UInt64] = []
        keys.reserveCapacity(logits.count)
        for index in logits.indices {
            let value = logits[index]
            guard value > -Float.infinity else { continue }  // also drops NaN
            let bits = (value == 0 ? 0 : value).bitPattern  // −0 sorts with +0
            // Ascending order of floats as unsigned integers: negatives with every bit flipped, positives with the sign
            // bit set; flipped again for descending.
            let ascending = bits & 0x8000_0000 != 0 ? ~bits : bits | 0x8000_0000
            keys.append(UInt64(~ascending) << 32 | UInt64(index))
        }
        // LSD radix sort on the upper 32 bits, 8 at a time; each pass is stable, and the keys start in index order.
        var scratch = [UInt64](repeating: 0, count: keys.count)
        keys.withUnsafeMutableBufferPointer { source in
            scratch.withUnsafeMutableBufferPointer { target in
                var (from, to) = (source, target)
                for shift in stride(from: UInt64(32), to: 64, by: 8) {
                    var counts = [Int](repeating: 0, count: 256)
                    for key in from { counts[Int(truncatingIfNeeded: key >> shift) & 0xFF] += 1 }
                    if counts.contains(from.count) { continue }  // every key has this byte: the pass would not move any
                    var start = 0
                    for bucket in 0..<256 { (counts[bucket], start) = (start, start + counts[bucket]) }
                    for key in from {
                        let bucket = Int(truncatingIfNeeded: key >> shift) & 0xFF
                        to[counts[bucket]] = key
                        counts[bucket] += 1
                    }
                    swap(&from, &to)
                }
                if from.baseAddress != source.baseAddress { source.baseAddress!.update(from: from.baseAddress!, count: from.count) }
            }
        }
        return keys.map { Int(truncatingIfNeeded: $0 & 0xFFFF_FFFF) }
    }

    static func argmax(_ values: UnsafeBufferPointer<Float>) -> Int {
        var best = 0
        for i in values.indices where values[i] > values[best] { best = i }
        return best
    }
}
