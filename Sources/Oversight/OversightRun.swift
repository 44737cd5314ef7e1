import Checksums
import Foundation
import Pipelines
import Reports
import Runtime

/// Runs protocols into an output folder — one resumable transcripts file per protocol (`debate.jsonl`,
/// `consultancy.jsonl`, `blind.jsonl`, `decompose.jsonl`) — and summarises every protocol found there into results.json and report.html,
/// so that runs of several protocols on one task file into one folder are compared on one page.
public enum OversightRun {
    /// `<directory>/<protocol>.jsonl`.
    public static func transcriptsURL(in directory: URL, _ protocolName: OversightProtocol) -> URL {
        directory.appendingPathComponent("\(protocolName.rawValue).jsonl")
    }

    /// Runs `session` over `tasks` into its protocol's transcripts file with the shared resumable job runner
    /// (finished tasks are skipped; failures go to `<protocol>.failures.jsonl`).
    /// - Parameter taskFile: the file the tasks came from (its SHA-256 must match on resume), or nil for generated tasks.
    /// - Throws: `ConstitutionalError` when the file was started with other settings, models or tasks.
    public static func run(_ tasks: [ReadingTask], taskFile: URL?, session: ProtocolSession, directory: URL, options: RunOptions) async throws -> RunReport {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let output = transcriptsURL(in: directory, session.settings.protocolName)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let tasksDigest = try taskFile.map { try SHA256.hex(file: $0) } ?? SHA256.hex(String(decoding: try encoder.encode(tasks), as: UTF8.self))
        try Stages.checkResumable(output: output, settings: [
            "configuration": String(decoding: try encoder.encode(session.settings), as: UTF8.self), "tasks_sha256": tasksDigest,
            "debaters": session.arguers.map(\.name).joined(separator: ", "), "judge": session.judge.name,
        ])
        let log = try ItemLog(url: output)
        let items = tasks.enumerated().map { (id: $0.element.id, item: (index: $0.offset, task: $0.element)) }
        let report = try await ItemRunner(options: options, label: session.settings.protocolName.rawValue).run(
            items, workers: [session], log: log, failures: try FailureLog(url: Stages.failuresURL(for: output))
        ) { item, session in try await session.run(item.task, index: item.index) }
        try log.sort(by: tasks.map(\.id))
        return report
    }

    /// `<directory>/decompose.jsonl`.
    public static func decompositionsURL(in directory: URL) -> URL { directory.appendingPathComponent("decompose.jsonl") }

    /// Answers `tasks` directly and by decomposition into `decompose.jsonl`, resumably, as ``run(_:taskFile:session:directory:options:)``.
    public static func run(_ tasks: [MultiStepTask], taskFile: URL?, session: DecompositionSession, directory: URL, options: RunOptions) async throws -> RunReport {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let output = decompositionsURL(in: directory)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let tasksDigest = try taskFile.map { try SHA256.hex(file: $0) } ?? SHA256.hex(String(decoding: try encoder.encode(tasks), as: UTF8.self))
        try Stages.checkResumable(output: output, settings: [
            "configuration": String(decoding: try encoder.encode(session.settings), as: UTF8.self), "tasks_sha256": tasksDigest,
            "decomposer": session.decomposer.name, "model": session.model.name,
        ])
        let log = try ItemLog(url: output)
        let report = try await ItemRunner(options: options, label: "decompose").run(
            tasks.map { (id: $0.id, item: $0) }, workers: [session], log: log, failures: try FailureLog(url: Stages.failuresURL(for: output))
        ) { task, session in try await session.run(task) }
        try log.sort(by: tasks.map(\.id))
        return report
    }

    /// Every protocol's transcripts in `directory`.
    /// - Throws: `ConstitutionalError` naming the file and line of a record that does not decode.
    public static func transcripts(in directory: URL) throws -> [OversightProtocol: [ProtocolTranscript]] {
        var found: [OversightProtocol: [ProtocolTranscript]] = [:]
        for protocolName in OversightProtocol.allCases {
            let url = transcriptsURL(in: directory, protocolName)
            guard FileManager.default.fileExists(atPath: url.path) else { continue }
            let records = try Stages.readRecords(ProtocolTranscript.self, from: url)
            if !records.isEmpty { found[protocolName] = records }
        }
        return found
    }

    /// Summarises the protocols in `directory` into results.json and report.html there.
    public static func summarise(directory: URL, samples: Int = 1000, seed: UInt64 = 0) throws -> OversightResults {
        let transcripts = try transcripts(in: directory)
        let decompositions = FileManager.default.fileExists(atPath: decompositionsURL(in: directory).path)
            ? try Stages.readRecords(DecompositionRecord.self, from: decompositionsURL(in: directory)) : []
        let results = OversightResults(transcripts: transcripts, decompositions: decompositions, samples: samples, seed: seed)
        _ = try ResultsFile.write(results, to: directory)
        _ = try OversightReport.page(results, transcripts: transcripts, decompositions: decompositions).write(to: directory)
        return results
    }
}
