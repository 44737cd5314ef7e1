import Foundation

/// What went wrong reading, storing or analysing a conversation, with where and what to do.
public enum CollectiveError: Error, CustomStringConvertible, Equatable {
    /// A CSV line that cannot be read: file, 1-based line, what is wrong.
    case badLine(file: String, line: Int, String)
    /// A required file or column is missing.
    case missing(file: String, String)
    case tooFewParticipants(Int, minimumVotes: Int)
    case tooFewStatements(Int)
    /// The database could not be opened or written.
    case database(path: String, String)

    public var description: String {
        switch self {
        case let .badLine(file, line, message):
            return "\(file):\(line): \(message)"
        case let .missing(file, message):
            return "\(file): \(message)"
        case let .tooFewParticipants(count, minimumVotes):
            return "only \(count) participant(s) voted on at least \(minimumVotes) statements; opinion groups need 3 or more "
                + "(collect more votes, or lower --min-votes)"
        case let .tooFewStatements(count):
            return "\(count) statement(s) accepted; the analysis needs at least 2 (accept statements with `charter constitution collect moderate`)"
        case let .database(path, message):
            return "\(path): \(message)"
        }
    }
}
