import Foundation
import LanguageModels
import NeuralNetworks
import Tensors

/// A causal language model being trained, with the folder it came from (whose tokenizer and generation files
/// are copied next to every saved copy, so each output folder is complete for transformers).
public final class TrainableModel {
    public let model: any CausalLanguageModel
    public let sourceDirectory: URL?
    /// The LoRA adapters being trained, if any: the model is then saved (and restored) as a PEFT adapter folder.
    public var adapterConfiguration: LoRAConfiguration?

    public init(model: any CausalLanguageModel, sourceDirectory: URL?, adapterConfiguration: LoRAConfiguration? = nil) {
        precondition(!model.isQuantized, "a model with quantized weights is for inference only; load it in float32 "
                     + "(PretrainedModel.load(directory:), --dtype f32) to train it")
        self.model = model
        self.sourceDirectory = sourceDirectory
        self.adapterConfiguration = adapterConfiguration
    }

    /// Loads a Hugging Face folder.
    public convenience init(directory: URL) throws {
        self.init(model: try PretrainedModel.load(directory: directory), sourceDirectory: directory)
    }

    public var trainableParameters: [Tensor] { model.trainableParameters() }
    public var parametersWithoutDecay: [Tensor] { model.trainableParameters().filter { $0.rank < 2 } }

    /// Writes a transformers folder, or a PEFT adapter folder when training LoRA adapters.
    public func save(to directory: URL) throws {
        if let adapterConfiguration {
            var configuration = adapterConfiguration
            configuration.baseModelNameOrPath = configuration.baseModelNameOrPath ?? sourceDirectory?.path
            try LoRA.save(model, configuration: configuration, to: directory)
        } else {
            try PretrainedModel.save(model, to: directory)
        }
        if let sourceDirectory { try PretrainedModel.copyCompanionFiles(from: sourceDirectory, to: directory) }
    }

    /// Restores weights saved by `save(to:)` into this model (same architecture), in place, so an optimizer
    /// holding the parameters keeps working.
    public func load(from directory: URL) throws {
        if adapterConfiguration != nil {
            guard let sourceDirectory else { throw TrainingError.resume("\(directory.path): restoring adapters needs the base model folder") }
            let saved = try PretrainedModel.load(directory: sourceDirectory)
            try LoRA.load(from: directory, into: saved)
            let target = LoRA.adapters(in: model), source = LoRA.adapters(in: saved)
            guard target.count == source.count else {
                throw TrainingError.resume("\(directory.path): \(source.count) adapted layers, the model has \(target.count)")
            }
            for (destination, value) in zip(target, source) {
                destination.loraA.assign(value.loraA)
                destination.loraB.assign(value.loraB)
            }
            return
        }
        try Self.assign(try PretrainedModel.load(directory: directory).namedParameters(), to: model.namedParameters(), from: directory)
    }

    /// Copies saved parameters into a model's, in place, after checking that they match one to one.
    /// - Throws: `TrainingError.resume` naming the folder and the parameter that does not fit.
    static func assign(_ source: [(name: String, tensor: Tensor)], to target: [(name: String, tensor: Tensor)], from directory: URL,
                       modelName: String = "the model") throws {
        guard target.count == source.count else {
            throw TrainingError.resume("\(directory.path): \(source.count) parameters, \(modelName) has \(target.count)")
        }
        for (destination, value) in zip(target, source) {
            guard destination.tensor.shape == value.tensor.shape else {
                throw TrainingError.resume("\(directory.path): \(value.name) has shape \(value.tensor.shape), expected \(destination.tensor.shape)")
            }
            destination.tensor.assign(value.tensor)
        }
    }
}
