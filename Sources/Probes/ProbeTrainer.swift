import Foundation
import Runtime
import Tensors

/// Trains a probe from an ``ActivationSet``: every collected layer and both methods (logistic regression and the
/// difference of means) fitted on the training split and measured on the held-out split; the best held-out AUROC
/// (ties: the lower layer, logistic first) is kept, and its threshold calibrated to a target false-positive rate on
/// the held-out negative examples (per example, as a generation is stopped: with each-token rows, an example's
/// highest token score).
public struct ProbeTrainer {
    /// Layers to sweep (nil: every collected layer).
    public var layers: [Int]?
    /// Methods to sweep.
    public var methods: [Probe.Method] = Probe.Method.allCases
    public var regression = LogisticRegression()
    /// Fraction of groups held out when the data names no split.
    public var heldOutFraction = 0.25
    /// Fraction of held-out negatives allowed to trigger.
    public var targetFalsePositiveRate = 0.05
    public var seed: UInt64 = 0

    public init() {}

    /// Which examples are held out: the file's `split` when any example has one, else a seeded `heldOutFraction` of
    /// each label's groups (an example without a group is its own group), so no group is on both sides.
    public func heldOutExamples(_ examples: [ActivationSet.Example]) throws -> Set<Int> {
        if examples.contains(where: { $0.split != nil }) {
            return Set(examples.indices.filter { examples[$0].split == "held-out" })
        }
        var heldOut = Set<Int>()
        var generator = SeededGenerator(seed: seed)
        for label in [false, true] {
            let indices = examples.indices.filter { examples[$0].label == label }
            var groups = Array(Set(indices.map { examples[$0].group ?? "#\($0)" })).sorted()
            groups.seededShuffle(using: &generator)
            guard groups.count >= 2 else {
                throw ProbeError.unusableData(reason: "the \(label ? "positive" : "negative") examples form \(groups.count) group; "
                                              + "a held-out split needs at least 2 per label (or give each line a \"split\")")
            }
            let chosen = Set(groups.prefix(max(1, Int((Double(groups.count) * heldOutFraction).rounded()))))
            heldOut.formUnion(indices.filter { chosen.contains(examples[$0].group ?? "#\($0)") })
        }
        return heldOut
    }

    /// Sweeps, picks and calibrates.
    /// - Parameter progress: called with a line per fitted layer and method.
    public func train(_ set: ActivationSet, folder: URL, progress: (String) -> Void = { _ in }) throws -> Probe {
        let layers = self.layers ?? set.layers
        let heldOut = try heldOutExamples(set.examples)
        var sweep: [Probe.SweepEntry] = []
        var best: (entry: Probe.SweepEntry, scorer: LinearProbe, scores: [Double], labels: [Bool], counts: (Int, Int))?
        for layer in layers {
            let data = try set.rows(layer: layer, in: folder)
            let isHeldOut = data.examples.map { heldOut.contains($0) }
            let training = data.rows.indices.filter { !isHeldOut[$0] }, evaluation = data.rows.indices.filter { isHeldOut[$0] }
            let trainingLabels = training.map { data.labels[$0] }, evaluationLabels = evaluation.map { data.labels[$0] }
            guard trainingLabels.contains(true), trainingLabels.contains(false), evaluationLabels.contains(true), evaluationLabels.contains(false) else {
                throw ProbeError.unusableData(reason: "the training and held-out splits each need both labels (training: \(trainingLabels.filter { $0 }.count) "
                                              + "positive of \(training.count) rows, held out: \(evaluationLabels.filter { $0 }.count) of \(evaluation.count))")
            }
            let trainingRows = training.map { data.rows[$0] }
            for method in methods {
                let scorer = method == .logistic ? regression.fit(rows: trainingRows, labels: trainingLabels)
                    : DifferenceOfMeans.fit(rows: trainingRows, labels: trainingLabels)
                let scores = evaluation.map { scorer.probability(data.rows[$0]) }
                let entry = Probe.SweepEntry(layer: layer, method: method, metrics: ProbeMetrics(scores: scores, labels: evaluationLabels))
                sweep.append(entry)
                progress("layer \(layer) \(method.rawValue): " + String(format: "held-out AUROC %.4f, accuracy %.4f, ECE %.4f",
                                                                            entry.metrics.auroc, entry.metrics.accuracy, entry.metrics.calibrationError))
                if best == nil || entry.metrics.auroc > best!.entry.metrics.auroc + 1e-12 {
                    // The threshold applies to what a generation is stopped on: one score per example (with
                    // each-token rows, its highest token score, as ``Probe/score(rows:count:)`` reads it).
                    var perExample: [Int: Double] = [:]
                    for (row, score) in zip(evaluation, scores) { perExample[data.examples[row]] = max(perExample[data.examples[row]] ?? 0, score) }
                    let examples = perExample.keys.sorted()
                    best = (entry, scorer, examples.map { perExample[$0] ?? 0 }, examples.map { set.examples[$0].label }, (training.count, evaluation.count))
                }
            }
        }
        guard let best else { throw ProbeError.unusableData(reason: "no layer to train on") }
        let negatives = zip(best.scores, best.labels).filter { !$0.1 }.map(\.0)
        let positives = zip(best.scores, best.labels).filter { $0.1 }.map(\.0)
        let threshold = ProbeMetrics.threshold(negatives: negatives, falsePositiveRate: targetFalsePositiveRate)
        let description = Probe.Description(
            model: set.model, layer: best.entry.layer, position: set.position, scope: set.scope, method: best.entry.method,
            normalisation: best.entry.method == .logistic && regression.standardise ? "standardised" : "none",
            penalty: best.entry.method == .logistic ? regression.penalty : 0, threshold: threshold,
            targetFalsePositiveRate: targetFalsePositiveRate, metrics: best.entry.metrics,
            truePositiveRate: Double(positives.filter { $0 >= threshold }.count) / Double(positives.count),
            falsePositiveRate: Double(negatives.filter { $0 >= threshold }.count) / Double(negatives.count),
            trainingRows: best.counts.0, heldOutRows: best.counts.1, sweep: sweep)
        return Probe(description: description, scorer: best.scorer)
    }
}

extension Probe {
    /// Scores every example of an activation set made with the same model, layer and position: one probability per
    /// example (its rows read as the probe's position does) and the metrics against the labels.
    /// - Throws: ``ProbeError`` when the set was made with another model, without the probe's layer, or at another position.
    public func evaluate(_ set: ActivationSet, folder: URL) throws -> (scores: [Double], labels: [Bool], metrics: ProbeMetrics) {
        try description.model.check(against: set.model, file: folder.appendingPathComponent(ActivationSet.manifestName).path)
        guard set.position == description.position else {
            throw ProbeError.badFile(file: folder.appendingPathComponent(ActivationSet.manifestName).path,
                                     reason: "collected at position \(set.position.rawValue), but the probe reads \(description.position.rawValue); "
                                     + "collect with --position \(description.position.rawValue)")
        }
        let data = try set.rows(layer: description.layer, in: folder)
        var rowsOf = [[Float]](repeating: [], count: set.examples.count)
        for (row, example) in zip(data.rows, data.examples) { rowsOf[example] += row }
        let scores = rowsOf.map { values in
            values.withUnsafeBufferPointer { score(rows: $0, count: values.count / scorer.hiddenSize) }
        }
        let labels = set.examples.map(\.label)
        return (scores, labels, ProbeMetrics(scores: scores, labels: labels))
    }
}
