"""Reference values for Tests/AnnotationTests/AgreementTests.swift, computed independently of Charter.

Krippendorff's alpha is computed from its definition over pairable values, alpha = 1 - D_o / D_e: the observed
disagreement averages delta^2 over all ordered pairs of values within a unit (each unit weighted 1/(m_u - 1)), the
expected disagreement over all ordered pairs of pairable values in the whole data (Krippendorff 2011, "Computing
Krippendorff's Alpha-Reliability", sections A and E). Charter's Swift code goes through the coincidence matrix
instead. The data is the paper's worked example (4 observers, 12 units, values 1-5, missing as None), whose
published values are nominal 0.743 and ordinal 0.815. Cohen's kappa uses the 2x2 example of Wikipedia's
"Cohen's kappa" article (20 yes/yes, 5 yes/no, 10 no/yes, 15 no/no: kappa 0.4) and a random 3-label sample.

Run: python3 make_agreement_fixture.py > agreement.json
"""
import itertools
import json
import random

RELIABILITY = [  # rows: observers A-D; columns: units 1-12
    [1, 2, 3, 3, 2, 1, 4, 1, 2, None, None, None],
    [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, None, 3],
    [None, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, None],
    [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, None],
]


def units_of(matrix):
    return [[row[u] for row in matrix if row[u] is not None] for u in range(len(matrix[0]))]


def alpha(units, metric):
    units = [u for u in units if len(u) >= 2]
    values = [v for u in units for v in u]
    n = len(values)
    counts = {v: values.count(v) for v in set(values)}
    ranks = sorted(counts)

    def delta(c, k):
        if metric == "nominal":
            return 0.0 if c == k else 1.0
        low, high = sorted((c, k))
        between = sum(counts[g] for g in ranks if low <= g <= high) - (counts[low] + counts[high]) / 2
        return between ** 2

    observed = sum(delta(a, b) / (len(u) - 1) for u in units for a, b in itertools.permutations(u, 2)) / n
    expected = sum(delta(a, b) for a, b in itertools.permutations(values, 2)) / (n * (n - 1))
    return 1 - observed / expected


def kappa(pairs):
    total = len(pairs)
    observed = sum(a == b for a, b in pairs) / total
    labels = {x for pair in pairs for x in pair}
    chance = sum(sum(a == c for a, _ in pairs) / total * sum(b == c for _, b in pairs) / total for c in labels)
    return (observed - chance) / (1 - chance)


def main():
    rng = random.Random(7)
    random_units = [[rng.choice([-2, -1, 0, 1, 2]) for _ in range(rng.randint(1, 4))] for _ in range(40)]
    random_pairs = [(rng.choice("abc"), rng.choice("aabc")) for _ in range(60)]
    wikipedia = [("yes", "yes")] * 20 + [("yes", "no")] * 5 + [("no", "yes")] * 10 + [("no", "no")] * 15
    print(json.dumps({
        "krippendorff_units": units_of(RELIABILITY),
        "krippendorff_nominal": alpha(units_of(RELIABILITY), "nominal"),
        "krippendorff_ordinal": alpha(units_of(RELIABILITY), "ordinal"),
        "random_units": random_units,
        "random_nominal": alpha(random_units, "nominal"),
        "random_ordinal": alpha(random_units, "ordinal"),
        "wikipedia_kappa": kappa(wikipedia),
        "random_pairs": random_pairs,
        "random_kappa": kappa(random_pairs),
    }, indent=1))


if __name__ == "__main__":
    main()
