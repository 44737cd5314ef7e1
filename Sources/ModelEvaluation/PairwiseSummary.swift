import Foundation
import Reports

/// Model A against model B over a prompt set: the judge's win rate, the hard wins, losses and ties, and the
/// length-controlled win rate.
public struct PairwiseSummary: Codable, Equatable, Sendable {
    public var modelA: String
    public var modelB: String
    public var battles: Int
    /// The mean of the judge's probability that A is better (AlpacaEval's `win_rate`, a soft win rate), with its 95%
    /// t-interval over prompts.
    public var winRate: Interval
    public var wins: Int
    public var losses: Int
    /// Battles whose two orders disagreed (see ``Battle/winner``).
    public var ties: Int
    /// (wins + ties / 2) / battles.
    public var winRateTiesHalf: Double
    /// AlpacaEval 2's length-controlled win rate (``LengthControl``).
    public var lengthControlled: LengthControl.Fit
    /// Mean response lengths in characters.
    public var meanLengthA: Double
    public var meanLengthB: Double

    enum CodingKeys: String, CodingKey {
        case modelA = "model_a", modelB = "model_b", battles, winRate = "win_rate", wins, losses, ties
        case winRateTiesHalf = "win_rate_ties_half", lengthControlled = "length_controlled", meanLengthA = "mean_length_a", meanLengthB = "mean_length_b"
    }

    /// Summarises the battles between `modelA` and `modelB` (in either role), seen from A.
    /// - Throws: ``EvaluationError`` when there are none.
    public init(battles all: [Battle], modelA: String, modelB: String) throws {
        // (p(A better), outcome for A, len A − len B) for every battle of the two, whichever was shown as A.
        let seen: [(Double, Double, Double, Double)] = all.compactMap { battle in
            if battle.modelA == modelA && battle.modelB == modelB {
                return (battle.probabilityA, battle.scoreA, Double(battle.lengthA), Double(battle.lengthB))
            }
            if battle.modelA == modelB && battle.modelB == modelA {
                return (1 - battle.probabilityA, 1 - battle.scoreA, Double(battle.lengthB), Double(battle.lengthA))
            }
            return nil
        }
        guard !seen.isEmpty else { throw EvaluationError("no battles between \(modelA) and \(modelB)") }
        self.modelA = modelA
        self.modelB = modelB
        battles = seen.count
        winRate = Statistics.interval95(seen.map(\.0))
        wins = seen.filter { $0.1 == 1 }.count
        losses = seen.filter { $0.1 == 0 }.count
        ties = seen.count - wins - losses
        winRateTiesHalf = (Double(wins) + Double(ties) / 2) / Double(seen.count)
        lengthControlled = LengthControl.fit(preferences: seen.map(\.0), lengthDifferences: seen.map { $0.2 - $0.3 })
        meanLengthA = Statistics.mean(seen.map(\.2))
        meanLengthB = Statistics.mean(seen.map(\.3))
    }
}
