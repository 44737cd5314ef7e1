import Foundation

/// A recipe, config or flag value that cannot be used, naming the key (and the value, where there is one).
public struct SettingsError: Error, CustomStringConvertible, LocalizedError, Equatable {
    public let key: String
    public let message: String

    public init(key: String, message: String) {
        self.key = key
        self.message = message
    }

    public var description: String { "\(key): \(message)" }
    public var errorDescription: String? { description }
}

extension SettingsError {
    /// Longest quoted value an error message shows in full.
    public static let shownValueLength = 120

    /// `text` in double quotes for an error message, control characters escaped, cut after
    /// ``shownValueLength`` characters with its full length said (`"aaaa…" (10485760 characters)`), so that a
    /// hostile 10 MB value gives a one-line error rather than a 10 MB one.
    public static func quoted(_ text: String) -> String {
        let escaped = { (part: Substring) in
            part.unicodeScalars.map { $0.value < 0x20 || $0.value == 0x7F ? "\\u{\(String($0.value, radix: 16))}" : String($0) }.joined()
        }
        guard text.count > shownValueLength else { return "\"" + escaped(text[...]) + "\"" }
        return "\"" + escaped(text.prefix(shownValueLength)) + "…\" (\(text.count) characters)"
    }
}
