import Foundation
import JSON
import SafeTensors
import Settings
import Tokenizers

/// A Hugging Face model folder, read and checked before any weight is allocated, in the order that reports a
/// mistake most clearly: config.json parsed and every field validated; the model's memory estimated from
/// config.json and compared with the machine's; the checkpoint header's names, shapes and dtypes compared with the
/// tensors config.json implies; the tokenizer's largest id compared with the embedding's rows.
struct ModelFolder {
    let directory: URL
    let configURL: URL
    /// config.json's bytes and its parsed object.
    let configData: Data
    let config: JSONValue
    /// config.json's `model_type`, when it is a string.
    let modelType: String?

    /// Reads and parses config.json (nothing else yet).
    /// - Throws: `CheckpointError` naming the file.
    init(directory: URL) throws {
        self.directory = directory
        configURL = directory.appendingPathComponent("config.json")
        guard let data = try? Data(contentsOf: configURL) else {
            var isDirectory: ObjCBool = false
            if !FileManager.default.fileExists(atPath: directory.path, isDirectory: &isDirectory) || !isDirectory.boolValue {
                throw CheckpointError("Cannot read '\(directory.path)': no such folder. Check the path.")
            }
            if AdaptedModelFolder.isAdapter(directory) {
                let base = (try? LoRA.loadConfiguration(from: directory))?.baseModelNameOrPath ?? "BASE"
                throw CheckpointError("\(directory.path) is a PEFT adapter folder (adapter_config.json, base model \"\(base)\"), not a full "
                                      + "model: here it needs the base with --model (and the adapter with --lora or, for dpo, --adapter), "
                                      + "or the two folded into one: charter merge --model \(base) --lora \(directory.path) --output MERGED")
            }
            throw CheckpointError("\(configURL.path): cannot read config.json (is \(directory.path) a Hugging Face model folder?)")
        }
        let value: JSONValue
        do { value = try JSONParser.parse(data) } catch let error as JSONSyntaxError {
            throw CheckpointError("\(configURL.path): not a JSON object (\(error))")
        }
        guard case .object = value else { throw CheckpointError("\(configURL.path): not a JSON object (found a \(value.typeName))") }
        configData = data
        config = value
        modelType = value["model_type"]?.stringValue
    }

    /// The configuration in config.json, validated.
    /// - Throws: `CheckpointError` naming the file, the key and the value (and any size key left at its default).
    func configuration<Configuration: CheckpointConfiguration>(_ type: Configuration.Type) throws -> Configuration {
        let configuration: Configuration
        do {
            configuration = try JSONDecoder().decode(type, from: configData)
            try configuration.validate()
        } catch let error as SettingsError {
            throw CheckpointError("\(configURL.path): \(error)" + defaultsNote(type))
        } catch let error as DecodingError {
            throw CheckpointError("\(configURL.path): \(PretrainedModel.describe(error))")
        }
        return configuration
    }

    /// " (config.json does not set n_head, so transformers' default 12 was used)", or "" when every size key is set.
    func defaultsNote<Configuration: CheckpointConfiguration>(_ type: Configuration.Type) -> String {
        let absent = type.sizeKeys.filter { config[$0] == nil }
        guard !absent.isEmpty else { return "" }
        let defaults = (try? JSONEncoder().encode(Configuration())).flatMap { try? JSONParser.parse($0) }
        let values = absent.map { key in defaults?[key].map { "\(key) = \($0.serialized())" } ?? key }
        return " (config.json does not set \(absent.joined(separator: ", ")), so transformers' default"
            + (absent.count == 1 ? " " : "s ") + values.joined(separator: ", ") + (absent.count == 1 ? " was" : " were") + " used)"
    }

    /// Checks the checkpoint against `layout` before the model is built: memory first (config.json alone can ask for
    /// terabytes), then every tensor's presence, shape and dtype, then the tokenizer's ids.
    /// - Parameters:
    ///   - resolve: the checkpoint's name for a layout name (GPT-2 folders may lack the `transformer.` prefix), or nil.
    ///   - optional: names that may be absent (a sequence classifier's new `score` head).
    /// - Throws: `CheckpointError` or `SafeTensorsError` naming the tensor, the shapes or the sizes.
    func check<Configuration: CheckpointConfiguration>(_ configuration: Configuration, layout: CheckpointLayout,
                                                       tensors: ShardedSafeTensors, optional: Set<String> = [],
                                                       tokenizer: Tokenizer?, resolve: (String) -> String?) throws {
        try checkMemory(layout: layout, tensors: tensors, note: defaultsNote(Configuration.self))
        try layout.forEach { entry in
            guard let name = resolve(entry.name) else {
                if optional.contains(entry.name) { return }
                throw CheckpointError("\(directory.path): checkpoint has no tensor \"\(entry.name)\" needed by this config.json"
                                      + defaultsNote(Configuration.self))
            }
            let info = try tensors.info(name)
            guard info.shape == entry.shape else {
                throw CheckpointError("\(directory.path): tensor \"\(name)\" has shape \(info.shape), config.json implies \(entry.shape)"
                                      + defaultsNote(Configuration.self))
            }
            guard info.dtype.isFloatingPoint else {
                throw SafeTensorsError.notFloatingPoint(file: try tensors.file(containing: name).url.path, tensor: name, dtype: info.dtype.rawValue)
            }
            guard info.dtype.isConvertibleToFloat else {
                throw SafeTensorsError.unsupportedDType(file: try tensors.file(containing: name).url.path, tensor: name, dtype: info.dtype.rawValue)
            }
        }
        if let tokenizer { try checkTokenizer(tokenizer, vocabularySize: configuration.vocabularySize) }
    }

    /// Refuses a model whose float32 parameters alone exceed the machine's physical memory.
    /// - Throws: `CheckpointError` naming the estimate, the machine's memory and what the checkpoint holds.
    /// - Parameter note: appended to the message (which size keys took defaults).
    func checkMemory(layout: CheckpointLayout, tensors: ShardedSafeTensors, note: String = "",
                     physicalMemory: Double = Double(ProcessInfo.processInfo.physicalMemory)) throws {
        let parameters = layout.parameterCount
        let bytes = parameters * Double(MemoryLayout<Float>.size)
        guard bytes > physicalMemory else { return }
        let stored = tensors.names.reduce(0.0) { total, name in total + ((try? tensors.info(name)).map { CheckpointLayout.elementCount($0.shape) } ?? 0) }
        let hint = stored * 2 < parameters
            ? "; the checkpoint holds only \(Self.count(stored)) parameters, so config.json's sizes do not match the weights"
            : "; use a smaller model or a machine with more memory"
        throw CheckpointError("\(configURL.path): the model it describes needs about \(Self.bytes(bytes)) (\(Self.count(parameters)) "
                              + "parameters × 4 bytes, float32), more than this machine's \(Self.bytes(physicalMemory)) of physical memory"
                              + hint + note)
    }

    /// Refuses a tokenizer that can produce an id with no embedding row.
    /// - Throws: `CheckpointError` naming the token, its id and the embedding's rows.
    func checkTokenizer(_ tokenizer: Tokenizer, vocabularySize: Int) throws {
        try Self.checkTokenizer(tokenizer, vocabularySize: vocabularySize, source: directory.path)
    }

    /// Refuses a tokenizer that can produce an id with no embedding row; `source` names the model in the message.
    static func checkTokenizer(_ tokenizer: Tokenizer, vocabularySize: Int, source: String) throws {
        guard let largest = tokenizer.largestTokenId, largest.id >= vocabularySize else { return }
        throw CheckpointError("\(source): the tokenizer's token \"\(largest.token)\" has id \(largest.id), but the model's embedding "
                              + "has \(vocabularySize) rows (vocab_size in config.json), so ids must be below \(vocabularySize); "
                              + "resize the embedding (transformers' model.resize_token_embeddings(len(tokenizer))) or remove the token")
    }

    /// The folder's tokenizer when it has one this library reads (nil otherwise: whoever uses the tokenizer loads it
    /// and reports why it cannot).
    var tokenizerIfReadable: Tokenizer? {
        guard FileManager.default.fileExists(atPath: directory.appendingPathComponent("tokenizer.json").path) else { return nil }
        return try? Tokenizer(directory: directory)
    }

    /// "4.0 TB", "15.6 GB", "512.0 MB".
    static func bytes(_ value: Double) -> String {
        let units = ["bytes", "KB", "MB", "GB", "TB", "PB", "EB"]
        var scaled = value, unit = 0
        while scaled >= 1000 && unit < units.count - 1 { scaled /= 1000; unit += 1 }
        return unit == 0 ? "\(Int(scaled)) bytes" : String(format: "%.1f", scaled) + " " + units[unit]
    }

    /// "1.2e+12" for large counts, the number itself below a million.
    static func count(_ value: Double) -> String {
        value < 1e6 ? "\(Int(value))" : String(format: "%.2g", value)
    }
}
