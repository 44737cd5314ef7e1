/// Chance-corrected agreement between annotators: Krippendorff's alpha (any number of annotators, missing values)
/// and Cohen's kappa (two annotators).
public enum Agreement {
    /// How unlike two values are.
    public enum Metric: String, Sendable {
        /// δ²(c, k) = 0 when c = k, else 1: every disagreement counts the same.
        case nominal
        /// δ²(c, k) = (Σ_{g from c to k} n_g − (n_c + n_k) / 2)²: values are ranks, and a disagreement counts by how
        /// many judgements lie between the two values (Krippendorff 2011, §"ordinal metric").
        case ordinal
    }

    /// Krippendorff's alpha,
    ///
    ///     α = 1 − (n − 1) · Σ_{c,k} o_ck δ²(c, k) / Σ_{c,k} n_c n_k δ²(c, k),
    ///
    /// with o_ck the coincidences of values c and k within units (a unit with m values contributes 1/(m − 1) per
    /// ordered pair of its values from different annotators), n_c = Σ_k o_ck and n = Σ_c n_c (Krippendorff 2011,
    /// "Computing Krippendorff's Alpha-Reliability"). Units with fewer than two values are not pairable and ignored.
    /// - Parameter units: each unit's values (one per annotator who judged it); for `.ordinal` the integer order is
    ///   the rank order.
    /// - Returns: 1 for perfect agreement, 0 at chance, below 0 for systematic disagreement; nil when fewer than two
    ///   pairable values exist or all values are equal (no expected disagreement).
    public static func krippendorffAlpha(_ units: [[Int]], metric: Metric) -> Double? {
        let pairable = units.filter { $0.count >= 2 }
        let values = Array(Set(pairable.joined())).sorted()
        guard values.count >= 1 else { return nil }
        let index = Dictionary(uniqueKeysWithValues: values.enumerated().map { ($1, $0) })
        let count = values.count
        var coincidences = [[Double]](repeating: [Double](repeating: 0, count: count), count: count)
        for unit in pairable {
            let weight = 1 / Double(unit.count - 1)
            for (i, a) in unit.enumerated() {
                for (j, b) in unit.enumerated() where i != j {
                    coincidences[index[a] ?? 0][index[b] ?? 0] += weight
                }
            }
        }
        let marginals = coincidences.map { $0.reduce(0, +) }
        let n = marginals.reduce(0, +)
        func distance(_ c: Int, _ k: Int) -> Double {
            switch metric {
            case .nominal:
                return c == k ? 0 : 1
            case .ordinal:
                let (low, high) = (min(c, k), max(c, k))
                let between = marginals[low...high].reduce(0, +) - (marginals[low] + marginals[high]) / 2
                return between * between
            }
        }
        var observed = 0.0, expected = 0.0
        for c in 0..<count {
            for k in 0..<count {
                let delta = distance(c, k)
                observed += coincidences[c][k] * delta
                expected += marginals[c] * marginals[k] * delta
            }
        }
        guard n >= 2, expected > 0 else { return nil }
        return 1 - (n - 1) * observed / expected
    }

    /// Cohen's kappa for two annotators' labels of the same items, κ = (p_o − p_e) / (1 − p_e), with p_o the share of
    /// items they label alike and p_e = Σ_c p₁(c) p₂(c) the share expected from each one's label frequencies
    /// (Cohen 1960). nil for no items, or when both always give the same single label (p_e = 1).
    public static func cohenKappa<Label: Hashable>(_ pairs: [(Label, Label)]) -> Double? {
        guard !pairs.isEmpty else { return nil }
        let total = Double(pairs.count)
        var first: [Label: Double] = [:], second: [Label: Double] = [:]
        var agreed = 0.0
        for (a, b) in pairs {
            first[a, default: 0] += 1
            second[b, default: 0] += 1
            if a == b { agreed += 1 }
        }
        let chance = first.reduce(0.0) { $0 + $1.value / total * (second[$1.key] ?? 0) / total }
        guard chance < 1 else { return nil }
        return (agreed / total - chance) / (1 - chance)
    }
}
