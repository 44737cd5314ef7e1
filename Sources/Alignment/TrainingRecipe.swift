import Foundation
import JSON
import Settings
import Tensors
import Yams

/// A trainer's settings as TRL recipe keys (`learning_rate`, `beta`, `lora_r`, …): read from a `recipe.yaml`, with
/// command-line values laid over it, checked against the keys a trainer knows and decoded into its configuration.
///
/// ```swift
/// var recipe = try TrainingRecipe(file: "dpo.yaml", allowedKeys: DPOConfiguration.keys + TrainingRecipe.modelKeys)
/// try recipe.override(["beta": 0.2])                  // flags win over the file
/// let configuration = try recipe.decode(DPOConfiguration.self)
/// ```
public struct TrainingRecipe {
    /// Keys TRL's `ModelConfig` and script arguments put in the same YAML: the model, datasets and LoRA settings.
    public static let modelKeys = ["model_name_or_path", "ref_model", "dataset_name", "eval_dataset_name", "chat_template_name",
                                   "use_peft", "lora_r", "lora_alpha", "lora_dropout", "lora_target_modules",
                                   "dataset_train_split", "dataset_test_split", "datasets"]

    /// Values by key (YAML scalars and lists: String, Int, Double, Bool, NSNull, [Any]).
    public private(set) var values: [String: Any] = [:]
    public let allowedKeys: Set<String>
    /// The file the values came from (for messages), if any.
    public let source: String?
    /// One line per TRL key read but not acted on (``foreignKeys``), for the command to print.
    public private(set) var notes: [String] = []

    /// An empty recipe (defaults everywhere).
    public init(allowedKeys: [String]) {
        self.allowedKeys = Set(allowedKeys)
        source = nil
    }

    /// Reads a YAML mapping of recipe keys.
    /// - Throws: `SettingsError` naming the file and the key for unreadable YAML, a key the trainer does not know
    ///   (with the known keys listed) or a nested mapping.
    public init(file path: String, allowedKeys: [String]) throws {
        self.allowedKeys = Set(allowedKeys)
        source = path
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw SettingsError(key: path, message: "cannot read the recipe file")
        }
        try YAMLPrecheck.check(text, file: path)
        let loaded: Any?
        do { loaded = try Yams.load(yaml: text) } catch {
            throw SettingsError(key: path, message: "not valid YAML: \(error)")
        }
        guard let mapping = loaded as? [String: Any] ?? (loaded == nil ? [:] : nil) else {
            throw SettingsError(key: path, message: "must be a mapping of TRL keys to values (e.g. `beta: 0.1`)")
        }
        for (key, value) in mapping.sorted(by: { $0.key < $1.key }) { try set(key, value) }
    }

    /// Lays `overrides` over the recipe (command-line flags win over the file).
    public mutating func override(_ overrides: [String: Any]) throws {
        for (key, value) in overrides.sorted(by: { $0.key < $1.key }) { try set(key, value) }
    }

    /// Parses `KEY=VALUE` (VALUE as a YAML scalar or flow list) and overrides it.
    public mutating func override(assignment: String) throws {
        guard let equals = assignment.firstIndex(of: "=") else {
            throw SettingsError(key: assignment, message: "expected KEY=VALUE")
        }
        let key = String(assignment[..<equals]), text = String(assignment[assignment.index(after: equals)...])
        try YAMLPrecheck.check(text, file: "--set \(key)")
        let value = (try? Yams.load(yaml: text)).flatMap { $0 } ?? NSNull()
        try set(key, value)
    }

    private mutating func set(_ key: String, _ value: Any) throws {
        let where_ = source.map { "\($0): " } ?? ""
        if key == "chat_template_path", !allowedKeys.contains(key), let path = value as? String {
            try setChatTemplatePath(path, where: where_)
            return
        }
        if !allowedKeys.contains(key), let foreign = Self.foreignKeys[key] {
            let text = Self.yamlText(value)
            switch foreign {
            case let .ignored(reason):
                notes.removeAll { $0.hasPrefix("\(key): ") }
                notes.append("\(key): \(text.count > 40 ? SettingsError.quoted(text) : text) is read and not used: \(reason)")
            case let .only(accepted, reason) where !accepted.contains(text):
                throw SettingsError(key: key, message: "\(where_)\(SettingsError.quoted(text)) is not supported: \(reason) (accepted: \(accepted.joined(separator: ", ")))")
            case .only: break
            }
            values[key] = value
            return
        }
        guard allowedKeys.contains(key) else {
            let suggestion = Suggestion.phrase(for: key, among: allowedKeys.sorted())
            throw SettingsError(key: key, message: "\(where_)unknown key;\(suggestion) known keys: \(allowedKeys.sorted().joined(separator: ", "))")
        }
        guard !(value is [String: Any]) else {
            throw SettingsError(key: key, message: "nested mappings are not supported; give a scalar or a list")
        }
        if let number = ((value as? [Any]) ?? [value]).compactMap({ ($0 as? Double) ?? ($0 as? Float).map(Double.init) }).first(where: { !$0.isFinite }) {
            throw SettingsError(key: key, message: "must be a finite number (got \(number.isNaN ? ".nan" : number < 0 ? "-.inf" : ".inf"))")
        }
        // YAML 1.1 reads `1e-6` (no dot) as a string; TRL recipes mean a number.
        if let text = value as? String, text.lowercased().contains("e"), text.first.map({ $0.isNumber || $0 == "." || $0 == "-" }) == true,
           let number = Double(text) {
            values[key] = number
            return
        }
        values[key] = value
    }

    /// TRL's `chat_template_path` as Charter reads it: a `.jinja`/`.j2` file becomes the recipe's chat template
    /// (`chat_template_name` takes a file as well as a built-in name), so every trainer's encoder loads it. TRL's
    /// other form, a tokenizer folder to clone (`clone_chat_template` adds its special tokens and resizes the
    /// embeddings), is refused.
    private mutating func setChatTemplatePath(_ path: String, where location: String) throws {
        guard path.hasSuffix(".jinja") || path.hasSuffix(".j2") else {
            throw SettingsError(key: "chat_template_path", message: "\(location)\(SettingsError.quoted(path)) is not supported: Charter reads a .jinja or .j2 template file; TRL's other form, a tokenizer to clone the template and special tokens from, is not implemented (save that tokenizer's chat_template.jinja and give its path)")
        }
        guard allowedKeys.contains("chat_template_name") else {
            throw SettingsError(key: "chat_template_path", message: "\(location)this command reads no chat template")
        }
        if let name = values["chat_template_name"] as? String, name != path {
            throw SettingsError(key: "chat_template_path", message: "\(location)the recipe also sets chat_template_name: \(name); give one of them")
        }
        values["chat_template_name"] = path
        notes.removeAll { $0.hasPrefix("chat_template_path: ") }
        notes.append("chat_template_path: \(path) is read as the chat template (a built-in format's template renders natively)")
    }

    /// The value of a key, if set.
    public subscript(key: String) -> Any? { values[key] is NSNull ? nil : values[key] }

    /// Decodes a trainer configuration (keys it does not read, such as `modelKeys` and ``foreignKeys``, are ignored).
    /// - Throws: `SettingsError` naming the key whose value has the wrong type.
    public func decode<T: Decodable>(_ type: T.Type) throws -> T {
        let members = try values.filter { allowedKeys.contains($0.key) && !TrainingRecipe.modelKeys.contains($0.key) }.sorted { $0.key < $1.key }
            .map { JSONValue.Member($0.key, try Self.json($0.value, key: $0.key)) }
        let data = Data(JSONValue.object(members).serialized().utf8)
        do {
            return try JSONDecoder().decode(T.self, from: data)
        } catch let error as DecodingError {
            switch error {
            case .typeMismatch(_, let context), .valueNotFound(_, let context), .keyNotFound(_, let context), .dataCorrupted(let context):
                let key = context.codingPath.first?.stringValue ?? "recipe"
                let value = values[key].map { " (got \($0))" } ?? ""
                throw SettingsError(key: key, message: "\(context.debugDescription)\(value)")
            @unknown default:
                throw SettingsError(key: "recipe", message: "\(error)")
            }
        }
    }

    /// A recipe value (a YAML scalar or list, or a flag's value) as JSON.
    /// - Throws: `SettingsError` naming `key` for a number JSON cannot hold (NaN, infinity).
    static func json(_ value: Any, key: String) throws -> JSONValue {
        switch value {
        case is NSNull: return .null
        case let flag as Bool: return .bool(flag)
        case let integer as any BinaryInteger: return .number(JSONNumber("\(integer)"))
        case let number as Double:
            guard number.isFinite else { throw SettingsError(key: key, message: "must be a finite number (got \(number))") }
            return .number(JSONNumber(number))
        case let number as Float: return try json(Double("\(number)") ?? Double(number), key: key)
        case let text as String: return .string(text)
        case let list as [Any]: return .array(try list.map { try json($0, key: key) })
        case let mapping as [String: Any]:
            return .object(try mapping.keys.sorted().map { JSONValue.Member($0, try json(mapping[$0] as Any, key: key)) })
        default: return .string("\(value)")
        }
    }

    static func jsonCompatible(_ value: Any) -> Any {
        switch value {
        case let list as [Any]: return list.map(jsonCompatible)
        case let mapping as [String: Any]: return mapping.mapValues(jsonCompatible)
        case is String, is Int, is Double, is Bool, is NSNull: return value
        case let number as NSNumber: return number
        default: return "\(value)"
        }
    }

    /// `configuration` encoded as recipe keys, plus the model keys set in this recipe: what a run actually used.
    public func effective<T: Encodable>(_ configuration: T) throws -> [String: Any] {
        var object = try JSONParser.parse(JSONEncoder().encode(configuration)).foundationValue as? [String: Any] ?? [:]
        for key in Self.modelKeys { if let value = values[key] { object[key] = Self.jsonCompatible(value) } }
        // The record says when the run had bf16 matmuls (the trainer commands' bf16: true, MatmulPrecision).
        if MatmulPrecision.current == .bfloat16 { object["bf16"] = true }
        return object
    }
}
