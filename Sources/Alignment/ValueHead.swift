import Foundation
import LanguageModels
import NeuralNetworks
import SafeTensors
import Tensors

/// The critic's scalar head: V(s_t) = w·h_t + b on a model's final hidden state h_t (after the final norm), as TRL's
/// `AutoModelForCausalLMWithValueHead` (`v_head.summary`) and the `score` layer of a sequence-classification critic.
public final class ValueHead: Module {
    public let projection: Linear

    /// A fresh head, initialised like PyTorch's `nn.Linear(hidden, 1)`.
    public init(hiddenSize: Int, generator: inout SeededGenerator) {
        projection = Linear(inputSize: hiddenSize, outputSize: 1, bias: true, generator: &generator)
    }

    /// A head around an existing projection (out = 1).
    public init(projection: Linear) {
        precondition(projection.outputSize == 1, "a value head has one output, got \(projection.outputSize)")
        self.projection = projection
    }

    /// hidden: (B, T, C) → (B, T)
    public func callAsFunction(_ hidden: Tensor) -> Tensor {
        let (batch, time) = (hidden.shape[0], hidden.shape[1])
        return projection(hidden).reshaped([batch, time])
    }

    /// Tensor names in value_head.safetensors (TRL's value-head names).
    static let weightName = "v_head.summary.weight", biasName = "v_head.summary.bias"
    public static let fileName = "value_head.safetensors"

    /// Writes the head as `directory/value_head.safetensors`.
    public func save(to directory: URL) throws {
        var writer = SafeTensorsWriter(metadata: ["format": "pt"])
        try writer.add(Self.weightName, shape: projection.weight.shape, values: projection.weight.scalars)
        if let bias = projection.bias { try writer.add(Self.biasName, shape: bias.shape, values: bias.scalars) }
        try writer.write(to: directory.appendingPathComponent(Self.fileName))
    }

    /// Reads a head written by `save(to:)` (or TRL's v_head tensors).
    /// - Throws: `TrainingError.resume` naming the file and tensor when it does not fit.
    public func load(from directory: URL) throws {
        let url = directory.appendingPathComponent(Self.fileName)
        let file = try SafeTensorsFile(url: url)
        for (name, tensor) in [(Self.weightName, projection.weight), (Self.biasName, projection.bias)] {
            guard let tensor else { continue }
            let values = try file.floats(name)
            guard values.count == tensor.count else {
                throw TrainingError.resume("\(url.path): \(name) has \(values.count) values, the head has \(tensor.count)")
            }
            tensor.assign(Tensor(shape: tensor.shape, scalars: values))
        }
    }
}
