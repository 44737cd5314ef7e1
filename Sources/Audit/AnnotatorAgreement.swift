import Foundation
import JSON

/// Agreement among annotators: of one-judgement-per-line files (an `annotator` per line), of `annotator_labels` lines
/// and of HelpSteer2 and HelpSteer3 preference lines (``AnnotatorVote``).
///
/// A *unit* is a prompt with an unordered pair of responses labelled by two or more judgements, from one line or
/// several; each judgement's value is the response it preferred, or a tie. Reported: each unit's entropy of those
/// values (bits; 0 when unanimous, 1 for an even two-way split, log₂ 3 at most), each named annotator's agreement with
/// the plurality of the *other* judgements of the units they labelled (units where the others have no single most
/// common value are left out; anonymous judgements count for the others but have no record of their own), and
/// Krippendorff's alpha for nominal data over all units,
///
///     α = 1 − (n − 1) · Σ_{c≠k} o_ck / Σ_{c≠k} n_c n_k,
///
/// with o_ck the coincidences of values c and k within units (each unit with m judgements contributing 1/(m − 1) per
/// ordered pair of its judgements), n_c = Σ_k o_ck and n = Σ_c n_c (Krippendorff 2011, "Computing Krippendorff's
/// Alpha-Reliability"). Which response of a pair won has no order shared across units, so each unit counts in both
/// orientations: n_first = n_second = (n − t)/2 with t the ties, Σ_{c≠k} n_c n_k = (n − t)²/2 + 2t(n − t), and without
/// ties α = 1 − 2(n − 1)·Σ_{c≠k} o_ck / n². 1 is perfect agreement, 0 chance level, below 0 systematic disagreement;
/// nil with fewer than two pairable judgements or when every judgement is a tie.
public struct AnnotatorAgreement: Sendable, Equatable {
    /// One annotator's record.
    public struct Annotator: Sendable, Equatable {
        public let name: String
        /// Judgements in units with two or more judgements.
        public let judgements: Int
        /// Of those whose other judgements have a single most common value: how many, and how many agree with it.
        public let compared: Int
        public let agreed: Int
        public var agreement: Double? { compared > 0 ? Double(agreed) / Double(compared) : nil }
    }

    /// Units (pairs with two or more judgements).
    public let units: Int
    /// Units whose judgements were not unanimous.
    public let disagreeingUnits: Int
    /// Judgements in units, those that are ties, and those without an annotator id.
    public let judgements: Int, tieJudgements: Int, anonymousJudgements: Int
    /// Per unit, the entropy in bits of its preference.
    public let entropies: [Double]
    /// Named annotators by name.
    public let annotators: [Annotator]
    /// Krippendorff's alpha (nominal), or nil when undefined.
    public let alpha: Double?

    /// A judgement's value within its unit.
    enum Value: Int, CaseIterable { case first, second, tie }

    /// Analyses the pairs that carry judgements and adds `annotator_disagreement` findings (one per line of a unit
    /// that is not unanimous); nil when no pair carries a judgement.
    static func analyse(_ pairs: [AuditPair], into evidence: inout [[Finding]]) -> AnnotatorAgreement? {
        var units: [PairKey: [Int]] = [:]
        var order: [PairKey] = []
        for (row, pair) in pairs.enumerated() where !pair.votes.isEmpty && pair.chosenKey != pair.rejectedKey {
            if units[pair.unorderedKey] == nil { order.append(pair.unorderedKey) }
            units[pair.unorderedKey, default: []].append(row)
        }
        guard !units.isEmpty else { return nil }
        var entropies: [Double] = [], disagreeing = 0, judgements = 0, ties = 0, anonymous = 0
        var counts: [String: (judgements: Int, compared: Int, agreed: Int)] = [:]
        var tallies: [[Int]] = []
        for key in order {
            guard let rows = units[key] else { continue }
            let values: [(annotator: String?, value: Value)] = rows.flatMap { row in
                pairs[row].votes.map { vote in (annotator: vote.annotator, value: Self.value(vote, pairs[row])) }
            }
            guard values.count >= 2 else { continue }
            var tally = [0, 0, 0]
            for judgement in values { tally[judgement.value.rawValue] += 1 }
            tallies.append(tally)
            judgements += values.count
            ties += tally[Value.tie.rawValue]
            anonymous += values.filter { $0.annotator == nil }.count
            let entropy = Self.entropy(tally)
            entropies.append(entropy)
            let unanimous = tally.filter { $0 > 0 }.count == 1
            if !unanimous { disagreeing += 1 }
            for judgement in values {
                guard let name = judgement.annotator else { continue }
                var record = counts[name] ?? (0, 0, 0)
                record.judgements += 1
                // Leave-one-out plurality: the others' most common value, when there is a single one.
                var others = tally
                others[judgement.value.rawValue] -= 1
                let top = others.max() ?? 0
                if others.filter({ $0 == top }).count == 1 {
                    record.compared += 1
                    if others[judgement.value.rawValue] == top { record.agreed += 1 }
                }
                counts[name] = record
            }
            guard !unanimous else { continue }
            let names = Set(values.compactMap(\.annotator)).count + values.filter { $0.annotator == nil }.count
            for row in Set(rows).sorted() {
                let pair = pairs[row]
                let same = tally[(pair.prefersFirst ? Value.first : .second).rawValue]
                let other = tally[(pair.prefersFirst ? Value.second : .first).rawValue]
                var members: [JSONValue.Member] = []
                if let name = pair.annotator { members.append(JSONValue.Member("annotator", .string(name))) }
                if pair.annotator == nil {
                    // A list line: its own judgements.
                    let own = pair.votes.map { Self.value($0, pair) }
                    members.append(JSONValue.Member("judgements_on_line", .integer(own.count)))
                    members.append(JSONValue.Member("ties_on_line", .integer(own.filter { $0 == .tie }.count)))
                }
                members += [
                    JSONValue.Member("same_way", .integer(same)), JSONValue.Member("other_way", .integer(other)),
                    JSONValue.Member("ties", .integer(tally[Value.tie.rawValue])),
                    JSONValue.Member("entropy_bits", .numeric(entropy)), JSONValue.Member("annotators", .integer(names)),
                    JSONValue.Member("share_same_way", .numeric((Double(same) + Double(tally[Value.tie.rawValue]) / 2) / Double(values.count))),
                ]
                evidence[row].append(Finding(.annotatorDisagreement, .object(members)))
            }
        }
        let annotators = counts.keys.sorted().map { name -> Annotator in
            let record = counts[name] ?? (0, 0, 0)
            return Annotator(name: name, judgements: record.judgements, compared: record.compared, agreed: record.agreed)
        }
        return AnnotatorAgreement(units: entropies.count, disagreeingUnits: disagreeing, judgements: judgements, tieJudgements: ties,
                                  anonymousJudgements: anonymous, entropies: entropies, annotators: annotators,
                                  alpha: krippendorffAlpha(tallies))
    }

    /// A judgement's value in the orientation of its unit (``PairKey``'s first and second response).
    static func value(_ vote: AnnotatorVote, _ pair: AuditPair) -> Value {
        switch vote.choice {
        case .tie: return .tie
        case .chosen: return pair.prefersFirst ? .first : .second
        case .rejected: return pair.prefersFirst ? .second : .first
        }
    }

    /// The entropy in bits of a split into counts.
    static func entropy(_ counts: [Int]) -> Double {
        let total = Double(counts.reduce(0, +))
        return counts.reduce(0.0) { sum, count in
            guard count > 0 else { return sum }
            let p = Double(count) / total
            return sum - p * log2(p)
        }
    }

    /// Krippendorff's nominal alpha, orientation-free (see the type's documentation), from each unit's counts of
    /// judgements preferring its first response, its second, and ties; units with fewer than two are ignored.
    static func krippendorffAlpha(_ units: [[Int]]) -> Double? {
        var n = 0.0, ties = 0.0, disagreement = 0.0
        for unit in units {
            let m = unit.reduce(0, +)
            guard m >= 2 else { continue }
            n += Double(m)
            ties += Double(unit.count > 2 ? unit[2] : 0)
            var pairsApart = 0
            for c in unit.indices { for k in unit.indices where k != c { pairsApart += unit[c] * unit[k] } }
            disagreement += Double(pairsApart) / Double(m - 1)
        }
        let expected = (n - ties) * (n - ties) / 2 + 2 * ties * (n - ties)
        guard n >= 2, expected > 0 else { return nil }
        return 1 - (n - 1) * disagreement / expected
    }

    /// Krippendorff's alpha from each unit's counts of judgements preferring its first and its second response.
    static func krippendorffAlpha(_ units: [(first: Int, second: Int)]) -> Double? {
        krippendorffAlpha(units.map { [$0.first, $0.second, 0] })
    }
}
