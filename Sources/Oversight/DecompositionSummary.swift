import Foundation
import Reports
import Runtime

/// Accuracy of answering directly against answering by decomposition, on the same tasks.
public struct DecompositionSummary: Codable, Equatable, Sendable {
    public var tasks: Int
    public var model: String
    public var decomposer: String
    /// Accuracies (ties ½) with bootstrap 95% intervals over tasks.
    public var direct: Interval
    public var decomposed: Interval
    /// With the tasks' reference sub-questions (nil when the tasks have none).
    public var reference: Interval?
    /// Decomposed − direct, resampling tasks in pairs.
    public var difference: Interval
    public var meanSubquestions: Double
    /// Fraction of reference steps whose answer contains the true answer.
    public var referenceStepAccuracy: Double?

    enum CodingKeys: String, CodingKey {
        case tasks, model, decomposer, direct, decomposed, reference, difference, meanSubquestions = "mean_subquestions"
        case referenceStepAccuracy = "reference_step_accuracy"
    }

    /// - Parameter samples: bootstrap resamples of the tasks.
    public init?(records: [DecompositionRecord], samples: Int, seed: UInt64) {
        guard let first = records.first else { return nil }
        var random = SplitMix64(seed: seed ^ 0xDEC0)
        // One resampling of task indices serves every column, so the difference is paired.
        let draws = (0..<samples).map { _ in records.indices.map { _ in Int(random.next() % UInt64(records.count)) } }
        func bootstrap(_ scores: [Double]) -> Interval {
            let point = Statistics.mean(scores)
            guard samples > 0 else { return Interval(mean: point, lower: point, upper: point, count: scores.count) }
            return Statistics.percentileInterval95(draws.map { draw in draw.reduce(0) { $0 + scores[$1] } / Double(scores.count) }, point: point)
        }
        let direct = records.map(\.direct.score), decomposed = records.map(\.decomposed.score)
        tasks = records.count
        model = first.model
        decomposer = first.decomposer
        self.direct = bootstrap(direct)
        self.decomposed = bootstrap(decomposed)
        difference = bootstrap(zip(decomposed, direct).map { $0 - $1 })
        let referenced = records.compactMap(\.reference)
        reference = referenced.count == records.count ? bootstrap(referenced.map(\.score)) : nil
        meanSubquestions = Statistics.mean(records.map { Double($0.subanswers.count) })
        let steps = records.compactMap { record in record.referenceSubanswers.map { ($0.count, record.referenceStepsRight ?? 0) } }
        let stepCount = steps.reduce(0) { $0 + $1.0 }
        referenceStepAccuracy = stepCount == 0 ? nil : Double(steps.reduce(0) { $0 + $1.1 }) / Double(stepCount)
    }
}
