import Foundation

/// Writes small hand-made JSONL fixtures into a fresh temporary folder.
struct AuditFixture {
    let directory: URL

    init() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("charter-audit-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    /// Writes `lines` (one JSON object each) as `name` and returns its URL.
    func file(_ name: String, _ lines: [String]) throws -> URL {
        let url = directory.appendingPathComponent(name)
        try Data((lines.joined(separator: "\n") + "\n").utf8).write(to: url)
        return url
    }

    func url(_ name: String) -> URL { directory.appendingPathComponent(name) }

    func remove() { try? FileManager.default.removeItem(at: directory) }
}
