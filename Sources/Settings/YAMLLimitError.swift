import Foundation

/// YAML text over a ``YAMLLimits`` bound: the file, the line where the bound was crossed, and what to do.
public struct YAMLLimitError: Error, Equatable, CustomStringConvertible, LocalizedError {
    public let file: String
    /// 1-based.
    public let line: Int
    public let message: String

    public var description: String { "\(file):\(line): \(message)" }
    public var errorDescription: String? { description }
}
