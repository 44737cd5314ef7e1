import Foundation
import SafeTensors
import Tensors

/// Loading and saving Hugging Face model folders (`config.json` + safetensors weights).
public enum PretrainedModel {
    /// Architectures by `model_type`.
    public static let supportedModelTypes = ["llama", "mistral", "qwen2", "gpt2"]

    /// Reads the model in `directory`: the architecture is chosen by config.json's `model_type`.
    /// - Throws: `CheckpointError` naming the file and field when the folder cannot be used.
    public static func load(directory: URL) throws -> any CausalLanguageModel {
        let configURL = directory.appendingPathComponent("config.json")
        guard let data = try? Data(contentsOf: configURL) else {
            throw CheckpointError("\(configURL.path): cannot read config.json (is \(directory.path) a Hugging Face model folder?)")
        }
        guard let object = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else {
            throw CheckpointError("\(configURL.path): not a JSON object")
        }
        guard let modelType = object["model_type"] as? String else {
            throw CheckpointError("\(configURL.path): no \"model_type\"; supported: \(supportedModelTypes.joined(separator: ", "))")
        }
        let tensors = try ShardedSafeTensors(directory: directory)
        var generator = SeededGenerator(seed: 0)  // overwritten by the checkpoint
        do {
            switch modelType {
            case "llama", "mistral", "qwen2":
                let configuration = try JSONDecoder().decode(LlamaConfiguration.self, from: data)
                if let type = configuration.ropeScaling?.type, !["linear", "llama3"].contains(type) {
                    throw CheckpointError("\(configURL.path): rope_scaling type \"\(type)\" is not supported (supported: linear, llama3)")
                }
                guard configuration.hiddenActivation == "silu" else {
                    throw CheckpointError("\(configURL.path): hidden_act \"\(configuration.hiddenActivation)\" is not supported (silu)")
                }
                let model = LlamaModel(configuration, generator: &generator)
                try model.load(from: tensors, directory: directory)
                return model
            case "gpt2":
                let configuration = try JSONDecoder().decode(GPTConfiguration.self, from: data)
                guard ["gelu_new", "gelu", "gelu_pytorch_tanh"].contains(configuration.activation) else {
                    throw CheckpointError("\(configURL.path): activation_function \"\(configuration.activation)\" is not supported")
                }
                let model = GPTModel(configuration, generator: &generator)
                // Checkpoints saved from GPT2Model (not the LM head class) have no "transformer." prefix.
                var aliases: [String: String] = [:]
                for entry in model.checkpointEntries() { aliases[entry.name] = String(entry.name.dropFirst("transformer.".count)) }
                try model.load(from: tensors, directory: directory, aliases: aliases)
                return model
            default:
                throw CheckpointError("\(configURL.path): model_type \"\(modelType)\" is not supported; supported: \(supportedModelTypes.joined(separator: ", "))")
            }
        } catch let error as DecodingError {
            throw CheckpointError("\(configURL.path): \(describe(error))")
        }
    }

    /// Saves `model` as a Hugging Face folder that transformers loads with identical outputs.
    public static func save(_ model: any CausalLanguageModel, to directory: URL, dtype: SafeTensorsDType = .float32,
                            maximumShardSize: Int = 5_000_000_000) throws {
        guard let mapped = model as? any CheckpointMapped else {
            throw CheckpointError("\(type(of: model)) has no Hugging Face checkpoint layout")
        }
        try mapped.save(to: directory, dtype: dtype, maximumShardSize: maximumShardSize)
    }

    static func describe(_ error: DecodingError) -> String {
        switch error {
        case .typeMismatch(_, let context), .valueNotFound(_, let context), .keyNotFound(_, let context), .dataCorrupted(let context):
            let path = context.codingPath.map(\.stringValue).joined(separator: ".")
            return "field \"\(path)\": \(context.debugDescription)"
        @unknown default:
            return "\(error)"
        }
    }
}
