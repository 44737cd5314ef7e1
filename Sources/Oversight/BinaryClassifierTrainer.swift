import Alignment
import Foundation
import LanguageModels
import Tensors

/// One example of a binary task as token ids: a single sequence scored z = r(first), or a pair scored
/// z = r(first) − r(second) (a reward model's Bradley–Terry logit that `first` is preferred). p(positive) = σ(z).
public struct BinaryItem: Codable, Equatable, Sendable {
    public var first: [Int32]
    public var second: [Int32]?
    /// The training target: a ground-truth label (0 or 1) or a weak supervisor's probability.
    public var target: Float

    public init(first: [Int32], second: [Int32]? = nil, target: Float) {
        (self.first, self.second, self.target) = (first, second, target)
    }
}

/// Fine-tunes a `SequenceClassifier` on binary items: cross-entropy on the targets, or Burns et al.'s auxiliary
/// confidence loss with α warmed up over the run (`ConfidenceLoss`). Runs under the shared `TrainingLoop`.
public final class BinaryClassifierTrainer: TrainingObjective {
    /// What the targets are fitted with.
    public enum Objective: Codable, Equatable, Sendable {
        case crossEntropy
        /// `ConfidenceLoss.auxiliaryConfidence` with α = α_max · min(1, progress / warmupFraction).
        case auxiliaryConfidence(maximumAlpha: Double, warmupFraction: Double)
    }

    public var methodName: String { "Classifier" }
    public let model: SequenceClassifier
    let items: [BinaryItem]
    let objective: Objective
    /// The run's optimizer steps, for α's schedule.
    let totalSteps: Int
    let padding: Int32
    /// `steps` (loss calls so far: one per optimizer step, gradient accumulation being 1), saved with checkpoints.
    public var counters: [String: Double] = ["steps": 0]

    public init(model: SequenceClassifier, items: [BinaryItem], objective: Objective, totalSteps: Int) {
        precondition(totalSteps > 0, "a run has at least one step")
        self.model = model
        self.items = items
        self.objective = objective
        self.totalSteps = totalSteps
        padding = model.padTokenId ?? 0
    }

    public var exampleCount: Int { items.count }
    public var trainableParameters: [Tensor] { model.trainableParameters() }
    public var parametersWithoutDecay: [Tensor] { model.trainableParameters().filter { $0.rank < 2 } }
    public func saveModel(to directory: URL) throws { try model.save(to: directory) }
    /// - Throws: `TrainingError.resume` naming the folder and the parameter that does not fit.
    public func loadModel(from directory: URL) throws {
        let saved = Dictionary(try SequenceClassifier.load(directory: directory).namedParameters().map { ($0.name, $0.tensor) }) { first, _ in first }
        for (name, tensor) in model.namedParameters() {
            guard let source = saved[name], source.shape == tensor.shape else {
                throw TrainingError.resume("\(directory.path): \(name) is missing or has another shape than the classifier's \(tensor.shape)")
            }
            tensor.assign(source)
        }
    }

    public func loss(examples indices: [Int], generator: inout SeededGenerator) throws -> (loss: Tensor, metrics: [String: Double]) {
        let batch = indices.map { items[$0] }
        let step = counters["steps", default: 0]
        counters["steps"] = step + 1
        let z = Self.logits(model, batch, padding: padding)
        let targets = batch.map(\.target)
        var metrics: [String: Double] = [:]
        let loss: Tensor
        switch objective {
        case .crossEntropy:
            loss = ConfidenceLoss.crossEntropy(logits: z, targets: targets)
        case .auxiliaryConfidence(let maximumAlpha, let warmupFraction):
            let alpha = ConfidenceLoss.alpha(progress: step / Double(totalSteps), maximum: maximumAlpha, warmupFraction: warmupFraction)
            loss = ConfidenceLoss.auxiliaryConfidence(logits: z, weakLabels: targets, alpha: Float(alpha))
            metrics["alpha"] = alpha
        }
        let agreement = zip(z.scalars, targets).map { ($0 > 0) == ($1 > 0.5) ? 1.0 : 0 }
        metrics["accuracy"] = agreement.reduce(0, +) / Double(batch.count)
        return (loss, metrics)
    }

    /// Logits (B) of items, on the tape: one right-padded batch of the firsts (and seconds).
    static func logits(_ model: SequenceClassifier, _ batch: [BinaryItem], padding: Int32) -> Tensor {
        let paired = batch.allSatisfy { $0.second != nil }
        precondition(paired || batch.allSatisfy { $0.second == nil }, "a batch mixes single and paired items")
        let sequences = batch.map(\.first) + (paired ? batch.compactMap(\.second) : [])
        let time = max(1, sequences.map(\.count).max() ?? 1)
        let ids = sequences.flatMap { $0 + [Int32](repeating: padding, count: time - $0.count) }
        let scores = model.rewards(ids: ids, batch: sequences.count, time: time)  // (B) or (2B)
        guard paired else { return scores }
        return scores.slice(axis: 0, 0..<batch.count) - scores.slice(axis: 0, batch.count..<(2 * batch.count))
    }

    /// p(positive) of every item, in batches, without gradients.
    public static func probabilities(_ model: SequenceClassifier, _ items: [BinaryItem], batchSize: Int = 64) -> [Float] {
        let padding = model.padTokenId ?? 0
        return stride(from: 0, to: items.count, by: batchSize).flatMap { start in
            let z = withoutGradients { logits(model, Array(items[start..<min(start + batchSize, items.count)]), padding: padding).scalars }
            return z.map(ConfidenceLoss.sigmoid)
        }
    }
}
