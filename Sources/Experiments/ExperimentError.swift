import Foundation

/// An experiment failure a user can act on (an unusable configuration, a stage that produced nothing to learn from).
public struct ExperimentError: Error, CustomStringConvertible, LocalizedError {
    public let description: String
    public init(_ description: String) { self.description = description }
    public var errorDescription: String? { description }
}
