import Foundation
import Reports
import Runtime

/// Bradley–Terry ratings of many models from pairwise battles, on the Elo scale, with bootstrap 95% intervals as
/// Chatbot Arena computes them (Chiang et al. 2024, §5: the MLE of P(i beats j) = 1 / (1 + 10^((Rⱼ − Rᵢ)/400)),
/// and percentile intervals of refits on battles resampled with replacement).
///
/// The fit is ``Statistics/bradleyTerryElo(wins:anchor:prior:iterations:)`` (Hunter's minorisation–maximisation
/// iteration, a tie counting ½ to each side, `prior` virtual ties per pair so that an unbeaten model stays finite).
/// Ratings are identified only up to a shift; they are reported with their mean at ``baseRating`` (Arena anchors
/// one model instead), so an interval says how well a model is placed among the others.
public struct BradleyTerryRatings: Codable, Equatable, Sendable {
    public static let baseRating = 1000.0

    public struct Rating: Codable, Equatable, Sendable {
        public var model: String
        /// The rating and its bootstrap 95% percentile interval (`count`: the bootstrap refits).
        public var rating: Interval
        public var battles: Int
        /// Wins + ½ ties over battles.
        public var score: Double
    }

    /// Best first.
    public var ratings: [Rating]
    public var battles: Int
    public var bootstrapRounds: Int
    public var prior: Double

    enum CodingKeys: String, CodingKey { case ratings, battles, bootstrapRounds = "bootstrap_rounds", prior }

    /// Fits ratings of `models` (every battle must name two of them) and bootstraps them.
    /// - Parameters:
    ///   - rounds: bootstrap refits (Arena uses 1,000); 0 gives zero-width intervals.
    ///   - seed: the resampling's seed.
    /// - Throws: ``EvaluationError`` for fewer than two models or a battle of an unknown model.
    public init(battles: [Battle], models: [String], rounds: Int = 1000, prior: Double = 1, seed: UInt64 = 0) throws {
        guard models.count >= 2 else { throw EvaluationError("ratings need at least two models, got \(models.count)") }
        let index = Dictionary(uniqueKeysWithValues: models.enumerated().map { ($0.element, $0.offset) })
        let outcomes: [(Int, Int, Double)] = try battles.map { battle in
            guard let a = index[battle.modelA], let b = index[battle.modelB] else {
                throw EvaluationError("battle \(battle.id) is between \(battle.modelA) and \(battle.modelB), not two of \(models.joined(separator: ", "))")
            }
            return (a, b, battle.scoreA)
        }
        let point = Self.fit(outcomes, count: models.count, prior: prior)
        var estimates = [[Double]](repeating: [], count: models.count)
        var random = SplitMix64(seed: seed ^ 0xB7)
        if !outcomes.isEmpty {
            for _ in 0..<rounds {
                let resampled = (0..<outcomes.count).map { _ in outcomes[Int(random.next() % UInt64(outcomes.count))] }
                for (model, value) in Self.fit(resampled, count: models.count, prior: prior).enumerated() { estimates[model].append(value) }
            }
        }
        ratings = models.indices.map { model in
            let mine = outcomes.filter { $0.0 == model || $0.1 == model }
            let score = mine.reduce(0.0) { $0 + ($1.0 == model ? $1.2 : 1 - $1.2) }
            return Rating(model: models[model], rating: Statistics.percentileInterval95(estimates[model], point: point[model]),
                          battles: mine.count, score: mine.isEmpty ? 0 : score / Double(mine.count))
        }.sorted { $0.rating.mean > $1.rating.mean }
        self.battles = outcomes.count
        bootstrapRounds = outcomes.isEmpty ? 0 : rounds
        self.prior = prior
    }

    /// Elo-scale Bradley–Terry ratings with mean ``baseRating`` from (i, j, outcome for i) battles.
    static func fit(_ outcomes: [(Int, Int, Double)], count: Int, prior: Double) -> [Double] {
        var wins = [[Double]](repeating: [Double](repeating: 0, count: count), count: count)
        for (i, j, score) in outcomes {
            wins[i][j] += score
            wins[j][i] += 1 - score
        }
        let elo = Statistics.bradleyTerryElo(wins: wins, anchor: 0, prior: prior)
        let shift = baseRating - elo.reduce(0, +) / Double(count)
        return elo.map { $0 + shift }
    }

    /// The probability that a model rated `a` beats one rated `b`: 1 / (1 + 10^((b − a)/400)).
    public static func winProbability(_ a: Double, over b: Double) -> Double { 1 / (1 + pow(10, (b - a) / 400)) }
}
