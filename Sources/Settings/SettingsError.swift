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
