import Foundation

/// A Polis conversation export (the openData layout, e.g. the CCAI conversation): a folder with
///
/// - `comments.csv`: a header, then one statement a line; the columns read are `comment-id`, `author-id`, `agrees`,
///   `disagrees`, `moderated` (1 accepted, 0 not yet moderated, −1 rejected) and `comment-body`; others (Polis
///   writes `timestamp` and `datetime` first) are ignored.
/// - `participants-votes.csv`: `participant`, `group-id`, `n-comments`, `n-votes`, `n-agree`, `n-disagree`, then one
///   column per comment id, each cell 1 (agree), −1 (disagree), 0 (pass) or blank (not voted).
///
/// Rejected statements (moderated −1) are left out, as Polis's own analysis leaves them out; vote columns naming a
/// comment that comments.csv lacks are an error.
public enum PolisExport {
    public static let commentsFile = "comments.csv"
    public static let votesFile = "participants-votes.csv"
    static let commentColumns = ["comment-id", "author-id", "agrees", "disagrees", "moderated", "comment-body"]
    static let participantColumns = ["participant", "group-id", "n-comments", "n-votes", "n-agree", "n-disagree"]

    /// Reads an export folder.
    /// - Throws: ``CollectiveError`` naming the file, line and field of the first problem.
    public static func read(from folder: URL) throws -> VoteMatrix {
        let comments = try CSVTable(contentsOf: folder.appendingPathComponent(commentsFile))
        let columns = try comments.columns(commentColumns)
        var statements: [Statement] = []
        var seen: Set<String> = []
        var rejected: Set<String> = []
        for record in comments.records {
            let field = { (index: Int) in record.fields[columns[index]].trimmingCharacters(in: .whitespaces) }
            let id = field(0)
            guard !id.isEmpty else { throw CollectiveError.badLine(file: comments.file, line: record.line, "comment-id is empty") }
            guard seen.insert(id).inserted else {
                throw CollectiveError.badLine(file: comments.file, line: record.line, "comment-id \(id) appears twice")
            }
            for (index, name) in [(2, "agrees"), (3, "disagrees")] where Int(field(index)) == nil && !field(index).isEmpty {
                throw CollectiveError.badLine(file: comments.file, line: record.line, "\(name) is \"\(field(index))\", not a whole number")
            }
            guard let moderated = Int(field(4)), (-1...1).contains(moderated) else {
                throw CollectiveError.badLine(file: comments.file, line: record.line,
                                              "moderated is \"\(field(4))\"; expected 1 (accepted), 0 (unmoderated) or -1 (rejected)")
            }
            if moderated == -1 { rejected.insert(id); continue }
            let author = field(1)
            statements.append(Statement(id: id, authorID: author.isEmpty ? nil : author, text: record.fields[columns[5]]))
        }

        let votes = try CSVTable(contentsOf: folder.appendingPathComponent(votesFile))
        _ = try votes.columns(participantColumns)
        let firstVoteColumn = participantColumns.count
        guard votes.header.prefix(firstVoteColumn).elementsEqual(participantColumns) else {
            throw CollectiveError.badLine(file: votes.file, line: 1,
                                          "the header must start \(participantColumns.joined(separator: ",")), then one column per comment id")
        }
        let voteIDs = Array(votes.header.dropFirst(firstVoteColumn))
        let statementColumn = Dictionary(uniqueKeysWithValues: statements.enumerated().map { ($1.id, $0) })
        for id in voteIDs where statementColumn[id] == nil && !rejected.contains(id) {
            throw CollectiveError.badLine(file: votes.file, line: 1, "column \"\(id)\" names a comment that comments.csv does not have")
        }
        var participants: [String] = []
        var matrix: [[Vote?]] = []
        for record in votes.records {
            let participant = record.fields[0].trimmingCharacters(in: .whitespaces)
            guard !participant.isEmpty else { throw CollectiveError.badLine(file: votes.file, line: record.line, "participant is empty") }
            var row = [Vote?](repeating: nil, count: statements.count)
            for (offset, id) in voteIDs.enumerated() {
                let cell = record.fields[firstVoteColumn + offset].trimmingCharacters(in: .whitespaces)
                guard !cell.isEmpty else { continue }
                guard let value = Int(cell), let vote = Vote(rawValue: value) else {
                    throw CollectiveError.badLine(file: votes.file, line: record.line,
                                                  "comment \(id): \"\(cell)\" is not a vote; expected 1 (agree), -1 (disagree), 0 (pass) or blank")
                }
                if let column = statementColumn[id] { row[column] = vote }
            }
            participants.append(participant)
            matrix.append(row)
        }
        return VoteMatrix(participants: participants, statements: statements, votes: matrix)
    }

    /// Writes `matrix` in the export layout (every statement accepted; `groups`, when given, fills group-id).
    public static func write(_ matrix: VoteMatrix, groups: [String: Int] = [:], to folder: URL) throws {
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        var comments = "timestamp,datetime,comment-id,author-id,agrees,disagrees,moderated,comment-body\n"
        for (column, statement) in matrix.statements.enumerated() {
            let cast = matrix.votes.compactMap { $0[column] }
            let fields = ["", "", statement.id, statement.authorID ?? "", "\(cast.filter { $0 == .agree }.count)",
                          "\(cast.filter { $0 == .disagree }.count)", "1", statement.text]
            comments += fields.map(CSVTable.quote).joined(separator: ",") + "\n"
        }
        var votes = (participantColumns + matrix.statements.map(\.id)).map(CSVTable.quote).joined(separator: ",") + "\n"
        for (index, participant) in matrix.participants.enumerated() {
            let row = matrix.votes[index]
            let written = matrix.statements.filter { $0.authorID == participant }.count
            let cast = row.compactMap { $0 }
            let fields = [participant, groups[participant].map(String.init) ?? "", "\(written)", "\(cast.count)",
                          "\(cast.filter { $0 == .agree }.count)", "\(cast.filter { $0 == .disagree }.count)"]
                + row.map { $0.map { String($0.rawValue) } ?? "" }
            votes += fields.map(CSVTable.quote).joined(separator: ",") + "\n"
        }
        try Data(comments.utf8).write(to: folder.appendingPathComponent(commentsFile), options: .atomic)
        try Data(votes.utf8).write(to: folder.appendingPathComponent(votesFile), options: .atomic)
    }
}
