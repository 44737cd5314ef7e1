/// One key of a settings type: the key, the stored property it fills, and the values it accepts — written once,
/// so decoding, encoding, the list of known keys and the range checks all follow from it.
///
/// Reading: an absent key (or `null` for a non-optional value) keeps the current value; `null` makes an optional
/// value nil; a value of the wrong type is a `SettingsError` naming the key, the expected type and what was found.
public struct SettingsField<Root> {
    let keys: [String]
    let read: (inout Root, KeyedDecodingContainer<SettingsKey>) throws -> Void
    let write: (Root, inout KeyedEncodingContainer<SettingsKey>) throws -> Void
    let check: (Root) -> SettingsError?

    /// A field read and written with its own closures (for keys with several spellings or shapes).
    public init(keys: [String], read: @escaping (inout Root, KeyedDecodingContainer<SettingsKey>) throws -> Void,
                write: @escaping (Root, inout KeyedEncodingContainer<SettingsKey>) throws -> Void,
                check: @escaping (Root) -> SettingsError? = { _ in nil }) {
        self.keys = keys
        self.read = read
        self.write = write
        self.check = check
    }

    /// `key` fills `path`; `check` lists the values it accepts.
    /// - Parameter omitsNil: for optional values, leave the key out when the value is nil (otherwise `null`).
    public init<Value: Codable>(_ key: String, _ path: WritableKeyPath<Root, Value>, where check: SettingsCheck<Value>? = nil,
                                omitsNil: Bool = false) {
        let codingKey = SettingsKey(key)
        self.init(
            keys: [key],
            read: { root, container in
                guard container.contains(codingKey) else { return }
                if try container.decodeNil(forKey: codingKey) {
                    if let none = (Value.self as? any OptionalSettingsValue.Type)?.settingsNone as? Value { root[keyPath: path] = none }
                    return
                }
                root[keyPath: path] = try SettingsField.decode(Value.self, key: codingKey, from: container)
            },
            write: { root, container in
                let value = root[keyPath: path]
                if omitsNil, let optional = value as? any OptionalSettingsValue, optional.isNone { return }
                try container.encode(value, forKey: codingKey)
            },
            check: { root in SettingsField.problem(with: root[keyPath: path], key: key, check: check) })
    }

    /// `key` fills an optional `path`; `check` applies to a value that is present.
    public init<Wrapped: Codable>(_ key: String, _ path: WritableKeyPath<Root, Wrapped?>, where check: SettingsCheck<Wrapped>,
                                  omitsNil: Bool = false) {
        let wrappedCheck = check
        self.init(key, path, where: SettingsCheck<Wrapped?> { value in value.flatMap { wrappedCheck.problem($0) } },
                  omitsNil: omitsNil)
    }

    /// `key` holds one value or a list of them (Hugging Face's `eos_token_id`, TRL's `loss_type`); a single value
    /// is written back as itself when `writesSingleAsScalar`.
    public init<Element: Codable>(_ key: String, oneOrMany path: WritableKeyPath<Root, [Element]>,
                                  writesSingleAsScalar: Bool = false, where check: SettingsCheck<[Element]>? = nil) {
        let codingKey = SettingsKey(key)
        self.init(
            keys: [key],
            read: { root, container in
                if let values: [Element] = try SettingsField.oneOrMany(codingKey, in: container) { root[keyPath: path] = values }
            },
            write: { root, container in
                let values = root[keyPath: path]
                try SettingsField.write(values, codingKey, singleAsScalar: writesSingleAsScalar, to: &container)
            },
            check: { root in SettingsField.problem(with: root[keyPath: path], key: key, check: check) })
    }

    /// An optional `key` holding one value or a list of them; `null` or absent leaves nil.
    public init<Element: Codable>(_ key: String, oneOrMany path: WritableKeyPath<Root, [Element]?>,
                                  writesSingleAsScalar: Bool = true) {
        let codingKey = SettingsKey(key)
        self.init(
            keys: [key],
            read: { root, container in
                if let values: [Element] = try SettingsField.oneOrMany(codingKey, in: container) { root[keyPath: path] = values }
            },
            write: { root, container in
                guard let values = root[keyPath: path] else { return }
                try SettingsField.write(values, codingKey, singleAsScalar: writesSingleAsScalar, to: &container)
            })
    }

    /// The keys of another settings type read from and written to the same level (TRL's flat recipes: a DPO
    /// recipe holds the training arguments' keys beside its own).
    public static func flattened<Nested: KeyedSettings>(_ path: WritableKeyPath<Root, Nested>) -> SettingsField {
        SettingsField(
            keys: Nested.keys,
            read: { root, container in try root[keyPath: path].read(from: container) },
            write: { root, container in try root[keyPath: path].write(to: &container) },
            check: { root in
                do { try root[keyPath: path].checkRanges(); return nil } catch let error as SettingsError { return error } catch { return nil }
            })
    }

    /// What `check` finds wrong with `value`, as an error naming the key and the value.
    static func problem<Value>(with value: Value, key: String, check: SettingsCheck<Value>?) -> SettingsError? {
        guard let problem = check?.problem(value) else { return nil }
        return SettingsError(key: key, message: "\(problem) (got \(describe(value)))")
    }

    /// One value or a list at `key` (nil when absent or null).
    static func oneOrMany<Element: Decodable>(_ key: SettingsKey, in container: KeyedDecodingContainer<SettingsKey>) throws -> [Element]? {
        guard container.contains(key), try !container.decodeNil(forKey: key) else { return nil }
        if (try? container.nestedUnkeyedContainer(forKey: key)) != nil { return try decode([Element].self, key: key, from: container) }
        return [try decode(Element.self, key: key, from: container)]
    }

    static func write<Element: Encodable>(_ values: [Element], _ key: SettingsKey, singleAsScalar: Bool,
                                          to container: inout KeyedEncodingContainer<SettingsKey>) throws {
        if singleAsScalar && values.count == 1 {
            try container.encode(values[0], forKey: key)
        } else {
            try container.encode(values, forKey: key)
        }
    }

    /// The value at `key` as `type`, or nil when the key is absent or null — for fields read by their own closures,
    /// with a plain field's error for a value of the wrong type.
    /// - Throws: `SettingsError` naming the key, the expected type and what was found.
    public static func decodeIfPresent<Value: Decodable>(_ type: Value.Type, forKey key: SettingsKey,
                                                         in container: KeyedDecodingContainer<SettingsKey>) throws -> Value? {
        guard container.contains(key), try !container.decodeNil(forKey: key) else { return nil }
        return try decode(type, key: key, from: container)
    }

    /// Decodes `type` at `key`, turning Foundation's decoding errors into one naming the key and what it found.
    static func decode<Value: Decodable>(_ type: Value.Type, key: SettingsKey,
                                         from container: KeyedDecodingContainer<SettingsKey>) throws -> Value {
        do {
            return try container.decode(type, forKey: key)
        } catch let error as SettingsError {
            // A nested settings value's own key (`sampling:` → `top_p`) is named under this one: `sampling.top_p`.
            throw SettingsError(key: "\(key.stringValue).\(error.key)", message: error.message)
        } catch DecodingError.keyNotFound(let missing, _) {
            throw SettingsError(key: "\(key.stringValue).\(missing.stringValue)", message: "is required")
        } catch DecodingError.dataCorrupted(let context) where !context.codingPath.isEmpty {
            // A value type's own decoder rejected the value (an unknown enum name, say): keep its explanation.
            throw SettingsError(key: key.stringValue, message: "\(context.debugDescription) (got \(found(at: key, in: container)))")
        } catch {
            // Type mismatches, and numbers the type cannot hold (1.5 or 1e12 for an Int32, -1 for a UInt64).
            throw SettingsError(key: key.stringValue, message: "must be \(expectation(type)) (got \(found(at: key, in: container)))")
        }
    }

    /// "an integer", "a number", "true or false", … for the error message.
    static func expectation(_ type: Any.Type) -> String {
        let name = String(describing: type)
        switch name {
        case "Int", "Int32", "Int64", "UInt64", "UInt32", "UInt", "Optional<Int>", "Optional<UInt64>": return "a whole number"
        case "Float", "Double", "Optional<Float>", "Optional<Double>": return "a number"
        case "Bool", "Optional<Bool>": return "true or false"
        case "String", "Optional<String>": return "a string"
        default: return name.hasPrefix("Array<") ? "a list" : "a value of type \(name)"
        }
    }

    /// What the key holds, for the error message: the scalar itself when it is one.
    static func found(at key: SettingsKey, in container: KeyedDecodingContainer<SettingsKey>) -> String {
        if let text = try? container.decode(String.self, forKey: key) { return SettingsError.quoted(text) }
        if let number = try? container.decode(Double.self, forKey: key) { return "\(number)" }
        if let flag = try? container.decode(Bool.self, forKey: key) { return "\(flag)" }
        if (try? container.nestedUnkeyedContainer(forKey: key)) != nil { return "a list" }
        if (try? container.nestedContainer(keyedBy: SettingsKey.self, forKey: key)) != nil { return "a mapping" }
        return "a value of another type"
    }

    /// The value as a recipe would spell it: `null`, a quoted string, or the value itself.
    static func describe(_ value: Any) -> String {
        if let optional = value as? any OptionalSettingsValue {
            guard let wrapped = optional.wrappedValue else { return "null" }
            return describe(wrapped)
        }
        if let text = value as? String { return SettingsError.quoted(text) }
        let shown = "\(value)"
        return shown.count > SettingsError.shownValueLength ? String(shown.prefix(SettingsError.shownValueLength)) + "… (\(shown.count) characters)" : shown
    }
}

/// Lets a generic field tell an optional value and its `nil` apart from other values.
protocol OptionalSettingsValue {
    static var settingsNone: Self { get }
    var wrappedValue: Any? { get }
}

extension OptionalSettingsValue {
    var isNone: Bool { wrappedValue == nil }
}

extension Optional: OptionalSettingsValue {
    static var settingsNone: Self { nil }
    var wrappedValue: Any? {
        switch self {
        case .none: return nil
        case .some(let value): return value
        }
    }
}
