import Foundation
import Tokenizers

/// The folders a local model is read from: a Hugging Face model folder (`base`) and, optionally, a PEFT adapter
/// folder (`adapter`) applied on top of it — what `--model DIR [--lora ADAPTER]` names.
///
/// `--model` may itself be an adapter folder (it has `adapter_config.json` and no `config.json`): its base is then
/// the folder `base_model_name_or_path` names, as `AutoPeftModelForCausalLM.from_pretrained` reads it.
public struct AdaptedModelFolder: Sendable {
    /// config.json and the weights, or a `.gguf` file.
    public let base: URL
    /// adapter_config.json and adapter_model.safetensors, if any.
    public let adapter: URL?

    public init(base: URL, adapter: URL? = nil) {
        self.base = base
        self.adapter = adapter
    }

    /// Resolves `--model` and `--lora`.
    /// - Throws: `LoRAError` when `model` is an adapter folder whose base is not a local folder (a hub id) or is
    ///   absent, or when both `model` and `lora` are adapters.
    public init(model: URL, lora: URL? = nil) throws {
        guard Self.isAdapter(model) else {
            self.init(base: model, adapter: lora)
            return
        }
        let configuration = try LoRA.loadConfiguration(from: model)
        let file = model.appendingPathComponent(LoRA.configurationFileName).path
        if let lora {
            throw LoRAError("\(model.path) is a PEFT adapter folder, and --lora names another (\(lora.path)); give the base model "
                            + "with --model and one adapter with --lora")
        }
        guard let name = configuration.baseModelNameOrPath, !name.isEmpty else {
            throw LoRAError("\(file): no base_model_name_or_path, so the base model is unknown; pass --model BASE --lora \(model.path)")
        }
        guard let base = Self.localBase(name, adapter: model) else {
            throw LoRAError("\(file): base_model_name_or_path \"\(name)\" is not a local model folder (a Hugging Face hub id?); "
                            + "download it (e.g. huggingface-cli download \(name) --local-dir BASE) and pass --model BASE --lora \(model.path)")
        }
        self.init(base: base, adapter: model)
    }

    /// True when `directory` holds an adapter (adapter_config.json) and no full model (config.json).
    public static func isAdapter(_ directory: URL) -> Bool {
        if GGUFCheckpoint.isGGUF(directory) { return false }
        let files = FileManager.default
        return files.fileExists(atPath: directory.appendingPathComponent(LoRA.configurationFileName).path)
            && !files.fileExists(atPath: directory.appendingPathComponent("config.json").path)
    }

    /// `name` as a folder with config.json: as given (relative to the working directory), else relative to the
    /// adapter folder.
    static func localBase(_ name: String, adapter: URL) -> URL? {
        var candidates = [URL(fileURLWithPath: name)]
        if !name.hasPrefix("/") { candidates.append(adapter.appendingPathComponent(name)) }
        return candidates.first { FileManager.default.fileExists(atPath: $0.appendingPathComponent("config.json").path) }
    }

    /// Where the tokenizer, chat template and generation_config.json are read: the adapter folder when it has a
    /// tokenizer.json (Charter, TRL and PEFT training save them next to the adapter), else the base folder.
    public var files: URL {
        if let adapter, FileManager.default.fileExists(atPath: adapter.appendingPathComponent("tokenizer.json").path) { return adapter }
        return base
    }

    /// The model name shown to users: the adapter's folder name when there is one.
    public var name: String { (adapter ?? base).lastPathComponent }

    /// Loads the base model and applies the adapter for inference; no tokenizer is needed (`charter merge`).
    /// - Throws: the errors of `PretrainedModel.load` and `LoRA.load`.
    public func loadModel() throws -> any CausalLanguageModel {
        let model = try PretrainedModel.load(directory: base)
        if let adapter { try LoRA.load(from: adapter, into: model) }
        return model
    }

    /// Loads the base model, applies the adapter for inference, and reads the tokenizer from `files`.
    /// - Parameter precision: how the weights are held (``WeightPrecision``); anything but `.float32` is for
    ///   inference only.
    /// - Throws: the errors of `PretrainedModel.loadWithTokenizer` and `LoRA.load`.
    public func load(precision: WeightPrecision = .float32) throws -> (model: any CausalLanguageModel, tokenizer: Tokenizer) {
        if GGUFCheckpoint.isGGUF(base) {
            let checkpoint = try GGUFCheckpoint(url: base)
            let tokenizer = files == base ? try checkpoint.loadTokenizer() : try Tokenizer(directory: files)
            let model = try checkpoint.loadModel(precision: precision)
            try ModelFolder.checkTokenizer(tokenizer, vocabularySize: model.vocabularySize, source: base.path)
            if let adapter { try LoRA.load(from: adapter, into: model) }
            return (model, tokenizer)
        }
        let folder = try ModelFolder(directory: base)
        let tokenizer = try Tokenizer(directory: files)
        let model = try PretrainedModel.load(folder, tokenizer: tokenizer)
        try model.apply(precision, source: base.path)
        if let adapter { try LoRA.load(from: adapter, into: model) }
        return (model, tokenizer)
    }
}
