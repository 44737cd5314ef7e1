import Foundation
import Tensors

/// Runs of one experiment that ran different seeds (batches, or runs from different days), checked to combine into
/// one run whose intervals cover every seed: `charter quickstart --combine` and `charter experiment audit --combine`.
/// Only runs of one configuration, kernel path, CPU and thread count combine: another kernel path trains other models.
struct RunCombination<Results> {
    let runs: [URL]
    let parts: [Results]
    /// Each run's folder name and seeds, in the order given: what the combined results.json and report name.
    let sources: [CombinedRun]

    /// Reads and checks the runs; nothing is written.
    /// - Parameters:
    ///   - read: the run's results.json (throwing an error that names the file).
    ///   - configurationDiffers: whether two runs' configurations differ in what the combination needs equal.
    /// - Throws: `QuickstartError` for fewer than two runs, or naming the run whose configuration or machine differs
    ///   from the first run's, or whose seed another run already has.
    init(runs: [URL], read: (URL) throws -> Results, machine: (Results) -> MachineDescription, seeds: (Results) -> [UInt64],
         configurationDiffers: (Results, Results) -> Bool) throws {
        guard runs.count >= 2 else { throw QuickstartError("--combine needs at least two runs (got \(runs.count))") }
        let parts = try runs.map(read)
        let first = parts[0], firstMachine = machine(first)
        var seen: [UInt64: String] = [:]
        for (run, part) in zip(runs, parts) {
            guard !configurationDiffers(part, first) else {
                throw QuickstartError("\(run.path): its configuration differs from \(runs[0].path)'s; only runs of one configuration combine")
            }
            let partMachine = machine(part)
            guard partMachine == firstMachine else {
                throw QuickstartError("\(run.path) ran on \(partMachine.kernelPath) (\(partMachine.cpu), \(partMachine.threads) threads), "
                                      + "\(runs[0].path) on \(firstMachine.kernelPath) (\(firstMachine.cpu), \(firstMachine.threads) threads); "
                                      + "runs on different kernel paths or CPUs train different models and do not combine")
            }
            for seed in seeds(part) {
                if let other = seen[seed] { throw QuickstartError("seed \(seed) is in both \(other) and \(run.path)") }
                seen[seed] = run.path
            }
        }
        (self.runs, self.parts) = (runs, parts)
        sources = zip(runs, parts).map { CombinedRun(run: $0.lastPathComponent, seeds: seeds($1).sorted()) }
    }

    /// The link `directory/seed-S` for a seed of `run`, and its target: relative when the run sits beside
    /// `directory` (both in runs/), so the combined run moves with them.
    /// - Throws: `QuickstartError` when the link already exists.
    static func seedLink(seed: UInt64, of run: URL, into directory: URL) throws -> (link: URL, target: String) {
        let link = directory.appendingPathComponent("seed-\(seed)")
        guard !FileManager.default.fileExists(atPath: link.path) else {
            throw QuickstartError("\(link.path) already exists; combine into a new --name")
        }
        let folder = run.appendingPathComponent("seed-\(seed)")
        let sameFolder = run.absoluteURL.standardizedFileURL.deletingLastPathComponent()
            == directory.absoluteURL.standardizedFileURL.deletingLastPathComponent()
        return (link, sameFolder ? "../\(run.lastPathComponent)/seed-\(seed)" : folder.absoluteURL.standardizedFileURL.path)
    }

    /// Creates `directory` and the links (after every check has passed, so a refused combination leaves nothing).
    static func createLinks(_ links: [(link: URL, target: String)], in directory: URL) throws {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        for (link, target) in links { try FileManager.default.createSymbolicLink(atPath: link.path, withDestinationPath: target) }
    }
}

/// One of the runs a combined run was made from (`--combine`): its folder name under runs/ and the seeds it gave.
public struct CombinedRun: Codable, Equatable, Sendable {
    public var run: String
    public var seeds: [UInt64]

    public init(run: String, seeds: [UInt64]) { (self.run, self.seeds) = (run, seeds) }

    /// "Combined with `--combine` from r2 (seeds 1–5) and r2-s6 (seeds 6–10); nothing was trained again." for a report.
    static func sentence(_ runs: [CombinedRun]) -> String {
        let parts = runs.map { "\($0.run) (seed\($0.seeds.count == 1 ? "" : "s") \(seedList($0.seeds)))" }
        let list = parts.count <= 2 ? parts.joined(separator: " and ") : parts.dropLast().joined(separator: ", ") + " and " + parts.last!
        return "Combined with --combine from the runs \(list); nothing was trained again."
    }

    /// Sorted seeds as runs of consecutive numbers: "1–5, 8, 10–11".
    static func seedList(_ seeds: [UInt64]) -> String {
        var ranges: [(UInt64, UInt64)] = []
        for seed in seeds.sorted() {
            if let last = ranges.last, seed == last.1 + 1 { ranges[ranges.count - 1].1 = seed } else { ranges.append((seed, seed)) }
        }
        return ranges.map { $0.0 == $0.1 ? "\($0.0)" : "\($0.0)–\($0.1)" }.joined(separator: ", ")
    }
}
