import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Whole-or-nothing file replacement: output goes to a temporary file next to the destination, is synced, and is
/// renamed over it, so readers (and a run resumed after a crash) see the old file or the new one, never a mix.
public enum AtomicFile {
    /// Writes `data` to `url` atomically.
    /// - Throws: ``RuntimeError`` (naming `url`) when the temporary file cannot be created or moved into place;
    ///   the write's own error when writing or syncing fails.
    public static func write(_ data: Data, to url: URL) throws {
        try write(to: url) { try $0.write(contentsOf: data) }
    }

    /// Runs `body` against a temporary file next to `url`, syncs it and renames it over `url`; removes it on failure.
    /// - Throws: ``RuntimeError`` (naming `url`) when the temporary file cannot be created or moved into place;
    ///   otherwise whatever `body` or the sync throws.
    public static func write(to url: URL, _ body: (FileHandle) throws -> Void) throws {
        let (temporary, handle) = try createTemporary(for: url)
        do {
            defer { try? handle.close() }
            try body(handle)
            try handle.synchronize()
        } catch {
            try? FileManager.default.removeItem(at: temporary)
            throw error
        }
        try moveIntoPlace(temporary, to: url)
    }

    /// Creates an empty temporary file next to `url` (hidden, unique: `.name.UUID.tmp`) and opens it for writing;
    /// for writers that stream into it and call ``moveIntoPlace(_:to:)`` when done.
    /// - Throws: ``RuntimeError`` (naming `url`) when the folder does not exist or is not writable.
    public static func createTemporary(for url: URL) throws -> (url: URL, handle: FileHandle) {
        let temporary = url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).\(UUID().uuidString).tmp")
        guard FileManager.default.createFile(atPath: temporary.path, contents: nil) else {
            throw RuntimeError(file: url.path, "cannot create \(temporary.path); check the directory exists and is writable")
        }
        do {
            return (temporary, try FileHandle(forWritingTo: temporary))
        } catch {
            try? FileManager.default.removeItem(at: temporary)
            throw RuntimeError(file: url.path, "cannot open \(temporary.path): \(error.localizedDescription)")
        }
    }

    /// Renames a finished (closed or synced) temporary file over `url`; removes it when that fails.
    /// - Throws: ``RuntimeError`` naming `url` and the system's reason.
    public static func moveIntoPlace(_ temporary: URL, to url: URL) throws {
        guard rename(temporary.path, url.path) == 0 else {
            let reason = String(cString: strerror(errno))
            try? FileManager.default.removeItem(at: temporary)
            throw RuntimeError(file: url.path, "cannot move the finished file into place: \(reason)")
        }
    }
}
