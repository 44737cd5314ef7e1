import Foundation
import Tensors

/// What a trainer optimises: the loss of a micro-batch of examples, plus how to save and evaluate the model.
public protocol TrainingObjective: AnyObject {
    /// The method as TRL's model cards name it ("SFT", "DPO", "Reward").
    var methodName: String { get }
    /// Number of training examples; the loop decides their order.
    var exampleCount: Int { get }
    /// Parameters the optimizer updates.
    var trainableParameters: [Tensor] { get }
    /// Parameters that get no weight decay (biases, norms).
    var parametersWithoutDecay: [Tensor] { get }
    /// Loss (a scalar tensor on the tape) of the examples at `indices`, and metrics (TRL names) to average.
    func loss(examples indices: [Int], generator: inout SeededGenerator) throws -> (loss: Tensor, metrics: [String: Double])
    /// Metrics on held-out data (without the `eval_` prefix), or nil when there is none.
    func evaluate() throws -> [String: Double]?
    /// Writes the trainable model (a transformers or PEFT folder) into `directory`.
    func saveModel(to directory: URL) throws
    /// Restores the trainable weights written by `saveModel`.
    func loadModel(from directory: URL) throws
    /// Counters the objective keeps across steps (e.g. tokens seen), saved in checkpoints for an exact resume.
    var counters: [String: Double] { get set }
    /// Generations to show at evaluation time (written to samples.jsonl), or none.
    func sampleGenerations() -> [[String: Any]]
    /// The loss a collapsed model is pinned at — ln V for next-token cross-entropy, where a model that predicts
    /// every token as equally likely lands — or nil when the loss has no such fixed point. The training loop stops a
    /// run whose loss stays there (see `TrainingHealth`).
    var uniformLoss: Double? { get }
    /// The number of items the loss of `indices` averages over (target tokens, for next-token cross-entropy), when an
    /// accumulation window should weigh its micro-batches by it — transformers' `num_items_in_batch`: each
    /// micro-batch's mean loss is scaled by its share of the window's items, so the step's loss is the mean over all the
    /// window's tokens, not the mean of per-micro-batch means. nil: micro-batches weigh equally (DPO, reward).
    func lossItemCount(examples indices: [Int]) -> Int?
}

extension TrainingObjective {
    public var uniformLoss: Double? { nil }
    public func evaluate() throws -> [String: Double]? { nil }
    public func sampleGenerations() -> [[String: Any]] { [] }
    public func lossItemCount(examples indices: [Int]) -> Int? { nil }
}
