import ArgumentParser
import Foundation
import Reports
import Runtime
import Tensors

/// What the experiment commands (`quickstart`, `experiment frontier`, `experiment audit`) share: the checks of the
/// run name, seeds and threads, the kernel and progress settings, timestamped log lines, and the closing line.
enum ExperimentConsole {
    /// `--report-only`: `directory/results.json` read back as `Results`, the page rewritten by `write`, `summary`
    /// printed, and the files listed. A missing or foreign results.json is an error naming the file.
    static func rewriteReport<Results: Decodable>(_ type: Results.Type, directory: URL, update: (Results, URL) throws -> Results = { results, _ in results },
                                                  write: (Results, URL) throws -> Void, summary: (Results) -> String) throws {
        let read: Results
        do { read = try ResultsFile.read(type, in: directory, what: "this experiment's results") } catch {
            throw ValidationError("\(error); run the experiment first, without --report-only")
        }
        let results = try update(read, directory)
        try write(results, directory)
        print(summary(results))
        printFiles(directory)
    }

    /// - Throws: `ValidationError` naming the option.
    static func validate(name: String, seeds: Int, threads: Int?) throws {
        guard seeds >= 1 else { throw ValidationError("--seeds must be at least 1 (got \(seeds))") }
        if let threads, threads < 1 { throw ValidationError("--threads must be at least 1 (got \(threads))") }
        guard !name.isEmpty, !name.contains("/"), name != ".", name != ".." else {
            throw ValidationError("--name must be a plain folder name under runs/ (got \"\(name)\")")
        }
    }

    /// Sets the kernel threads and turns per-stage progress off for `--quiet`.
    static func start(threads: Int?, quiet: Bool) {
        if let threads { ComputeThreads.count = threads }
        if quiet { ProgressDisplay.isEnabled = false }
    }

    /// Writes each line to standard error with the seconds since now (nothing when quiet).
    static func logger(quiet: Bool) -> @Sendable (String) -> Void {
        let started = Date()
        return { line in
            guard !quiet else { return }
            FileHandle.standardError.write(Data(String(format: "[%4.0fs] %@\n", Date().timeIntervalSince(started), line).utf8))
        }
    }

    /// Runs `body` for seeds `first`, `first + 1`, … (`count` of them), one after another, each with its folder
    /// `directory/seed-S` and the log lines of ``logger(quiet:)``; returns the outcomes in seed order.
    static func eachSeed<Outcome>(from first: UInt64, count: Int, directory: URL, quiet: Bool,
                                  _ body: (_ seed: UInt64, _ folder: URL, _ log: @escaping @Sendable (String) -> Void) throws -> Outcome) rethrows -> [Outcome] {
        let log = logger(quiet: quiet)
        return try (0..<UInt64(count)).map { offset in
            try body(first + offset, directory.appendingPathComponent("seed-\(first + offset)"), log)
        }
    }

    /// The line naming results.json and report.html.
    static func printFiles(_ directory: URL) {
        print("results: \(directory.appendingPathComponent("results.json").path); report: \(directory.appendingPathComponent("report.html").path)")
    }
}
