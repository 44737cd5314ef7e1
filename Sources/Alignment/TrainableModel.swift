import Foundation
import LanguageModels
import NeuralNetworks
import Tensors

/// A causal language model being trained, with the folder it came from (whose tokenizer and generation files
/// are copied next to every saved copy, so each output folder is complete for transformers).
public final class TrainableModel {
    public let model: any CausalLanguageModel
    public let sourceDirectory: URL?

    public init(model: any CausalLanguageModel, sourceDirectory: URL?) {
        self.model = model
        self.sourceDirectory = sourceDirectory
    }

    /// Loads a Hugging Face folder.
    public convenience init(directory: URL) throws {
        self.init(model: try PretrainedModel.load(directory: directory), sourceDirectory: directory)
    }

    public var trainableParameters: [Tensor] { model.trainableParameters() }
    public var parametersWithoutDecay: [Tensor] { model.trainableParameters().filter { $0.rank < 2 } }

    /// Files copied from the source folder into every saved folder.
    static let companionFiles = ["tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "generation_config.json",
                                 "chat_template.jinja"]

    public func save(to directory: URL) throws {
        try PretrainedModel.save(model, to: directory)
        try copyCompanionFiles(to: directory)
    }

    func copyCompanionFiles(to directory: URL) throws {
        guard let sourceDirectory else { return }
        for name in Self.companionFiles {
            let source = sourceDirectory.appendingPathComponent(name), target = directory.appendingPathComponent(name)
            guard FileManager.default.fileExists(atPath: source.path), source.standardizedFileURL != target.standardizedFileURL else { continue }
            try? FileManager.default.removeItem(at: target)
            try FileManager.default.copyItem(at: source, to: target)
        }
    }

    /// Restores weights saved by `save(to:)` into this model (same architecture).
    public func load(from directory: URL) throws {
        let saved = try PretrainedModel.load(directory: directory)
        let target = model.namedParameters(), source = saved.namedParameters()
        guard target.count == source.count else {
            throw TrainingError.resume("\(directory.path): \(source.count) parameters, the model has \(target.count)")
        }
        for (destination, value) in zip(target, source) {
            guard destination.tensor.shape == value.tensor.shape else {
                throw TrainingError.resume("\(directory.path): \(value.name) has shape \(value.tensor.shape), expected \(destination.tensor.shape)")
            }
            destination.tensor.assign(value.tensor)
        }
    }
}
