import Foundation
import Tensors

/// A training objective whose trained model is a policy (SFT, DPO, ORPO, KTO): its parameters, saving, loading and
/// sample generations all come from the policy and its evaluation prompts.
public protocol PolicyObjective: TrainingObjective {
    var policy: TrainableModel { get }
    /// Greedy continuations of the first evaluation prompts, written at evaluation time.
    var samples: SampleGenerations { get }
}

extension PolicyObjective {
    public var trainableParameters: [Tensor] { policy.trainableParameters }
    public var parametersWithoutDecay: [Tensor] { policy.parametersWithoutDecay }
    public func saveModel(to directory: URL) throws { try policy.save(to: directory) }
    public func loadModel(from directory: URL) throws { try policy.load(from: directory) }
    public func sampleGenerations() -> [[String: Any]] { samples.generate(policy.model) }
}
