import Foundation
import JSON

/// Agreement among annotators of multi-annotator files (one line per judgement, each with an `annotator` field).
///
/// A *unit* is a prompt with an unordered pair of responses labelled by two or more judgements; each judgement's value
/// is which response it preferred. Reported: each unit's entropy of the preference (bits; 0 when unanimous, 1 for an
/// even split), each annotator's agreement with the majority of the *other* judgements of the units they labelled
/// (units where the others tie are left out), and Krippendorff's alpha for nominal data over all units,
///
///     α = 1 − (n − 1) · Σ_{c≠k} o_ck / Σ_{c≠k} n_c n_k,
///
/// with o_ck the coincidences of values c and k within units (each unit with m judgements contributing 1/(m − 1) per
/// ordered pair of its judgements), n_c = Σ_k o_ck and n = Σ_c n_c (Krippendorff 2011, "Computing Krippendorff's
/// Alpha-Reliability"). The two values — which response of the pair won — have no order shared across units, so each
/// unit counts in both orientations (n_first = n_second = n/2) and α = 1 − 2(n − 1)·Σ_{c≠k} o_ck / n². 1 is perfect
/// agreement, 0 chance level, below 0 systematic disagreement; nil with fewer than two pairable judgements.
public struct AnnotatorAgreement: Sendable, Equatable {
    /// One annotator's record.
    public struct Annotator: Sendable, Equatable {
        public let name: String
        /// Judgements in units with two or more judgements.
        public let judgements: Int
        /// Of those whose other judgements have a majority: how many, and how many agree with it.
        public let compared: Int
        public let agreed: Int
        public var agreement: Double? { compared > 0 ? Double(agreed) / Double(compared) : nil }
    }

    /// Units (pairs with two or more judgements).
    public let units: Int
    /// Units whose judgements were not unanimous.
    public let disagreeingUnits: Int
    /// Per unit, the entropy in bits of its preference.
    public let entropies: [Double]
    /// Annotators by name.
    public let annotators: [Annotator]
    /// Krippendorff's alpha (nominal), or nil when undefined.
    public let alpha: Double?

    /// Analyses the pairs that carry an annotator and adds `annotator_disagreement` findings; nil when no pair
    /// has an annotator.
    static func analyse(_ pairs: [AuditPair], into evidence: inout [[Finding]]) -> AnnotatorAgreement? {
        var units: [PairKey: [Int]] = [:]
        var order: [PairKey] = []
        for (row, pair) in pairs.enumerated() where pair.annotator != nil && pair.chosenKey != pair.rejectedKey {
            if units[pair.unorderedKey] == nil { order.append(pair.unorderedKey) }
            units[pair.unorderedKey, default: []].append(row)
        }
        guard !units.isEmpty else { return nil }
        var entropies: [Double] = [], disagreeing = 0
        var counts: [String: (judgements: Int, compared: Int, agreed: Int)] = [:]
        var votes: [(first: Int, second: Int)] = []
        for key in order {
            guard let rows = units[key], rows.count >= 2 else { continue }
            let first = rows.filter { pairs[$0].prefersFirst }.count, second = rows.count - first
            votes.append((first, second))
            let entropy = Self.entropy(first, second)
            entropies.append(entropy)
            if first > 0 && second > 0 { disagreeing += 1 }
            let names = Set(rows.compactMap { pairs[$0].annotator })
            for row in rows {
                let pair = pairs[row]
                let same = pair.prefersFirst ? first : second, other = rows.count - same
                let name = pair.annotator ?? ""
                var record = counts[name] ?? (0, 0, 0)
                record.judgements += 1
                // Leave-one-out majority: the others' votes for this judgement's side against the other side.
                if same - 1 != other {
                    record.compared += 1
                    if same - 1 > other { record.agreed += 1 }
                }
                counts[name] = record
                guard first > 0 && second > 0 else { continue }
                evidence[row].append(Finding(.annotatorDisagreement, .object([
                    JSONValue.Member("annotator", .string(name)), JSONValue.Member("same_way", .integer(same)),
                    JSONValue.Member("other_way", .integer(other)), JSONValue.Member("entropy_bits", .numeric(entropy)),
                    JSONValue.Member("annotators", .integer(names.count)),
                    JSONValue.Member("share_same_way", .numeric(Double(same) / Double(rows.count))),
                ])))
            }
        }
        let annotators = counts.keys.sorted().map { name -> Annotator in
            let record = counts[name] ?? (0, 0, 0)
            return Annotator(name: name, judgements: record.judgements, compared: record.compared, agreed: record.agreed)
        }
        return AnnotatorAgreement(units: entropies.count, disagreeingUnits: disagreeing, entropies: entropies,
                                  annotators: annotators, alpha: krippendorffAlpha(votes))
    }

    /// The entropy in bits of a two-way split.
    static func entropy(_ first: Int, _ second: Int) -> Double {
        let total = Double(first + second)
        return [first, second].reduce(0.0) { sum, count in
            guard count > 0 else { return sum }
            let p = Double(count) / total
            return sum - p * log2(p)
        }
    }

    /// Krippendorff's nominal alpha, orientation-free (see the type's documentation), from each unit's counts of
    /// judgements preferring its first and its second response; units with fewer than two judgements are ignored.
    static func krippendorffAlpha(_ units: [(first: Int, second: Int)]) -> Double? {
        var n = 0.0, disagreement = 0.0
        for (first, second) in units where first + second >= 2 {
            n += Double(first + second)
            disagreement += 2 * Double(first * second) / Double(first + second - 1)
        }
        guard n >= 2 else { return nil }
        return 1 - 2 * (n - 1) * disagreement / (n * n)
    }
}
