import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Names that become paths — pipeline stage names, run names, output names from recipes or requests — and the
/// paths they resolve to. A name must be one plain path component, and the path it names under its root must stay
/// inside that root once symbolic links are followed, so nothing a recipe or a request names can reach (move,
/// overwrite or delete) anything outside the folder it belongs to.
///
/// ```swift
/// let stage = try SafePath.child("sft", of: runDirectory, key: "stages[1].name")   // runDirectory/sft
/// try SafePath.child("../victim", of: runDirectory, key: "name")                    // throws SettingsError
/// ```
public enum SafePath {
    /// Longest name accepted, in UTF-8 bytes: well under the usual 255-byte file-name limit, leaving room for the
    /// suffixes Charter appends (`NAME.previous`, `NAME.partial`).
    public static let maximumNameLength = 128

    /// What is wrong with `name` as a single path component, or nil when it is a plain name. Refused: the empty
    /// name, names starting with `.` (`.`, `..`, hidden files), separators (`/`, `\`), control characters (NUL
    /// included) and names longer than `maximumNameLength` bytes.
    public static func problem(with name: String) -> String? {
        if name.isEmpty { return "must not be empty" }
        if name.hasPrefix(".") { return "must not start with \".\" (\".\" and \"..\" name folders, not a new one)" }
        if name.contains("/") || name.contains("\\") { return "must be a plain name without \"/\" or \"\\\"" }
        if name.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7F }) {
            return "must not contain control characters"
        }
        if name.utf8.count > maximumNameLength { return "must be at most \(maximumNameLength) bytes long" }
        return nil
    }

    /// `name` when it is a plain path component (see ``problem(with:)``).
    /// - Throws: `SettingsError` naming `key`, the value and what is wrong with it.
    @discardableResult
    public static func component(_ name: String, key: String) throws -> String {
        if let problem = problem(with: name) { throw SettingsError(key: key, message: "\(problem) (got \(quoted(name)))") }
        return name
    }

    /// `root/name` for a plain `name`, checked to stay inside `root` after following symbolic links (a `name`
    /// that is a link to somewhere else is refused).
    /// - Throws: `SettingsError` naming `key` and the value.
    public static func child(_ name: String, of root: URL, key: String) throws -> URL {
        let url = root.appendingPathComponent(try component(name, key: key))
        try requireInside(url, root: root, key: key, value: name)
        return url
    }

    /// `root/a/b/c` for a relative path `a/b/c` of plain components (the `FILE` of `stage:NAME/FILE`), checked to
    /// stay inside `root` after following symbolic links.
    /// - Throws: `SettingsError` naming `key` and the value.
    public static func descendant(_ relativePath: String, of root: URL, key: String) throws -> URL {
        let parts = relativePath.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        var url = root
        for part in parts {
            if let problem = problem(with: part) {
                throw SettingsError(key: key, message: "must be a relative path of plain names: \(quoted(part)) \(problem) (got \(quoted(relativePath)))")
            }
            url.appendPathComponent(part)
        }
        try requireInside(url, root: root, key: key, value: relativePath)
        return url
    }

    /// Throws unless `url`, symbolic links followed, is `root` or inside it (also followed).
    /// - Throws: `SettingsError` naming `key`, `value` and where the path actually leads.
    public static func requireInside(_ url: URL, root: URL, key: String, value: String) throws {
        guard let base = resolved(root) else {
            throw SettingsError(key: key, message: "the folder \(root.path) cannot be resolved (a broken link?) (got \(quoted(value)))")
        }
        guard let target = resolved(url) else {
            throw SettingsError(key: key, message: "\(quoted(value)) leads through a link that cannot be resolved; remove \(url.path) or choose another name")
        }
        guard target == base || target.hasPrefix(base == "/" ? "/" : base + "/") else {
            throw SettingsError(key: key, message: "\(quoted(value)) leads to \(target), outside \(base); choose a plain name inside that folder")
        }
    }

    /// The absolute path of `url` with every symbolic link followed and `.`/`..` applied, or nil when a link on
    /// the way cannot be followed (it dangles, or a folder cannot be read). The longest part that exists is
    /// resolved by the file system (so `..` after a link goes where the kernel would go); the rest, which does not
    /// exist and so holds no links, is applied lexically.
    public static func resolved(_ url: URL) -> String? {
        let path = url.path
        let absolute = path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path
        let parts = absolute.split(separator: "/").map(String.init)
        var existing = parts.count
        while existing > 0 && !exists("/" + parts[0..<existing].joined(separator: "/")) { existing -= 1 }
        guard let real = realPath("/" + parts[0..<existing].joined(separator: "/")) else { return nil }
        var result = real.split(separator: "/").map(String.init)
        for part in parts[existing...] {
            switch part {
            case ".": continue
            case "..": if !result.isEmpty { result.removeLast() }
            default: result.append(part)
            }
        }
        return "/" + result.joined(separator: "/")
    }

    /// Whether anything is at `path`, a dangling link included (`lstat`, which does not follow a last link).
    static func exists(_ path: String) -> Bool {
        var status = stat()
        return lstat(path, &status) == 0
    }

    /// The kernel's canonical path (links followed), or nil when it cannot be resolved (a dangling link).
    static func realPath(_ path: String) -> String? {
        guard let pointer = realpath(path, nil) else { return nil }
        defer { free(pointer) }
        return String(cString: pointer)
    }

    static func quoted(_ text: String) -> String { SettingsError.quoted(text) }
}
