import Foundation
import JSON

/// Names of the conventional special tokens.
struct SpecialTokenNames {
    var bos: String?
    var eos: String?
    var pad: String?
    var unk: String?

    /// Overrides the names a `tokenizer_config.json` or `special_tokens_map.json` sets (null or absent keys keep theirs).
    /// - Throws: `TokenizerError.invalidConfiguration` naming `source` and the key when the document is not an
    ///   object or a token is neither a string nor an object with a string `content`.
    mutating func override(with data: Data, source: String) throws {
        let root = try JSONValue.parse(data, source: source)
        guard case let .object(members) = root else {
            throw TokenizerError.invalidConfiguration(
                file: source, key: nil, reason: "the document should be a JSON object but is \(root.describedType)")
        }
        func name(_ key: String) throws -> String? {
            let node = JSONNode(members.first { $0.key.utf8.elementsEqual(key.utf8) }?.value, path: key)
            if node.isNull { return nil }
            if case let .some(.string(token)) = node.value { return token }
            if case .some(.object) = node.value, case let .some(.string(token)) = node["content"].value { return token }
            var found = node.value?.describedType ?? "missing"
            if case .some(.object) = node.value {
                found = node["content"].value.map { "an object whose content is \($0.describedType)" } ?? "an object without content"
            }
            throw TokenizerError.invalidConfiguration(
                file: source, key: key, reason: "should be a token string or an object with a string \"content\" but is \(found)")
        }
        bos = try name("bos_token") ?? bos
        eos = try name("eos_token") ?? eos
        pad = try name("pad_token") ?? pad
        unk = try name("unk_token") ?? unk
    }
}

extension Tokenizer {
    /// Loads a `tokenizer.json` file.
    /// - Parameter url: a `tokenizer.json` file, or a directory holding one (then its
    ///   `special_tokens_map.json` and `tokenizer_config.json`, if present, supply bos/eos/pad/unk).
    /// - Throws: `TokenizerError` when the file is unreadable, malformed or uses unsupported components.
    public convenience init(url: URL) throws {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory), isDirectory.boolValue {
            try self.init(directory: url)
            return
        }
        try self.init(data: try Tokenizer.read(url), source: url.path)
    }

    /// Loads `tokenizer.json` from a model directory, with bos/eos/pad/unk names from
    /// `special_tokens_map.json` and then `tokenizer_config.json` (which wins) when present.
    /// - Throws: `TokenizerError` when a file is unreadable, malformed or uses unsupported components.
    public convenience init(directory: URL) throws {
        let file = directory.appendingPathComponent("tokenizer.json")
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory.path, isDirectory: &isDirectory) else {
            throw TokenizerError.unreadableFile(path: directory.path, reason: "no such folder")
        }
        if isDirectory.boolValue, !FileManager.default.fileExists(atPath: file.path) {
            throw TokenizerError.noTokenizer(directory: directory.path)
        }
        let configurations = try ["special_tokens_map.json", "tokenizer_config.json"].compactMap { name -> (Data, String)? in
            let url = directory.appendingPathComponent(name)
            guard FileManager.default.fileExists(atPath: url.path) else { return nil }
            return (try Tokenizer.read(url), url.path)
        }
        try self.init(data: try Tokenizer.read(file), source: file.path, configurations: configurations)
    }

    /// Parses `tokenizer.json` bytes.
    /// - Parameters:
    ///   - data: the contents of a `tokenizer.json`.
    ///   - source: names the input in error messages.
    ///   - configuration: optional `tokenizer_config.json` contents (bos/eos/pad/unk tokens).
    /// - Throws: `TokenizerError` naming the JSON path of the first problem.
    public convenience init(data: Data, source: String = "tokenizer.json", configuration: Data? = nil,
                            configurationSource: String = "tokenizer_config.json") throws {
        try self.init(data: data, source: source, configurations: configuration.map { [($0, configurationSource)] } ?? [])
    }

    /// Parses `tokenizer.json` bytes; later configuration files override earlier ones.
    convenience init(data: Data, source: String, configurations: [(data: Data, source: String)]) throws {
        let root = JSONNode(try JSONValue.parse(data, source: source), path: "")
        _ = try root.members()  // the document must be an object

        let normalizer = root["normalizer"].isNull ? nil : try Normalizer(node: root["normalizer"])
        let preTokenizer = root["pre_tokenizer"].isNull ? nil : try PreTokenizer(node: root["pre_tokenizer"])
        let model = try BPEModel(node: root["model"])
        let postProcessor = root["post_processor"].isNull ? nil : try PostProcessor(node: root["post_processor"])
        let decoder = root["decoder"].isNull ? nil : try TokenDecoder(node: root["decoder"])
        let truncation = root["truncation"].isNull ? nil : try Truncation(node: root["truncation"])
        let padding = root["padding"].isNull ? nil : try Padding(node: root["padding"])
        let addedTokens = root["added_tokens"].isNull ? [] : try root["added_tokens"].array().map { try AddedToken(node: $0) }

        // Defaults from the file itself, overridden by tokenizer_config.json.
        var names = SpecialTokenNames(unk: model.unknownToken)
        let tokenById: (Int) -> String? = { id in
            addedTokens.first { $0.id == id }?.content ?? model.tokensById[id]
        }
        if let surrounding = postProcessor?.surroundingIds {
            names.bos = surrounding.leading.first.flatMap(tokenById)
            names.eos = surrounding.trailing.last.flatMap(tokenById)
        }
        for configuration in configurations {
            try names.override(with: configuration.data, source: configuration.source)
        }
        self.init(normalizer: normalizer, preTokenizer: preTokenizer, model: model, addedTokens: addedTokens,
                  postProcessor: postProcessor, decoder: decoder, truncation: truncation, padding: padding,
                  specialTokens: names)
    }

    static func read(_ url: URL) throws -> Data {
        do {
            return try Data(contentsOf: url)
        } catch {
            throw TokenizerError.unreadableFile(path: url.path, reason: error.localizedDescription)
        }
    }
}
