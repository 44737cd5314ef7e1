import Foundation
import Runtime

/// Writes metrics.jsonl (one JSON object per logged step, TRL's metric names) and shows the step progress on
/// Runtime's ``ProgressLine`` (`step 5/100 · 2.00 it/s · ETA 45s · loss 0.1234`).
final class MetricsLog {
    private let handle: FileHandle
    private let line: ProgressLine

    /// Opens (appending, so a resumed run continues the same file) `directory/metrics.jsonl`.
    init(directory: URL, totalSteps: Int, startStep: Int) throws {
        let url = directory.appendingPathComponent("metrics.jsonl")
        if !FileManager.default.fileExists(atPath: url.path) { _ = FileManager.default.createFile(atPath: url.path, contents: nil) }
        guard let handle = FileHandle(forWritingAtPath: url.path) else {
            throw TrainingError.io("cannot open \(url.path) for writing")
        }
        handle.seekToEndOfFile()
        self.handle = handle
        line = ProgressLine(label: "step", total: totalSteps, startingAt: startStep, unit: "it", minimumInterval: 0)
    }

    deinit { try? handle.close() }

    /// Appends one record (keys sorted) to metrics.jsonl.
    func write(_ record: [String: Any]) {
        guard let data = try? JSONSerialization.data(withJSONObject: record, options: [.sortedKeys]) else { return }
        handle.write(data + Data("\n".utf8))
    }

    /// Shows progress after `step` optimizer steps.
    func progress(step: Int, metrics: [String: Double]) {
        line.update(step, details: metrics["loss"].map { [String(format: "loss %.4f", $0)] } ?? [])
    }

    /// Prints a message on its own line (also when progress is off).
    func note(_ message: String) { line.note(message) }
}

/// Failures of a training run, each saying what happened and what to do.
public enum TrainingError: Error, CustomStringConvertible, LocalizedError {
    case nonFinite(step: Int, quantity: String, lastCheckpoint: String?)
    case io(String)
    case resume(String)
    case data(String)

    public var description: String {
        switch self {
        case let .nonFinite(step, quantity, checkpoint):
            return "step \(step): \(quantity) is not finite; stopping. "
                + (checkpoint.map { "The last good checkpoint is \($0) (resume with --resume after lowering the learning rate)." }
                   ?? "No checkpoint was written yet (set save_steps to keep resumable checkpoints).")
        case let .io(message), let .resume(message), let .data(message):
            return message
        }
    }

    public var errorDescription: String? { description }
}
