import Checksums
import Foundation
import Runtime

/// Response bodies on disk, one file per request, keyed by SHA-256 of (model, endpoint path, canonical body).
///
/// A file appears whole or not at all: it is written under a temporary name in the same folder and renamed into
/// place, so a crash never leaves a half entry. Identical requests in flight at the same time share one call.
actor ResponseCache {
    let directory: URL
    private var inFlight: [String: Task<Data, any Error>] = [:]
    /// Calls that reached `compute` (the server), for tests.
    private(set) var misses = 0

    /// - Throws: when the folder cannot be created.
    init(directory: String) throws {
        self.directory = URL(fileURLWithPath: directory, isDirectory: true)
        do {
            try FileManager.default.createDirectory(at: self.directory, withIntermediateDirectories: true)
        } catch {
            throw EndpointError.invalidConfiguration("cache_dir \(directory) cannot be created: \(error.localizedDescription)")
        }
    }

    /// The key of a request: hex SHA-256 of `model`, `path` and the body, separated by newlines.
    static func key(model: String, path: String, body: Data) -> String {
        SHA256.hex(bytes: SHA256.hash(Array("\(model)\n\(path)\n".utf8) + Array(body)))
    }

    /// Where the entry of `key` lives (two-character fan-out keeps folders small).
    nonisolated func file(for key: String) -> URL {
        directory.appendingPathComponent(String(key.prefix(2)), isDirectory: true).appendingPathComponent(key + ".json")
    }

    /// The cached body for `key`, or the result of `compute` stored under it. Errors are not cached.
    func value(for key: String, compute: @escaping @Sendable () async throws -> Data) async throws -> Data {
        if let data = try? Data(contentsOf: file(for: key)) { return data }
        if let running = inFlight[key] { return try await running.value }
        misses += 1
        let task = Task { try await compute() }
        inFlight[key] = task
        defer { inFlight[key] = nil }
        let data = try await task.value
        try store(data, for: key)
        return data
    }

    private func store(_ data: Data, for key: String) throws {
        let destination = file(for: key)
        let folder = destination.deletingLastPathComponent()
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        do {
            try AtomicFile.write(data, to: destination)
        } catch let error as RuntimeError {
            throw EndpointError.invalidConfiguration("cache_dir: cannot write \(destination.path): \(error.reason)")
        }
    }
}
