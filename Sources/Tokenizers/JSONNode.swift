import Foundation
import JSON

/// A JSON value together with its path in the document, so every accessor can throw an error
/// that names the exact field (`model.merges[12]`, `pre_tokenizer.pretokenizers[1].type`).
struct JSONNode {
    /// The value, or `nil` when the field is absent.
    let value: JSONValue?
    /// Dotted path from the document root.
    let path: String

    init(_ value: JSONValue?, path: String) {
        self.value = value
        self.path = path
    }

    /// True when the field is absent or `null`.
    var isNull: Bool {
        if case .some(.null) = value { return true }
        return value == nil
    }

    /// The member `key` of an object (absent members give a node whose `value` is nil).
    subscript(key: String) -> JSONNode {
        let childPath = path.isEmpty ? key : "\(path).\(key)"
        guard case let .some(.object(members)) = value else { return JSONNode(nil, path: childPath) }
        let member = members.first { $0.key == key && $0.key.utf8.elementsEqual(key.utf8) }
        return JSONNode(member?.value, path: childPath)
    }

    private func mismatch(_ expected: String) -> TokenizerError {
        guard let value = value else { return .missingField(path: path) }
        return .wrongType(path: path, expected: expected, found: value.describedType)
    }

    func string() throws -> String {
        guard case let .some(.string(s)) = value else { throw mismatch("a string") }
        return s
    }

    /// The string, or nil when absent/null; any other type is an error.
    func optionalString() throws -> String? {
        if isNull { return nil }
        return try string()
    }

    func bool() throws -> Bool {
        guard case let .some(.bool(b)) = value else { throw mismatch("a boolean") }
        return b
    }

    func bool(default fallback: Bool) throws -> Bool {
        if isNull { return fallback }
        return try bool()
    }

    func double() throws -> Double {
        guard case let .some(.number(number)) = value else { throw mismatch("a number") }
        guard let n = number.doubleValue, n.isFinite else {
            throw TokenizerError.invalidValue(path: path, reason: "\(number) is not a finite number")
        }
        return n
    }

    /// An integer in `0 ... Int32.max` (token ids, counts, type ids).
    func nonNegativeInt() throws -> Int {
        guard case let .some(.number(number)) = value else { throw mismatch("a non-negative integer") }
        // Exact for integer literals; `3.0` and `3e0`, which some writers produce, read as 3 too.
        if let n = number.integerValue, n >= 0, n <= Int(Int32.max) { return n }
        guard number.integerValue == nil, let n = number.doubleValue, n >= 0, n <= Double(Int32.max), n == n.rounded() else {
            throw TokenizerError.invalidValue(path: path, reason: "\(number) is not a non-negative integer")
        }
        return Int(n)
    }

    func nonNegativeInt(default fallback: Int) throws -> Int {
        if isNull { return fallback }
        return try nonNegativeInt()
    }

    func array() throws -> [JSONNode] {
        guard case let .some(.array(items)) = value else { throw mismatch("an array") }
        return items.enumerated().map { JSONNode($1, path: "\(path)[\($0)]") }
    }

    /// Object members in file order.
    func members() throws -> [(key: String, node: JSONNode)] {
        guard case let .some(.object(members)) = value else { throw mismatch("an object") }
        let prefix = path.isEmpty ? "" : "\(path)."
        return members.map { ($0.key, JSONNode($0.value, path: "\(prefix)\($0.key)")) }
    }

    /// Reads the `type` member and checks it against the supported names.
    func typeTag(supported: [String]) throws -> String {
        let tagNode = self["type"]
        let tag = try tagNode.string()
        guard supported.contains(tag) else {
            throw TokenizerError.unsupported(path: tagNode.path, value: tag, supported: supported)
        }
        return tag
    }
}

extension JSONValue {
    /// Parses a `tokenizer.json` (or config) document, skipping a UTF-8 byte order mark.
    /// - Parameter source: names the input in error messages (usually a file path).
    /// - Throws: `TokenizerError.malformedJSON` with the byte offset of the first problem.
    static func parse(_ data: Data, source: String) throws -> JSONValue {
        let bom: [UInt8] = [0xEF, 0xBB, 0xBF]
        let skipped = data.starts(with: bom) ? bom.count : 0
        do {
            return try JSONParser.parse(data.dropFirst(skipped))
        } catch let error as JSONSyntaxError {
            throw TokenizerError.malformedJSON(source: source, offset: skipped + error.offset, reason: error.reason)
        }
    }

    /// The JSON type with its article, for error messages ("a string", "an array").
    var describedType: String {
        switch self {
        case .null: return "null"
        case .bool: return "a boolean"
        case .number: return "a number"
        case .string: return "a string"
        case .array: return "an array"
        case .object: return "an object"
        }
    }
}
