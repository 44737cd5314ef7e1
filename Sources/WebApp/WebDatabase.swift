import Foundation
import GRDB

/// Opens the SQLite database of a web app: a GRDB `DatabasePool`, so WAL mode (readers never wait for the writer,
/// and a write is durable once its transaction commits), foreign keys on, a 5 s busy timeout, and the app's
/// migrations applied. Every `pool.write { … }` is one transaction: a killed server loses at most the write in
/// flight.
public enum WebDatabase {
    /// - Throws: ``WebDatabaseError`` naming the path when the file cannot be opened or migrated.
    public static func open(path: String, migrator: DatabaseMigrator) throws -> DatabasePool {
        var configuration = Configuration()
        configuration.foreignKeysEnabled = true
        configuration.busyMode = .timeout(5)
        do {
            let pool = try DatabasePool(path: path, configuration: configuration)
            try migrator.migrate(pool)
            return pool
        } catch let error as DatabaseError {
            throw WebDatabaseError(path: path, message: "\(error.message ?? error.description) (SQLite code \(error.resultCode.rawValue))")
        } catch {
            throw WebDatabaseError(path: path, message: "\(error)")
        }
    }

    /// The journal mode SQLite reports ("wal" for a pool).
    public static func journalMode(_ pool: DatabasePool) throws -> String {
        try pool.read { try String.fetchOne($0, sql: "PRAGMA journal_mode") } ?? ""
    }
}

/// A database that cannot be opened, migrated or written.
public struct WebDatabaseError: Error, CustomStringConvertible {
    public var path: String
    public var message: String
    public var description: String { "\(path): \(message) (is it an SQLite database this version of charter wrote, and writable?)" }
}
