import Foundation
import Reports

/// How an AI judge's battles agree with a reference judge's verdicts on the same pairs (a ground truth, or human
/// labels): on the decidable battles (the reference prefers one response), the share the AI judge decided the same
/// way, and whether the ratings from the reference's verdicts order the models as the AI judge's do.
public struct ReferenceAgreement: Encodable, Sendable {
    /// What the reference is.
    public var reference: String
    /// Battles the reference judged.
    public var battles: Int
    /// Battles where the reference prefers one response.
    public var decidable: Int
    /// Decidable battles whose AI winner (both orders agreeing) is the reference's; an AI tie counts as disagreement.
    public var agreement: Double
    /// Decidable battles where the AI judge's order-averaged probability is on the reference's side of ½.
    public var preferenceAgreement: Double
    /// Per group (e.g. harmful / benign requests): decidable battles and the preference agreement on them.
    public var byGroup: [String: Group]
    /// Ratings from the reference's verdicts on the same battles.
    public var referenceRatings: BradleyTerryRatings
    /// Whether the AI judge's ratings order the models exactly as the reference's do, and Kendall's τ of the two orders.
    public var orderMatches: Bool
    public var kendallTau: Double

    public struct Group: Encodable, Sendable {
        public var decidable: Int
        public var preferenceAgreement: Double

        enum CodingKeys: String, CodingKey { case decidable, preferenceAgreement = "preference_agreement" }
    }

    enum CodingKeys: String, CodingKey {
        case reference, battles, decidable, agreement, preferenceAgreement = "preference_agreement", byGroup = "by_group"
        case referenceRatings = "reference_ratings", orderMatches = "order_matches", kendallTau = "kendall_tau"
    }

    /// - Parameters:
    ///   - verdicts: per battle id, the reference's winner (battles without one are left out) and a group name.
    ///   - ratings: the AI judge's ratings of the same models.
    public init(reference: String, battles: [Battle], verdicts: [String: (winner: Battle.Winner, group: String)], models: [String],
                ratings: BradleyTerryRatings, bootstrapRounds: Int, seed: UInt64) throws {
        self.reference = reference
        let judged = battles.compactMap { battle in verdicts[battle.id].map { (battle, $0.winner, $0.group) } }
        self.battles = judged.count
        let decided = judged.filter { $0.1 != .tie }
        decidable = decided.count
        func onSide(_ battle: Battle, _ winner: Battle.Winner) -> Bool { winner == .a ? battle.probabilityA > 0.5 : battle.probabilityA < 0.5 }
        agreement = decided.isEmpty ? 0 : Double(decided.filter { $0.0.winner == $0.1 }.count) / Double(decided.count)
        preferenceAgreement = decided.isEmpty ? 0 : Double(decided.filter { onSide($0.0, $0.1) }.count) / Double(decided.count)
        byGroup = Dictionary(grouping: decided, by: { $0.2 }).mapValues { items in
            Group(decidable: items.count, preferenceAgreement: Double(items.filter { onSide($0.0, $0.1) }.count) / Double(items.count))
        }
        let referenceBattles = judged.map { battle, winner, _ -> Battle in
            var copy = battle
            copy.winner = winner
            copy.probabilityA = winner == .a ? 1 : winner == .b ? 0 : 0.5
            return copy
        }
        referenceRatings = try BradleyTerryRatings(battles: referenceBattles, models: models, rounds: bootstrapRounds, seed: seed)
        let aiOrder = ratings.ratings.map(\.model), referenceOrder = referenceRatings.ratings.map(\.model)
        orderMatches = aiOrder == referenceOrder
        kendallTau = Self.kendallTau(aiOrder, referenceOrder)
    }

    /// Kendall's τ between two orderings of the same items: (concordant − discordant) / pairs.
    public static func kendallTau(_ first: [String], _ second: [String]) -> Double {
        let position = Dictionary(uniqueKeysWithValues: second.enumerated().map { ($0.element, $0.offset) })
        var concordant = 0, discordant = 0
        for i in first.indices {
            for j in first.indices where j > i {
                guard let a = position[first[i]], let b = position[first[j]] else { continue }
                if a < b { concordant += 1 } else { discordant += 1 }
            }
        }
        let pairs = concordant + discordant
        return pairs == 0 ? 1 : Double(concordant - discordant) / Double(pairs)
    }
}
