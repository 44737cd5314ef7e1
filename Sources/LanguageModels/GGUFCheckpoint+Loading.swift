import Foundation
import GGUF
import JSON
import Runtime
import SafeTensors
import Tensors
import Tokenizers

extension GGUFCheckpoint {
    /// The model, every weight dequantised to float32 (`precision` `.float32`, the default), or for inference with
    /// the Llama family's matrices kept in the file's F16/BF16/Q8_0/Q4_0/Q4_1/Q5_0/Q5_1/Q4_K/Q5_K/Q6_K blocks (`.stored`; other
    /// types are dequantised) or quantized to one format (`.quantized`).
    ///
    /// As for a folder, nothing is allocated before the configuration is validated and every tensor the
    /// configuration implies is found in the file with the shape it implies; a file tensor nothing reads is an error.
    /// - Throws: `CheckpointError` naming the file and tensor, ``GGUFError`` for unreadable tensors,
    ///   ``QuantizationError`` for a matrix that is not whole blocks.
    public func loadModel(precision: WeightPrecision = .float32) throws -> any CausalLanguageModel {
        var generator = SeededGenerator(seed: 0)  // overwritten by the checkpoint
        let model: any CheckpointMapped
        switch modelType {
        case "gpt2":
            let configuration = try decode(GPTConfiguration.self)
            try check(configuration.checkpointLayout())
            model = GPTModel(configuration, generator: &generator)
        default:
            let configuration = try decode(LlamaConfiguration.self)
            try check(configuration.checkpointLayout())
            // Every weight is written below or replaced by the file's blocks: none is initialised (nor its memory touched).
            model = LlamaModel(uninitialized: configuration)
        }
        var kept: [(QuantizableLayer, QuantizedMatrix)] = []
        var keptNames: Set<String> = []
        if precision == .stored, let llama = model as? LlamaModel {
            for (name, layer) in llama.quantizableLayers {
                guard let matrix = try storedMatrix(name) else { continue }
                kept.append((layer, matrix))
                keptNames.insert(name)
            }
        }
        for entry in model.checkpointEntries() where !keptNames.contains(entry.name) { entry.write(try values(entry.name)) }
        for (layer, matrix) in kept { layer.quantize(matrix) }
        try model.apply(precision, source: file.url.path)
        let consumed = Set(model.checkpointEntries().compactMap { sources[$0.name]?.name })
        var unused = file.tensors.map(\.name).filter { !consumed.contains($0) }
        // GPT-2 ties its output to the embedding; a file storing output.weight anyway must store the same values.
        if modelType == "gpt2", let index = unused.firstIndex(of: "output.weight") {
            guard try file.floats("output.weight") == file.floats("token_embd.weight") else {
                throw CheckpointError("\(file.url.path): output.weight differs from token_embd.weight, but GPT-2's output layer is tied "
                                      + "to its embedding in Charter and transformers")
            }
            unused.remove(at: index)
        }
        if !unused.isEmpty {
            throw CheckpointError("\(file.url.path): tensors not used by the \(modelType) model: \(unused.prefix(10).joined(separator: ", "))"
                                  + (unused.count > 10 ? " (and \(unused.count - 10) more)" : "")
                                  + (unused.contains("rope_freqs.weight") ? "; rope_freqs (Llama 3 rope scaling stored as a tensor) is not supported" : ""))
        }
        return model
    }

    /// Tensor `name` (transformers' naming) as the file stores it, when its type is one the quantized kernels
    /// multiply and it needs no transposition: Llama's q/k rows are un-permuted whole (a row's blocks move together).
    /// - Throws: ``QuantizationError`` when its bytes do not match its shape.
    func storedMatrix(_ name: String) throws -> QuantizedMatrix? {
        guard let source = sources[name], let info = file.tensor(source.name), info.shape.count == 2,
              let format = QuantizedMatrix.Format(ggmlID: info.type.id) else { return nil }
        let (rows, columns) = (info.shape[0], info.shape[1])
        let label = "\(file.url.path): tensor \(source.name)"
        return try file.withBytes(of: source.name) { bytes -> QuantizedMatrix? in
            switch source.transform {
            case .none:
                return try QuantizedMatrix(format: format, rows: rows, columns: columns, borrowing: bytes, owner: file, source: label)
            case .transposed:
                return nil
            case .reversePermuted(let heads):
                guard heads > 0, rows % (2 * heads) == 0, bytes.count % rows == 0 else {
                    return try QuantizedMatrix(format: format, rows: rows, columns: columns, data: bytes, source: label)
                }
                let rowBytes = bytes.count / rows, half = rows / heads / 2
                var permuted = [UInt8](repeating: 0, count: bytes.count)
                permuted.withUnsafeMutableBytes { target in
                    for head in 0..<heads {
                        for j in 0..<2 {
                            for d in 0..<half {
                                let to = (head * 2 * half + j * half + d) * rowBytes, from = (head * 2 * half + d * 2 + j) * rowBytes
                                target.baseAddress!.advanced(by: to).copyMemory(from: bytes.baseAddress!.advanced(by: from), byteCount: rowBytes)
                            }
                        }
                    }
                }
                defer { file.releasePages(of: source.name) }
                return try permuted.withUnsafeBytes {
                    try QuantizedMatrix(format: format, rows: rows, columns: columns, data: $0, source: label)
                }
            }
        }
    }

    /// The tokenizer, built from the metadata through the tokenizer.json loader.
    /// - Throws: `TokenizerError` naming the file.
    public func loadTokenizer() throws -> Tokenizer {
        try Tokenizer(data: Data(tokenizer.tokenizerJSON.serialized().utf8), source: file.url.path + " (tokenizer metadata)",
                      configuration: Data(tokenizer.configurationJSON.serialized().utf8),
                      configurationSource: file.url.path + " (tokenizer metadata)")
    }

    /// The chat template of `tokenizer.chat_template`, or nil when the file has none.
    /// - Throws: `ChatTemplateError` when the template cannot be parsed.
    public func chatTemplate() throws -> ChatTemplate? {
        guard tokenizer.configurationJSON["chat_template"] != nil else { return nil }
        return try ChatTemplate(tokenizerConfiguration: Data(tokenizer.configurationJSON.serialized().utf8),
                                source: file.url.path + " (tokenizer.chat_template)")
    }

    /// End-of-sequence ids: the tokenizer's eos token (GGUF files have no generation_config.json).
    public var endOfSequenceTokens: [Int32] { file["tokenizer.ggml.eos_token_id"]?.intValue.flatMap(Int32.init(exactly:)).map { [$0] } ?? [] }

    /// Writes a Hugging Face folder transformers loads: config.json and model.safetensors (`dtype`, through the
    /// loaded `model`'s own writer), tokenizer.json, tokenizer_config.json (with the chat template) and generation_config.json.
    /// - Throws: the errors of ``loadModel()`` and of writing.
    public func convert(to directory: URL, model: any CausalLanguageModel, dtype: SafeTensorsDType = .float32) throws {
        try PretrainedModel.save(model, to: directory, dtype: dtype)
        try writeCompanionFiles(to: directory)
    }

    /// Writes tokenizer.json, tokenizer_config.json and generation_config.json (the companion files a model folder
    /// saved from this file gets, as ``PretrainedModel/copyCompanionFiles(from:to:)`` copies a folder's).
    public func writeCompanionFiles(to directory: URL) throws {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        func write(_ value: JSONValue, _ name: String) throws {
            try AtomicFile.write(Data((value.serialized(.indented) + "\n").utf8), to: directory.appendingPathComponent(name))
        }
        try write(tokenizer.tokenizerJSON, "tokenizer.json")
        try write(tokenizer.configurationJSON, "tokenizer_config.json")
        var generation: [JSON.JSONValue.Member] = []
        for (key, metadata) in [("bos_token_id", "tokenizer.ggml.bos_token_id"), ("eos_token_id", "tokenizer.ggml.eos_token_id"),
                                ("pad_token_id", "tokenizer.ggml.padding_token_id")] {
            if let id = file[metadata]?.intValue { generation.append(.init(key, .integer(id))) }
        }
        try write(.object(generation), "generation_config.json")
    }

    private func decode<Configuration: CheckpointConfiguration>(_ type: Configuration.Type) throws -> Configuration {
        do {
            let configuration = try JSONDecoder().decode(type, from: configurationData)
            try configuration.validate()
            return configuration
        } catch let error as DecodingError {
            throw CheckpointError("\(file.url.path): the configuration its metadata implies is invalid: \(PretrainedModel.describe(error))")
        } catch {
            throw CheckpointError("\(file.url.path): the configuration its metadata implies is invalid: \(error)")
        }
    }

    /// Requires every tensor of `layout` with its shape, before anything is allocated.
    private func check(_ layout: CheckpointLayout) throws {
        try layout.forEach { entry in
            guard let shape = shape(entry.name) else {
                throw CheckpointError("\(file.url.path): no tensor \"\(sources[entry.name]?.name ?? entry.name)\" (transformers' \(entry.name)), "
                                      + "which the metadata implies")
            }
            guard shape == entry.shape else {
                throw CheckpointError("\(file.url.path): tensor \"\(sources[entry.name]?.name ?? entry.name)\" has shape \(shape) as "
                                      + "\(entry.name), the metadata implies \(entry.shape)")
            }
            if let info = sources[entry.name].flatMap({ file.tensor($0.name) }), !info.type.isSupported {
                throw GGUFError.unsupportedTensorType(file: file.url.path, tensor: info.name, type: info.type.name)
            }
        }
    }
}
