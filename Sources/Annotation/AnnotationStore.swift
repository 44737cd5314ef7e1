import Checksums
import Datasets
import Foundation
import GRDB
import JSON
import Runtime
import WebApp

/// The SQLite database behind `charter annotate serve` (GRDB, WAL mode): comparison tasks (a prompt and two
/// responses, stored as their TRL JSON), annotators (by the SHA-256 of their token), each annotator's queue of
/// assignments (which response was shown on the left, whether AI critiques were shown), judgements, and the AI
/// critiques of ``AssistantCritic``. Every judgement is its own transaction, so a
/// killed server loses at most the judgement being typed.
///
/// Responses are stored in the order of the imported file ("first", "second"); judgements are stored in that
/// orientation whatever the page showed, with the shown order recorded beside them.
public final class AnnotationStore: Sendable {
    public enum Role: String, Sendable { case annotator, admin }

    /// An annotator as the server sees them after their token is checked.
    public struct Annotator: Sendable, Equatable {
        public var id: Int64
        public var name: String
        public var role: Role
        /// The session's CSRF token, posted back by every form.
        public var csrf: String
    }

    /// A stored comparison: texts as TRL JSON (a string, or a list of messages).
    public struct StoredTask: Sendable, Equatable {
        public var id: String
        public var prompt: JSONValue
        public var first: JSONValue
        public var second: JSONValue
        /// A gold question: `first` is the known better response.
        public var isGold: Bool
    }

    /// A task in an annotator's queue, with the side its first response is shown on.
    public struct Assignment: Sendable, Equatable {
        public var task: StoredTask
        /// True when the first response is shown on the right (as B).
        public var swapped: Bool
        /// The AI critiques shown with this assignment, if it was drawn for assistance.
        public var assistance: Assistance?
    }

    /// AI critiques of a task's two responses under one principle.
    public struct Assistance: Sendable, Equatable {
        public var principleID: String
        public var first: String
        public var second: String
    }

    /// How many tasks an import read and how many were new.
    public struct ImportSummary: Sendable, Equatable {
        public var read: Int
        public var added: Int
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
                CREATE TABLE annotator (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    name TEXT NOT NULL UNIQUE,
                    token_hash TEXT NOT NULL UNIQUE,
                    csrf TEXT NOT NULL,
                    role TEXT NOT NULL CHECK (role IN ('annotator', 'admin')),
                    created_at REAL NOT NULL);
                CREATE TABLE task (
                    id TEXT PRIMARY KEY,
                    prompt TEXT NOT NULL,
                    first TEXT NOT NULL,
                    second TEXT NOT NULL,
                    source TEXT NOT NULL,
                    line INTEGER NOT NULL,
                    gold INTEGER NOT NULL CHECK (gold IN (0, 1)),
                    order_key INTEGER NOT NULL,
                    assigned INTEGER NOT NULL DEFAULT 0,
                    created_at REAL NOT NULL);
                CREATE INDEX task_queue ON task(gold, assigned, order_key);
                CREATE TABLE assignment (
                    annotator_id INTEGER NOT NULL REFERENCES annotator(id),
                    task_id TEXT NOT NULL REFERENCES task(id),
                    position INTEGER NOT NULL,
                    swapped INTEGER NOT NULL CHECK (swapped IN (0, 1)),
                    judged INTEGER NOT NULL DEFAULT 0,
                    assisted INTEGER NOT NULL DEFAULT 0 CHECK (assisted IN (0, 1)),
                    assigned_at REAL NOT NULL,
                    PRIMARY KEY (annotator_id, task_id));
                CREATE INDEX assignment_queue ON assignment(annotator_id, judged, position);
                CREATE TABLE judgement (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    annotator_id INTEGER NOT NULL REFERENCES annotator(id),
                    task_id TEXT NOT NULL REFERENCES task(id),
                    swapped INTEGER NOT NULL,
                    assisted INTEGER NOT NULL DEFAULT 0,
                    verdict TEXT NOT NULL CHECK (verdict IN ('prefer', 'tie', 'both_bad', 'skip')),
                    strength INTEGER CHECK (strength BETWEEN -2 AND 2),
                    reasons TEXT NOT NULL,
                    helpful_first INTEGER, harmless_first INTEGER, honest_first INTEGER,
                    helpful_second INTEGER, harmless_second INTEGER, honest_second INTEGER,
                    rationale TEXT NOT NULL,
                    seconds REAL NOT NULL,
                    created_at REAL NOT NULL,
                    UNIQUE (annotator_id, task_id));
                CREATE INDEX judgement_task ON judgement(task_id);
                CREATE TABLE critique (
                    task_id TEXT NOT NULL REFERENCES task(id),
                    side TEXT NOT NULL CHECK (side IN ('first', 'second')),
                    principle_id TEXT NOT NULL,
                    text TEXT NOT NULL,
                    model TEXT NOT NULL,
                    created_at REAL NOT NULL,
                    PRIMARY KEY (task_id, side));
                CREATE TABLE setting (key TEXT PRIMARY KEY, value TEXT NOT NULL);
                """)
        }
        return migrator
    }

    /// The journal mode ("wal").
    public func journalMode() throws -> String { try WebDatabase.journalMode(pool) }

    // MARK: Tasks

    /// A task's stable id: the SHA-256 of its prompt and its two responses (as unordered), so a re-import, or the
    /// same pair with chosen and rejected swapped, is the same task.
    public static func taskID(prompt: JSONValue, first: JSONValue, second: JSONValue) -> String {
        let responses = [first.serialized(), second.serialized()].sorted()
        return String(SHA256.hex(prompt.serialized() + "\u{1F}" + responses[0] + "\u{1F}" + responses[1]).prefix(32))
    }

    /// Imports the preference pairs of a dataset file through Datasets' reader (TRL prompt/chosen/rejected,
    /// implicit-prompt and HH transcripts). Chosen becomes the first response; for gold files it is the known answer.
    /// Tasks already stored are left as they are, so importing again adds nothing. One transaction for the file.
    /// - Throws: ``DatasetError`` naming the file and line for unreadable lines or examples that are not pairs.
    @discardableResult
    public func importTasks(from url: URL, gold: Bool = false) throws -> ImportSummary {
        let reader = try DatasetReader(url: url)
        var rows: [(id: String, prompt: String, first: String, second: String, line: Int)] = []
        while let example = try reader.next() {
            guard let (prompt, chosen, rejected) = example.preference else {
                throw DatasetError(file: url.lastPathComponent, line: example.line, kind: .unknownType,
                                   reason: "\(example.type.rawValue) example; annotation tasks are preference pairs (prompt/chosen/rejected or chosen/rejected)")
            }
            let id = Self.taskID(prompt: prompt.jsonValue, first: chosen.jsonValue, second: rejected.jsonValue)
            rows.append((id, prompt.jsonValue.serialized(), chosen.jsonValue.serialized(), rejected.jsonValue.serialized(), example.line))
        }
        let source = url.lastPathComponent, now = Date().timeIntervalSince1970
        let added = try pool.write { db -> Int in
            let statement = try db.makeStatement(sql: """
                INSERT INTO task (id, prompt, first, second, source, line, gold, order_key, created_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING
                """)
            var added = 0
            for row in rows {
                try statement.execute(arguments: [row.id, row.prompt, row.first, row.second, source, row.line, gold ? 1 : 0,
                                                  Self.orderKey(row.id), now])
                added += db.changesCount
            }
            return added
        }
        return ImportSummary(read: rows.count, added: added)
    }

    /// A task's place in the queues: the first 60 bits of its id, a fixed pseudo-random order.
    static func orderKey(_ id: String) -> Int64 { Int64(id.prefix(15), radix: 16) ?? 0 }

    public func taskCount(gold: Bool = false) throws -> Int {
        try pool.read { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM task WHERE gold = ?", arguments: [gold ? 1 : 0]) ?? 0 }
    }

    /// Regular task ids in queue order.
    public func taskIDs(limit: Int) throws -> [String] {
        try pool.read { try String.fetchAll($0, sql: "SELECT id FROM task WHERE gold = 0 ORDER BY order_key LIMIT ?", arguments: [limit]) }
    }

    static func task(_ row: Row) throws -> StoredTask {
        func parse(_ column: String) throws -> JSONValue { try JSONParser.parse(row[column] as String) }
        return StoredTask(id: row["id"], prompt: try parse("prompt"), first: try parse("first"), second: try parse("second"),
                          isGold: (row["gold"] as Int) == 1)
    }

    // MARK: Annotators

    /// Invites `name`: a new annotator and the token to hand them (only its hash is stored).
    /// - Parameter reissue: for an annotator who exists already, replace their token (the old link stops working).
    /// - Throws: ``AnnotationError/duplicateAnnotator(_:)`` for a name already invited, unless `reissue`.
    public func invite(_ name: String, role: Role = .annotator, reissue: Bool = false) throws -> (token: String, annotator: Annotator) {
        let trimmed = name.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !trimmed.isEmpty, trimmed.count <= 100 else { throw AnnotationError.invalidName(name) }
        let token = AccessToken.generate(), csrf = AccessToken.generate()
        let id = try pool.write { db -> Int64 in
            if let existing = try Int64.fetchOne(db, sql: "SELECT id FROM annotator WHERE name = ?", arguments: [trimmed]) {
                guard reissue else { throw AnnotationError.duplicateAnnotator(trimmed) }
                try db.execute(sql: "UPDATE annotator SET token_hash = ?, csrf = ? WHERE id = ?", arguments: [AccessToken.hash(token), csrf, existing])
                return existing
            }
            try db.execute(sql: "INSERT INTO annotator (name, token_hash, csrf, role, created_at) VALUES (?, ?, ?, ?, ?)",
                           arguments: [trimmed, AccessToken.hash(token), csrf, role.rawValue, Date().timeIntervalSince1970])
            return db.lastInsertedRowID
        }
        return (token, Annotator(id: id, name: trimmed, role: role, csrf: csrf))
    }

    /// The annotator whose token this is; nil for an unknown or malformed token.
    public func annotator(token: String) throws -> Annotator? {
        guard AccessToken.isWellFormed(token) else { return nil }
        return try pool.read { db in
            try Row.fetchOne(db, sql: "SELECT id, name, role, csrf FROM annotator WHERE token_hash = ?", arguments: [AccessToken.hash(token)])
                .flatMap { row in Role(rawValue: row["role"]).map { Annotator(id: row["id"], name: row["name"], role: $0, csrf: row["csrf"]) } }
        }
    }

    // MARK: Queues

    /// The annotator's current task: their oldest unjudged assignment, or a new one. New assignments go to the
    /// regular task with the most annotators short of `overlap` that this annotator has not seen (so each task is
    /// completed by `overlap` distinct annotators before new ones start), except that every `goldEvery`-th assignment
    /// is a gold question they have not seen. The side shown first is a coin flip per annotator and task, recorded;
    /// so is whether the task's AI critiques are shown (a draw below `assistShare`, for tasks that have critiques).
    /// - Returns: the assignment (nil when the queue is empty), with how many they judged and how many remain.
    public func next(for annotator: Int64, overlap: Int, goldEvery: Int, assistShare: Double = 0) throws
        -> (assignment: Assignment?, judged: Int, remaining: Int) {
        precondition(overlap >= 1, "overlap must be at least 1")
        return try pool.write { db in
            let judged = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM assignment WHERE annotator_id = ? AND judged = 1", arguments: [annotator]) ?? 0
            var taskID = try String.fetchOne(db, sql: """
                SELECT task_id FROM assignment WHERE annotator_id = ? AND judged = 0 ORDER BY position LIMIT 1
                """, arguments: [annotator])
            if taskID == nil {
                let position = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM assignment WHERE annotator_id = ?", arguments: [annotator]) ?? 0
                if goldEvery > 0 && (position + 1) % goldEvery == 0 {
                    taskID = try String.fetchOne(db, sql: """
                        SELECT id FROM task t WHERE gold = 1 AND NOT EXISTS
                        (SELECT 1 FROM assignment a WHERE a.annotator_id = ? AND a.task_id = t.id) ORDER BY order_key LIMIT 1
                        """, arguments: [annotator])
                }
                // One indexed scan per overlap level, fullest first: (gold, assigned, order_key) serves each.
                for level in stride(from: overlap - 1, through: 0, by: -1) where taskID == nil {
                    taskID = try String.fetchOne(db, sql: """
                        SELECT id FROM task t WHERE gold = 0 AND assigned = ? AND NOT EXISTS
                        (SELECT 1 FROM assignment a WHERE a.annotator_id = ? AND a.task_id = t.id) ORDER BY order_key LIMIT 1
                        """, arguments: [level, annotator])
                }
                if let taskID {
                    let critiqued = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM critique WHERE task_id = ?", arguments: [taskID]) == 2
                    let assisted = critiqued && Self.assistanceDraw(annotator: annotator, task: taskID) < assistShare
                    try db.execute(sql: """
                        INSERT INTO assignment (annotator_id, task_id, position, swapped, assisted, assigned_at) VALUES (?, ?, ?, ?, ?, ?)
                        """, arguments: [annotator, taskID, position, Self.swapped(annotator: annotator, task: taskID) ? 1 : 0,
                                         assisted ? 1 : 0, Date().timeIntervalSince1970])
                    try db.execute(sql: "UPDATE task SET assigned = assigned + 1 WHERE id = ?", arguments: [taskID])
                }
            }
            // Remaining: open assignments plus regular tasks short of `overlap` this annotator has not been given.
            let open = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM assignment WHERE annotator_id = ? AND judged = 0", arguments: [annotator]) ?? 0
            let short = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM task WHERE gold = 0 AND assigned < ?", arguments: [overlap]) ?? 0
            // CROSS JOIN keeps SQLite from driving this by the task index (a scan of every open task: 150 ms at 100,000).
            let shortAndTheirs = try Int.fetchOne(db, sql: """
                SELECT COUNT(*) FROM assignment a CROSS JOIN task t ON t.id = a.task_id WHERE a.annotator_id = ? AND t.gold = 0 AND t.assigned < ?
                """, arguments: [annotator, overlap]) ?? 0
            guard let taskID, let row = try Row.fetchOne(db, sql: """
                SELECT t.id, t.prompt, t.first, t.second, t.gold, a.swapped, a.assisted FROM task t
                JOIN assignment a ON a.task_id = t.id AND a.annotator_id = ? WHERE t.id = ?
                """, arguments: [annotator, taskID]) else {
                return (nil, judged, open + short - shortAndTheirs)
            }
            var assistance: Assistance?
            if (row["assisted"] as Int) == 1 {
                let critiques = try Row.fetchAll(db, sql: "SELECT side, principle_id, text FROM critique WHERE task_id = ?", arguments: [taskID])
                let text = Dictionary(critiques.map { ($0["side"] as String, $0["text"] as String) }, uniquingKeysWith: { a, _ in a })
                if let principle = critiques.first?["principle_id"] as String?, let first = text["first"], let second = text["second"] {
                    assistance = Assistance(principleID: principle, first: first, second: second)
                }
            }
            return (Assignment(task: try Self.task(row), swapped: (row["swapped"] as Int) == 1, assistance: assistance),
                    judged, open + short - shortAndTheirs)
        }
    }

    /// Whether the first response goes on the right: SplitMix64 seeded by the annotator and the task, so a reload
    /// shows the same sides and each annotator gets their own coin flips.
    static func swapped(annotator: Int64, task: String) -> Bool {
        var generator = SplitMix64(seed: UInt64(bitPattern: annotator) &* 0x9E37_79B9_7F4A_7C15 ^ UInt64(bitPattern: orderKey(task)))
        return generator.next() & 1 == 1
    }

    /// A uniform draw in [0, 1) per annotator and task, independent of ``swapped(annotator:task:)`` (another stream
    /// of the item generator), deciding whether the assignment shows AI critiques.
    static func assistanceDraw(annotator: Int64, task: String) -> Double {
        var generator = ItemRandom(seed: UInt64(bitPattern: annotator), id: task, purpose: "assistance")
        return Double(generator.next() >> 11) / Double(1 << 53)
    }

    // MARK: Judgements

    /// Records a judgement of an open assignment, in its own transaction, and closes the assignment.
    /// - Returns: false when the task is not an open assignment of this annotator (unknown, not theirs, or judged).
    @discardableResult
    public func record(_ judgement: Judgement, annotator: Int64) throws -> Bool {
        try pool.write { db in
            guard let row = try Row.fetchOne(db, sql: """
                SELECT swapped, assisted, assigned_at FROM assignment WHERE annotator_id = ? AND task_id = ? AND judged = 0
                """, arguments: [annotator, judgement.taskID]) else { return false }
            let now = Date().timeIntervalSince1970
            try Self.insert(judgement, annotator: annotator, swapped: (row["swapped"] as Int) == 1, assisted: (row["assisted"] as Int) == 1,
                            seconds: max(0, now - (row["assigned_at"] as Double)), at: now, db)
            try db.execute(sql: "UPDATE assignment SET judged = 1 WHERE annotator_id = ? AND task_id = ?", arguments: [annotator, judgement.taskID])
            return true
        }
    }

    static func insert(_ judgement: Judgement, annotator: Int64, swapped: Bool, assisted: Bool, seconds: Double, at time: Double,
                       _ db: Database) throws {
        let ratings = judgement.ratings
        try db.execute(sql: """
            INSERT INTO judgement (annotator_id, task_id, swapped, assisted, verdict, strength, reasons, helpful_first, harmless_first,
            honest_first, helpful_second, harmless_second, honest_second, rationale, seconds, created_at)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """, arguments: [annotator, judgement.taskID, swapped ? 1 : 0, assisted ? 1 : 0, judgement.verdict.rawValue, judgement.strength,
                             judgement.reasons.map(\.rawValue).joined(separator: ","),
                             ratings.first.helpful, ratings.first.harmless, ratings.first.honest,
                             ratings.second.helpful, ratings.second.harmless, ratings.second.honest,
                             judgement.rationale, seconds, time])
    }

    /// Writes many judgements in one transaction, each through an assignment made on the spot (bulk loads: the
    /// benchmark's 100,000 judgements); tasks must exist.
    public func recordInBulk(_ judgements: [(annotator: Int64, judgement: Judgement)], seconds: Double = 10) throws {
        try pool.write { db in
            let now = Date().timeIntervalSince1970
            for (index, item) in judgements.enumerated() {
                let swapped = Self.swapped(annotator: item.annotator, task: item.judgement.taskID)
                try db.execute(sql: """
                    INSERT INTO assignment (annotator_id, task_id, position, swapped, judged, assigned_at) VALUES (?, ?, ?, ?, 1, ?)
                    """, arguments: [item.annotator, item.judgement.taskID, index, swapped ? 1 : 0, now])
                try db.execute(sql: "UPDATE task SET assigned = assigned + 1 WHERE id = ?", arguments: [item.judgement.taskID])
                try Self.insert(item.judgement, annotator: item.annotator, swapped: swapped, assisted: false, seconds: seconds, at: now, db)
            }
        }
    }

    /// Every judgement (skips included) with its annotator's name and whether its task is gold, in recording order.
    public func judgements() throws -> [StoredJudgement] {
        try pool.read { db in
            try Row.fetchAll(db, sql: """
                SELECT j.*, a.name, t.gold FROM judgement j JOIN annotator a ON a.id = j.annotator_id JOIN task t ON t.id = j.task_id
                ORDER BY j.id
                """).map(StoredJudgement.init(row:))
        }
    }

    /// The tasks that have judgements, by id (the export's read).
    public func tasks() throws -> [String: StoredTask] {
        try pool.read { db in
            var tasks: [String: StoredTask] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT id, prompt, first, second, gold FROM task WHERE id IN (SELECT task_id FROM judgement)") {
                let task = try Self.task(row)
                tasks[task.id] = task
            }
            return tasks
        }
    }

    // MARK: AI critiques

    /// Regular tasks without critiques, in queue order.
    public func tasksWithoutCritiques(limit: Int) throws -> [StoredTask] {
        try pool.read { db in
            try Row.fetchAll(db, sql: """
                SELECT id, prompt, first, second, gold FROM task t WHERE gold = 0 AND NOT EXISTS
                (SELECT 1 FROM critique c WHERE c.task_id = t.id) ORDER BY order_key LIMIT ?
                """, arguments: [limit]).map(Self.task)
        }
    }

    /// Stores a task's two critiques in one transaction (replacing earlier ones).
    public func saveCritiques(taskID: String, principleID: String, model: String, first: String, second: String) throws {
        try pool.write { db in
            for (side, text) in [("first", first), ("second", second)] {
                try db.execute(sql: """
                    INSERT INTO critique (task_id, side, principle_id, text, model, created_at) VALUES (?, ?, ?, ?, ?, ?)
                    ON CONFLICT (task_id, side) DO UPDATE SET principle_id = excluded.principle_id, text = excluded.text,
                    model = excluded.model, created_at = excluded.created_at
                    """, arguments: [taskID, side, principleID, text, model, Date().timeIntervalSince1970])
            }
        }
    }

    /// Tasks with both critiques.
    public func critiquedTaskCount() throws -> Int {
        try pool.read { try Int.fetchOne($0, sql: "SELECT COUNT(*) FROM (SELECT task_id FROM critique GROUP BY task_id HAVING COUNT(*) = 2)") ?? 0 }
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
