import Foundation
import Reports

/// Length bias: does the chosen response tend to be the longer one, and does the label margin grow with the
/// length difference?
public struct LengthBias: Sendable, Equatable {
    /// Pairs whose responses differ in length (the others tell nothing about length).
    public let comparablePairs: Int
    /// Of those, pairs whose chosen response is longer.
    public let chosenLonger: Int
    /// Pairs with a label margin (`score_chosen − score_rejected`, or `chosen_probability − ½`).
    public let pairsWithMargin: Int
    /// Pearson correlation of the margin with the length difference (chosen − rejected, in Unicode scalars); nil with
    /// fewer than three margins or no variation.
    public let marginCorrelation: Double?
    /// Per pair, log₂((1 + chosen length) / (1 + rejected length)), for the histogram.
    public let logLengthRatios: [Double]

    /// The share of comparable pairs whose chosen is longer (½ is no bias); nil without comparable pairs.
    public var chosenLongerShare: Double? { comparablePairs > 0 ? Double(chosenLonger) / Double(comparablePairs) : nil }

    init(_ pairs: [AuditPair]) {
        var comparable = 0, longer = 0
        var differences: [Double] = [], margins: [Double] = []
        var ratios: [Double] = []
        ratios.reserveCapacity(pairs.count)
        for pair in pairs {
            ratios.append(log2(Double(1 + pair.chosenLength) / Double(1 + pair.rejectedLength)))
            if pair.chosenLength != pair.rejectedLength {
                comparable += 1
                if pair.chosenLength > pair.rejectedLength { longer += 1 }
            }
            if let margin = pair.margin {
                differences.append(Double(pair.chosenLength - pair.rejectedLength))
                margins.append(margin)
            }
        }
        comparablePairs = comparable
        chosenLonger = longer
        pairsWithMargin = margins.count
        marginCorrelation = Statistics.pearsonCorrelation(differences, margins)
        logLengthRatios = ratios
    }
}

/// Position bias of AI labels, per principle: how often a judgement's verdict flipped when the two responses swapped
/// places (Charter label records' `judgements[].flipped`; judgements asked in one order only are not counted).
public struct PositionBias: Sendable, Equatable {
    /// One principle's record.
    public struct Principle: Sendable, Equatable {
        public let id: String
        public let judgements: Int
        public let flips: Int
        public var flipRate: Double { judgements > 0 ? Double(flips) / Double(judgements) : 0 }
    }

    /// Per principle, sorted by id.
    public let principles: [Principle]

    /// All principles together.
    public var judgements: Int { principles.reduce(0) { $0 + $1.judgements } }
    public var flips: Int { principles.reduce(0) { $0 + $1.flips } }

    init(_ pairs: [AuditPair]) {
        var counts: [String: (Int, Int)] = [:]
        for pair in pairs {
            for judgement in pair.judgements {
                guard let flipped = judgement.flipped else { continue }
                let (judgements, flips) = counts[judgement.principle] ?? (0, 0)
                counts[judgement.principle] = (judgements + 1, flips + (flipped ? 1 : 0))
            }
        }
        principles = counts.keys.sorted().map { Principle(id: $0, judgements: counts[$0]?.0 ?? 0, flips: counts[$0]?.1 ?? 0) }
    }
}
