import Foundation

/// How well scores separate labels on a held-out set.
public struct ProbeMetrics: Codable, Equatable, Sendable {
    /// Area under the ROC curve: P(score of a random positive > score of a random negative), ties counting ½.
    public var auroc: Double
    /// Fraction classified correctly at probability 0.5.
    public var accuracy: Double
    /// Expected calibration error over 10 equal-width probability bins: Σ_bins (n_bin / n)·|mean label − mean probability|.
    public var calibrationError: Double
    public var positives: Int
    public var negatives: Int

    enum CodingKeys: String, CodingKey {
        case auroc, accuracy, calibrationError = "calibration_error", positives, negatives
    }

    /// Metrics of probabilities `scores` against `labels`.
    public init(scores: [Double], labels: [Bool]) {
        precondition(scores.count == labels.count, "\(scores.count) scores for \(labels.count) labels")
        auroc = Self.auroc(scores: scores, labels: labels)
        accuracy = scores.isEmpty ? 0 : Double(zip(scores, labels).filter { ($0 >= 0.5) == $1 }.count) / Double(scores.count)
        calibrationError = Self.expectedCalibrationError(scores: scores, labels: labels)
        positives = labels.filter { $0 }.count
        negatives = labels.count - positives
    }

    /// The Mann–Whitney statistic U / (n₊ n₋) with midranks for ties (what sklearn's `roc_auc_score` computes);
    /// 0.5 when one class is absent.
    public static func auroc(scores: [Double], labels: [Bool]) -> Double {
        let order = scores.indices.sorted { scores[$0] < scores[$1] }
        var ranks = [Double](repeating: 0, count: scores.count)
        var start = 0
        while start < order.count {
            var end = start
            while end + 1 < order.count && scores[order[end + 1]] == scores[order[start]] { end += 1 }
            let midrank = Double(start + end) / 2 + 1
            for position in start...end { ranks[order[position]] = midrank }
            start = end + 1
        }
        let positives = labels.filter { $0 }.count, negatives = labels.count - positives
        guard positives > 0 && negatives > 0 else { return 0.5 }
        let rankSum = zip(ranks, labels).filter { $0.1 }.reduce(0) { $0 + $1.0 }
        return (rankSum - Double(positives * (positives + 1)) / 2) / Double(positives * negatives)
    }

    /// Expected calibration error of probabilities over `bins` equal-width bins (a probability of 1 falls in the last).
    public static func expectedCalibrationError(scores: [Double], labels: [Bool], bins: Int = 10) -> Double {
        guard !scores.isEmpty else { return 0 }
        var count = [Double](repeating: 0, count: bins), confidence = count, frequency = count
        for (score, label) in zip(scores, labels) {
            let bin = min(bins - 1, max(0, Int(score * Double(bins))))
            count[bin] += 1
            confidence[bin] += score
            frequency[bin] += label ? 1 : 0
        }
        return (0..<bins).reduce(0) { total, bin in
            count[bin] == 0 ? total : total + abs(frequency[bin] - confidence[bin]) / Double(scores.count)
        }
    }

    /// The lowest threshold at which at most `falsePositiveRate` of `negatives` score at or above it (so a score ≥ the
    /// threshold triggers): with k = ⌊rate·n⌋, just above the (k+1)-th highest negative score.
    public static func threshold(negatives: [Double], falsePositiveRate: Double) -> Double {
        guard !negatives.isEmpty else { return 0.5 }
        let sorted = negatives.sorted(by: >)
        let allowed = Int((falsePositiveRate * Double(sorted.count) + 1e-9).rounded(.down))
        guard allowed < sorted.count else { return sorted[sorted.count - 1] }
        return sorted[allowed].nextUp
    }
}
