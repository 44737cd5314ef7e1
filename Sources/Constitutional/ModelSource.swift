import Foundation
import JSON
import LanguageModels
import Settings
import Yams

/// Where a stage's model comes from: a local Hugging Face folder, or a list of OpenAI-compatible endpoints.
/// In recipes: `model: path/to/folder`, `model: {path: …, chat_template: …, lora: …}`,
/// `model: {endpoints: endpoints.yaml}`, or `model: stage:NAME` (the folder a training stage wrote).
public enum ModelSource: Codable, Equatable, Sendable {
    case local(path: String, chatTemplate: String?, lora: String?)
    case endpoints(configuration: String)

    enum CodingKeys: String, CodingKey { case path, chatTemplate = "chat_template", lora, endpoints }

    public init(from decoder: Decoder) throws {
        if let path = try? decoder.singleValueContainer().decode(String.self) {
            self = .local(path: path, chatTemplate: nil, lora: nil)
            return
        }
        let c = try decoder.container(keyedBy: CodingKeys.self)
        if let endpoints = try c.decodeIfPresent(String.self, forKey: .endpoints) {
            self = .endpoints(configuration: endpoints)
        } else {
            self = .local(path: try c.decode(String.self, forKey: .path), chatTemplate: try c.decodeIfPresent(String.self, forKey: .chatTemplate),
                          lora: try c.decodeIfPresent(String.self, forKey: .lora))
        }
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        switch self {
        case let .local(path, chatTemplate, lora):
            try c.encode(path, forKey: .path)
            try c.encodeIfPresent(chatTemplate, forKey: .chatTemplate)
            try c.encodeIfPresent(lora, forKey: .lora)
        case let .endpoints(configuration):
            try c.encode(configuration, forKey: .endpoints)
        }
    }

    /// The path (folder or endpoints file) this source names.
    public var path: String {
        switch self {
        case let .local(path, _, _): return path
        case let .endpoints(configuration): return configuration
        }
    }

    /// The same source with its path replaced (for `stage:NAME` references).
    public func resolving(_ path: String) -> ModelSource {
        switch self {
        case let .local(_, chatTemplate, lora): return .local(path: path, chatTemplate: chatTemplate, lora: lora)
        case .endpoints: return .endpoints(configuration: path)
        }
    }
}

/// Connects to the OpenAI-compatible endpoints an endpoints file describes. The file's contents arrive as JSON
/// (read from YAML or JSON by ``ModelFactory/endpointsJSON(_:)``); the layer that has an HTTP client supplies this
/// (the CLI uses charter's `OpenAIClient`, whose `EndpointConfiguration` keys the file has: `urls`, `model`,
/// `api_key_env`, `max_concurrency`, `timeout_s`, …), so the Constitutional layer needs no network code.
public typealias EndpointConnector = @Sendable (_ configuration: Data, _ file: String) throws -> [any LanguageModel]

/// Builds the models a stage runs on. The one place that knows the concrete `LanguageModel` types.
public enum ModelFactory {
    /// Loads a local folder (one model, requests served in turn, reusing prompt prefixes within `prefixCacheBytes`
    /// of keys and values; 0: no prefix cache) or connects to an endpoints file with `connect`.
    public static func make(_ source: ModelSource, connect: EndpointConnector? = nil,
                            prefixCacheBytes: Int = PrefixCache.defaultByteBudget) throws -> [any LanguageModel] {
        switch source {
        case let .local(path, chatTemplate, lora):
            let directory = URL(fileURLWithPath: path)
            guard FileManager.default.fileExists(atPath: directory.appendingPathComponent("config.json").path) else {
                throw ConstitutionalError("\(path) is not a model folder (no config.json); give a Hugging Face folder or {endpoints: FILE}")
            }
            return [try LocalLanguageModel.load(directory: directory, chatTemplate: chatTemplate, lora: lora.map { URL(fileURLWithPath: $0) },
                                                prefixCacheBytes: prefixCacheBytes)]
        case let .endpoints(file):
            guard let connect else {
                throw ConstitutionalError("\(file): endpoint models need an HTTP client; run through charter's commands (which connect with its OpenAI client) or pass an EndpointConnector")
            }
            return try connect(try endpointsJSON(file), file)
        }
    }

    /// An endpoints file (YAML, or JSON which is YAML) as JSON data.
    /// - Throws: ``ConstitutionError`` naming the file when it cannot be read or is not a mapping.
    public static func endpointsJSON(_ file: String) throws -> Data {
        let text: String
        do { text = try String(contentsOfFile: file, encoding: .utf8) } catch {
            throw ConstitutionError(file: file, path: "", "cannot read the endpoints file (\(error.localizedDescription))")
        }
        let value: Any?
        do {
            try YAMLPrecheck.check(text, file: file)
            value = try Yams.load(yaml: text)
        } catch let error as YAMLLimitError {
            throw ConstitutionError(file: file, yaml: error)
        } catch {
            throw ConstitutionError(file: file, path: "", "not valid YAML or JSON: \(error)")
        }
        guard let mapping = value as? [String: Any] else {
            throw ConstitutionError(file: file, path: "", "expected a mapping such as {urls: [http://127.0.0.1:8000/v1], model: NAME}")
        }
        if let path = nonFinitePath(mapping, "") {
            throw ConstitutionError(file: file, path: path, "must be a finite number (JSON has no NaN or infinity)")
        }
        do {
            return Data(try JSONValue(foundation: mapping).serialized().utf8)
        } catch {
            throw ConstitutionError(file: file, path: "", "holds values JSON cannot express (\(error))")
        }
    }

    /// The field path of the first NaN or infinite number in a YAML value, if any.
    static func nonFinitePath(_ value: Any, _ path: String) -> String? {
        switch value {
        case let number as Double: return number.isFinite ? nil : (path.isEmpty ? "(value)" : path)
        case let mapping as [String: Any]:
            return mapping.sorted { $0.key < $1.key }.lazy.compactMap { nonFinitePath($0.value, path.isEmpty ? $0.key : "\(path).\($0.key)") }.first
        case let list as [Any]:
            return list.enumerated().lazy.compactMap { nonFinitePath($0.element, "\(path)[\($0.offset)]") }.first
        default: return nil
        }
    }
}
