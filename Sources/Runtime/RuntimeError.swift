import Foundation

/// A failure of the shared run machinery (item logs, job runs, atomic files) that a user can act on.
public struct RuntimeError: Error, CustomStringConvertible, LocalizedError {
    /// The file concerned, when the failure is about one file.
    public let file: String?
    /// What went wrong and what to do, without the file name.
    public let reason: String

    public init(file: String? = nil, _ reason: String) {
        self.file = file
        self.reason = reason
    }

    public var description: String { file.map { "\($0): \(reason)" } ?? reason }
    public var errorDescription: String? { description }
}
