import Foundation
import GRDB
import Runtime
import WebApp

/// The SQLite database behind `charter constitution collect serve` (GRDB, WAL mode): participants (by the SHA-256
/// of their token), statements with their moderation status, and one vote per participant and statement. Every
/// join, statement, vote and moderation decision is its own transaction.
public final class CollectiveStore: Sendable {
    public enum Role: String, Sendable { case participant, moderator }
    public enum Status: String, Sendable, CaseIterable { case pending, accepted, rejected }

    /// A participant as the server sees them after their token is checked.
    public struct Participant: Sendable, Equatable {
        public var id: Int64
        public var role: Role
        /// The session's CSRF token, posted back by every form.
        public var csrf: String
    }

    /// A stored statement.
    public struct StoredStatement: Sendable, Equatable {
        public var id: Int64
        public var authorID: Int64?
        public var text: String
        public var status: Status
    }

    public let path: String
    let pool: DatabasePool

    /// Opens (creating and migrating) the database at `path`.
    /// - Throws: ``WebDatabaseError`` naming the path.
    public init(path: String) throws {
        self.path = path
        pool = try WebDatabase.open(path: path, migrator: Self.migrator)
    }

    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in
            try db.execute(sql: """
                CREATE TABLE participant (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    token_hash TEXT NOT NULL UNIQUE,
                    csrf TEXT NOT NULL,
                    role TEXT NOT NULL CHECK (role IN ('participant', 'moderator')),
                    created_at REAL NOT NULL);
                CREATE TABLE statement (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    author_id INTEGER REFERENCES participant(id),
                    text TEXT NOT NULL,
                    status TEXT NOT NULL CHECK (status IN ('pending', 'accepted', 'rejected')),
                    created_at REAL NOT NULL,
                    moderated_at REAL);
                CREATE INDEX statement_status ON statement(status);
                CREATE TABLE vote (
                    participant_id INTEGER NOT NULL REFERENCES participant(id),
                    statement_id INTEGER NOT NULL REFERENCES statement(id),
                    value INTEGER NOT NULL CHECK (value IN (-1, 0, 1)),
                    created_at REAL NOT NULL,
                    PRIMARY KEY (participant_id, statement_id));
                CREATE TABLE setting (key TEXT PRIMARY KEY, value TEXT NOT NULL);
                """)
        }
        return migrator
    }

    /// The journal mode ("wal").
    public func journalMode() throws -> String { try WebDatabase.journalMode(pool) }

    // MARK: Participants

    /// A new participant (or moderator); returns the token to hand them (only its hash is stored).
    public func addParticipant(role: Role = .participant) throws -> (token: String, participant: Participant) {
        let token = AccessToken.generate(), csrf = AccessToken.generate()
        let id = try pool.write { db -> Int64 in
            try db.execute(sql: "INSERT INTO participant (token_hash, csrf, role, created_at) VALUES (?, ?, ?, ?)",
                           arguments: [AccessToken.hash(token), csrf, role.rawValue, Date().timeIntervalSince1970])
            return db.lastInsertedRowID
        }
        return (token, Participant(id: id, role: role, csrf: csrf))
    }

    /// The participant whose token this is; nil for an unknown or malformed token.
    public func participant(token: String) throws -> Participant? {
        guard AccessToken.isWellFormed(token) else { return nil }
        return try pool.read { db in
            try Row.fetchOne(db, sql: "SELECT id, role, csrf FROM participant WHERE token_hash = ?", arguments: [AccessToken.hash(token)])
                .flatMap { row in Role(rawValue: row["role"]).map { Participant(id: row["id"], role: $0, csrf: row["csrf"]) } }
        }
    }

    // MARK: Statements

    /// Adds a statement awaiting moderation (or accepted at once: seeds written by the organiser).
    @discardableResult
    public func submit(_ text: String, author: Int64?, status: Status = .pending) throws -> Int64 {
        try pool.write { db in
            try db.execute(sql: "INSERT INTO statement (author_id, text, status, created_at) VALUES (?, ?, ?, ?)",
                           arguments: [author, text, status.rawValue, Date().timeIntervalSince1970])
            return db.lastInsertedRowID
        }
    }

    /// Sets a statement's status; false when there is no such statement.
    @discardableResult
    public func moderate(_ id: Int64, _ status: Status) throws -> Bool {
        try pool.write { db in
            try db.execute(sql: "UPDATE statement SET status = ?, moderated_at = ? WHERE id = ?",
                           arguments: [status.rawValue, Date().timeIntervalSince1970, id])
            return db.changesCount > 0
        }
    }

    public func statements(status: Status? = nil) throws -> [StoredStatement] {
        try pool.read { db in
            let rows = try status.map {
                try Row.fetchAll(db, sql: "SELECT id, author_id, text, status FROM statement WHERE status = ? ORDER BY id", arguments: [$0.rawValue])
            } ?? Row.fetchAll(db, sql: "SELECT id, author_id, text, status FROM statement ORDER BY id")
            return rows.compactMap { row in
                Status(rawValue: row["status"]).map { StoredStatement(id: row["id"], authorID: row["author_id"], text: row["text"], status: $0) }
            }
        }
    }

    // MARK: Votes

    /// The next accepted statement `participant` has neither written nor voted on, in that participant's own random
    /// order (a seeded shuffle of the statement ids, so a reload shows the same one), with how many they have voted
    /// on and how many they can vote on.
    public func nextStatement(for participant: Int64) throws -> (statement: StoredStatement?, voted: Int, total: Int) {
        try pool.read { db in
            let rows = try Row.fetchAll(db, sql: """
                SELECT s.id, s.author_id, s.text, v.value IS NOT NULL AS voted FROM statement s
                LEFT JOIN vote v ON v.statement_id = s.id AND v.participant_id = ?
                WHERE s.status = 'accepted' AND (s.author_id IS NULL OR s.author_id != ?)
                """, arguments: [participant, participant])
            let open = rows.filter { !($0["voted"] as Bool) }
            let next = open.min { Self.orderKey(participant: participant, statement: $0["id"]) < Self.orderKey(participant: participant, statement: $1["id"]) }
            return (next.map { StoredStatement(id: $0["id"], authorID: $0["author_id"], text: $0["text"], status: .accepted) },
                    rows.count - open.count, rows.count)
        }
    }

    /// A participant's random rank of a statement: SplitMix64 seeded by both ids, so each participant has their own
    /// order and a statement's place in it never changes.
    static func orderKey(participant: Int64, statement: Int64) -> UInt64 {
        var generator = SplitMix64(seed: UInt64(bitPattern: participant) &* 0x9E37_79B9_7F4A_7C15 ^ UInt64(bitPattern: statement))
        return generator.next()
    }

    /// Records (or changes) a vote on an accepted statement.
    /// - Returns: false when the statement is not open for voting (unknown, pending or rejected).
    public func vote(participant: Int64, statement: Int64, _ vote: Vote) throws -> Bool {
        try pool.write { db in
            guard try Bool.fetchOne(db, sql: "SELECT status = 'accepted' FROM statement WHERE id = ?", arguments: [statement]) == true else {
                return false
            }
            try db.execute(sql: """
                INSERT INTO vote (participant_id, statement_id, value, created_at) VALUES (?, ?, ?, ?)
                ON CONFLICT (participant_id, statement_id) DO UPDATE SET value = excluded.value, created_at = excluded.created_at
                """, arguments: [participant, statement, vote.rawValue, Date().timeIntervalSince1970])
            return true
        }
    }

    /// Accepted statements × participants who voted, for the analysis.
    public func voteMatrix() throws -> VoteMatrix {
        try pool.read { db in
            let statements = try Row.fetchAll(db, sql: "SELECT id, author_id, text FROM statement WHERE status = 'accepted' ORDER BY id")
            let column = Dictionary(uniqueKeysWithValues: statements.enumerated().map { ($1["id"] as Int64, $0) })
            let votes = try Row.fetchAll(db, sql: """
                SELECT v.participant_id, v.statement_id, v.value FROM vote v JOIN statement s ON s.id = v.statement_id
                WHERE s.status = 'accepted' ORDER BY v.participant_id
                """)
            var participants: [Int64] = []
            var rows: [[Vote?]] = []
            for vote in votes {
                let participant: Int64 = vote["participant_id"]
                if participants.last != participant {
                    participants.append(participant)
                    rows.append([Vote?](repeating: nil, count: statements.count))
                }
                if let index = column[vote["statement_id"] as Int64] { rows[rows.count - 1][index] = Vote(rawValue: vote["value"]) }
            }
            return VoteMatrix(
                participants: participants.map { "p\($0)" },
                statements: statements.map { Statement(id: "\($0["id"] as Int64)", authorID: ($0["author_id"] as Int64?).map { "p\($0)" }, text: $0["text"]) },
                votes: rows)
        }
    }

    // MARK: Settings

    public func setting(_ key: String) throws -> String? {
        try pool.read { try String.fetchOne($0, sql: "SELECT value FROM setting WHERE key = ?", arguments: [key]) }
    }

    public func setSetting(_ key: String, _ value: String) throws {
        try pool.write {
            try $0.execute(sql: "INSERT INTO setting (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                           arguments: [key, value])
        }
    }
}
