import Foundation
import LanguageModels
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
    func resolving(_ path: String) -> ModelSource {
        switch self {
        case let .local(_, chatTemplate, lora): return .local(path: path, chatTemplate: chatTemplate, lora: lora)
        case .endpoints: return .endpoints(configuration: path)
        }
    }
}

/// The client settings of an endpoint list (YAML or JSON):
///
/// ```yaml
/// endpoints:
///   - url: http://127.0.0.1:8000/v1
///     model: my-model
///     api_key_env: OPENAI_API_KEY   # optional: the environment variable holding the key
/// timeout: 120                      # seconds per request
/// ```
public struct EndpointsConfiguration: Codable, Equatable, Sendable {
    public struct Endpoint: Codable, Equatable, Sendable {
        public var url: String
        public var model: String
        public var apiKeyEnvironmentVariable: String?
        enum CodingKeys: String, CodingKey { case url, model, apiKeyEnvironmentVariable = "api_key_env" }
    }

    public var endpoints: [Endpoint]
    public var timeout: Double?

    /// Reads and checks an endpoints file.
    public static func load(_ url: URL) throws -> EndpointsConfiguration {
        let text: String
        do { text = try String(contentsOf: url, encoding: .utf8) } catch {
            throw ConstitutionError(file: url.path, path: "", "cannot read the endpoints file (\(error.localizedDescription))")
        }
        let configuration: EndpointsConfiguration
        do {
            configuration = try YAMLDecoder().decode(EndpointsConfiguration.self, from: text)
        } catch let error as DecodingError {
            throw ConstitutionError(file: url.path, problems: [Constitution.problem(error)])
        }
        guard !configuration.endpoints.isEmpty else { throw ConstitutionError(file: url.path, path: "endpoints", "must list at least one endpoint") }
        for (index, endpoint) in configuration.endpoints.enumerated() where URL(string: endpoint.url)?.scheme == nil {
            throw ConstitutionError(file: url.path, path: "endpoints[\(index)].url", "\"\(endpoint.url)\" is not a URL (e.g. http://127.0.0.1:8000/v1)")
        }
        return configuration
    }
}

/// Builds the models a stage runs on. The one place that knows the concrete `LanguageModel` types.
public enum ModelFactory {
    /// Loads a local folder (one model, requests served in turn) or connects to every endpoint of a list.
    public static func make(_ source: ModelSource) throws -> [any LanguageModel] {
        switch source {
        case let .local(path, chatTemplate, lora):
            let directory = URL(fileURLWithPath: path)
            guard FileManager.default.fileExists(atPath: directory.appendingPathComponent("config.json").path) else {
                throw ConstitutionalError("\(path) is not a model folder (no config.json); give a Hugging Face folder or {endpoints: FILE}")
            }
            return [try LocalLanguageModel.load(directory: directory, chatTemplate: chatTemplate, lora: lora.map { URL(fileURLWithPath: $0) })]
        case let .endpoints(file):
            return try endpointModels(try EndpointsConfiguration.load(URL(fileURLWithPath: file)), file: file)
        }
    }

    /// One client per endpoint of the list.
    ///
    /// The OpenAI-compatible client (issue 4) is not part of this build yet; when it lands, construct one client
    /// per `configuration.endpoints` entry here (url, model, api key from `api_key_env`, `timeout`) — nothing else
    /// in the Constitutional layer needs to change.
    static func endpointModels(_ configuration: EndpointsConfiguration, file: String) throws -> [any LanguageModel] {
        throw ConstitutionalError("\(file): endpoint models need the OpenAI-compatible client (charter's endpoints layer, issue 4), which this build does not include; use a local model folder (--model DIR) for now")
    }
}
