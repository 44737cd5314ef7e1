/// A settings type whose every key is written once, in `fields`: decoding (an absent key keeps the default that
/// `init()` set), encoding, the list of known keys and the range checks all come from that one list.
///
/// ```swift
/// struct Sampling: KeyedSettings {
///     var temperature: Float = 1
///     var maximumTokens = 256
///     static var fields: [SettingsField<Self>] {
///         [.init("temperature", \.temperature, where: .atLeast(0)), .init("max_tokens", \.maximumTokens, where: .atLeast(1))]
///     }
/// }
/// ```
public protocol KeyedSettings: Codable {
    /// The defaults: every field a key leaves absent keeps the value set here.
    init()
    /// Every key of this type, in the order they are written.
    static var fields: [SettingsField<Self>] { get }
}

extension KeyedSettings {
    public init(from decoder: Decoder) throws {
        self.init()
        try read(from: decoder.container(keyedBy: SettingsKey.self))
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.container(keyedBy: SettingsKey.self)
        try write(to: &container)
    }

    /// Lays the keys present in `container` over the current values (absent keys keep them).
    public mutating func read(from container: KeyedDecodingContainer<SettingsKey>) throws {
        for field in Self.fields { try field.read(&self, container) }
    }

    /// Writes every field's key.
    public func write(to container: inout KeyedEncodingContainer<SettingsKey>) throws {
        for field in Self.fields { try field.write(self, &container) }
    }

    /// Every key this type reads (those of flattened fields included).
    public static var keys: [String] { fields.flatMap(\.keys) }

    /// The first value outside its field's accepted range, as an error naming the key and the value.
    /// - Throws: `SettingsError`.
    public func checkRanges() throws {
        for field in Self.fields {
            if let problem = field.check(self) { throw problem }
        }
    }
}
