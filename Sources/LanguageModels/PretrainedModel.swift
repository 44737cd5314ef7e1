import Foundation
import JSON
import SafeTensors
import Tensors
import Tokenizers

/// Loading and saving Hugging Face model folders (`config.json` + safetensors weights).
public enum PretrainedModel {
    /// Architectures by `model_type`.
    public static let supportedModelTypes = ["llama", "mistral", "qwen2", "gpt2"]

    /// Reads the model in `directory`: the architecture is chosen by config.json's `model_type`.
    ///
    /// Nothing is allocated before config.json is validated (every size positive, heads dividing the width, …),
    /// the model's float32 size is compared with the machine's physical memory, every tensor of the checkpoint's
    /// header is compared with the shape config.json implies, and the folder's tokenizer (when it has one) is
    /// checked to produce only ids the embedding has rows for.
    /// - Throws: `CheckpointError` naming the file and field or tensor, `SafeTensorsError` for unusable weights.
    /// A `.gguf` file is read as the folder it converts to (``GGUFCheckpoint``), its weights dequantised to float32.
    /// `precision` other than `.float32` holds the weights for inference only (``WeightPrecision``).
    public static func load(directory: URL, precision: WeightPrecision = .float32) throws -> any CausalLanguageModel {
        if GGUFCheckpoint.isGGUF(directory) { return try GGUFCheckpoint(url: directory).loadModel(precision: precision) }
        let folder = try ModelFolder(directory: directory)
        let model = try load(folder, tokenizer: folder.tokenizerIfReadable)
        try model.apply(precision, source: directory.path)
        return model
    }

    /// Reads the model in `directory` and its tokenizer, which must exist (config.json is read first, so a folder
    /// that is not a model folder says so).
    /// - Throws: the errors of ``load(directory:)``, or `TokenizerError` for the tokenizer.
    public static func loadWithTokenizer(directory: URL) throws -> (model: any CausalLanguageModel, tokenizer: Tokenizer) {
        try AdaptedModelFolder(base: directory).load()
    }

    /// The tokenizer of a model folder (tokenizer.json) or of a `.gguf` file (its metadata).
    /// - Throws: `TokenizerError`, or ``GGUFError`` for a malformed file.
    public static func tokenizer(at url: URL) throws -> Tokenizer {
        GGUFCheckpoint.isGGUF(url) ? try GGUFCheckpoint(url: url).loadTokenizer() : try Tokenizer(directory: url)
    }

    static func load(_ folder: ModelFolder, tokenizer: Tokenizer?) throws -> any CausalLanguageModel {
        guard let modelType = folder.modelType else {
            throw CheckpointError("\(folder.configURL.path): no \"model_type\"; supported: \(supportedModelTypes.joined(separator: ", "))")
        }
        var generator = SeededGenerator(seed: 0)  // overwritten by the checkpoint
        switch modelType {
        case "llama", "mistral", "qwen2":
            let configuration = try folder.configuration(LlamaConfiguration.self)
            let tensors = try ShardedSafeTensors(directory: folder.directory)
            try folder.check(configuration, layout: configuration.checkpointLayout(), tensors: tensors, tokenizer: tokenizer,
                             resolve: { tensors.contains($0) ? $0 : nil })
            let model = LlamaModel(configuration, generator: &generator)
            try model.load(from: tensors, directory: folder.directory)
            return model
        case "gpt2":
            let configuration = try folder.configuration(GPTConfiguration.self)
            let tensors = try ShardedSafeTensors(directory: folder.directory)
            try folder.check(configuration, layout: configuration.checkpointLayout(), tensors: tensors, tokenizer: tokenizer,
                             resolve: { gpt2Name($0, in: tensors) })
            let model = GPTModel(configuration, generator: &generator)
            var aliases: [String: String] = [:]
            for entry in model.checkpointEntries() { aliases[entry.name] = String(entry.name.dropFirst("transformer.".count)) }
            try model.load(from: tensors, directory: folder.directory, aliases: aliases)
            return model
        default:
            throw CheckpointError("\(folder.configURL.path): model_type \"\(modelType)\" is not supported; supported: \(supportedModelTypes.joined(separator: ", "))")
        }
    }

    /// The checkpoint's name for GPT-2 tensor `name`: checkpoints saved from GPT2Model (not the LM head class) have
    /// no "transformer." prefix.
    static func gpt2Name(_ name: String, in tensors: ShardedSafeTensors) -> String? {
        if tensors.contains(name) { return name }
        let bare = name.hasPrefix("transformer.") ? String(name.dropFirst("transformer.".count)) : name
        return tensors.contains(bare) ? bare : nil
    }

    /// Saves `model` as a Hugging Face folder that transformers loads with identical outputs.
    public static func save(_ model: any CausalLanguageModel, to directory: URL, dtype: SafeTensorsDType = .float32,
                            maximumShardSize: Int = 5_000_000_000) throws {
        guard let mapped = model as? any CheckpointMapped else {
            throw CheckpointError("\(type(of: model)) has no Hugging Face checkpoint layout")
        }
        guard !model.isQuantized else {
            throw CheckpointError("\(directory.path): the model holds quantized weights (loaded for inference); load it with "
                                  + "--dtype f32 to save it")
        }
        try mapped.save(to: directory, dtype: dtype, maximumShardSize: maximumShardSize)
    }

    /// The tokenizer and generation files of a model folder, which every folder saved from it gets a copy of.
    public static let companionFiles = ["tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "generation_config.json",
                                        "chat_template.jinja"]

    /// Copies `companionFiles` that `source` has into `directory` (replacing older copies), so a saved model folder
    /// is complete for transformers.
    /// A `.gguf` source writes the files its metadata describes (``GGUFCheckpoint/writeCompanionFiles(to:)``).
    public static func copyCompanionFiles(from source: URL, to directory: URL) throws {
        if GGUFCheckpoint.isGGUF(source) { return try GGUFCheckpoint(url: source).writeCompanionFiles(to: directory) }
        for name in companionFiles {
            let from = source.appendingPathComponent(name), to = directory.appendingPathComponent(name)
            guard FileManager.default.fileExists(atPath: from.path), from.standardizedFileURL != to.standardizedFileURL else { continue }
            try? FileManager.default.removeItem(at: to)
            try FileManager.default.copyItem(at: from, to: to)
        }
    }

    /// `value` (a configuration) as a JSON object.
    static func jsonObject(_ value: some Encodable) throws -> JSONValue {
        try JSONParser.parse(JSONEncoder().encode(value))
    }

    /// config.json text as transformers writes it: keys sorted, two-space indentation.
    /// config.json as transformers writes it: `json.dumps(config, indent=2, sort_keys=True) + "\n"`.
    static func configurationData(_ object: JSONValue) -> Data {
        Data((object.sortingKeys.serialized(.indented) + "\n").utf8)
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

extension JSONValue {
    /// This object with `key` set to `value` (replacing the member of that name, or appended).
    func setting(_ key: String, _ value: JSONValue) -> JSONValue {
        guard case var .object(members) = self else { return self }
        if let index = members.firstIndex(where: { $0.key == key }) {
            members[index].value = value
        } else {
            members.append(Member(key, value))
        }
        return .object(members)
    }
}
