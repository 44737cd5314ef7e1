import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Whether trainers and pipeline stages draw progress (step counters, item counters) on stderr. Commands with a
/// `--quiet` flag turn it off for the whole process; metrics files and notes are written either way.
public enum ProgressDisplay {
    nonisolated(unsafe) public static var isEnabled = true
}

/// Writes metrics.jsonl (one JSON object per logged step, TRL's metric names) and shows progress: an updating
/// bar with loss, rate and ETA on a terminal, plain lines otherwise.
final class MetricsLog {
    private let handle: FileHandle
    private let interactive: Bool
    private let totalSteps: Int
    private let started = Date()
    private let startStep: Int

    /// Opens (appending, so a resumed run continues the same file) `directory/metrics.jsonl`.
    init(directory: URL, totalSteps: Int, startStep: Int) throws {
        let url = directory.appendingPathComponent("metrics.jsonl")
        if !FileManager.default.fileExists(atPath: url.path) { _ = FileManager.default.createFile(atPath: url.path, contents: nil) }
        guard let handle = FileHandle(forWritingAtPath: url.path) else {
            throw TrainingError.io("cannot open \(url.path) for writing")
        }
        handle.seekToEndOfFile()
        self.handle = handle
        self.totalSteps = totalSteps
        self.startStep = startStep
        interactive = isatty(STDERR_FILENO) != 0
    }

    deinit { try? handle.close() }

    /// Appends one record (keys sorted) to metrics.jsonl.
    func write(_ record: [String: Any]) {
        guard let data = try? JSONSerialization.data(withJSONObject: record, options: [.sortedKeys]) else { return }
        handle.write(data + Data("\n".utf8))
    }

    /// Shows progress after `step` optimizer steps.
    func progress(step: Int, metrics: [String: Double]) {
        guard ProgressDisplay.isEnabled else { return }
        let elapsed = Date().timeIntervalSince(started)
        let done = step - startStep
        let rate = done > 0 ? Double(done) / elapsed : 0
        let remaining = rate > 0 ? Double(totalSteps - step) / rate : 0
        let loss = metrics["loss"].map { String(format: "loss %.4f", $0) } ?? ""
        let text = String(format: "step %d/%d  %@  %.2f it/s  ETA %@", step, totalSteps, loss, rate, Self.duration(remaining))
        if interactive {
            let width = 24, filled = totalSteps > 0 ? width * step / totalSteps : width
            let bar = String(repeating: "█", count: filled) + String(repeating: "·", count: width - filled)
            FileHandle.standardError.write(Data("\r\(bar) \(text)\u{1B}[K".utf8))
            if step == totalSteps { FileHandle.standardError.write(Data("\n".utf8)) }
        } else {
            FileHandle.standardError.write(Data("\(text)\n".utf8))
        }
    }

    func note(_ message: String) {
        FileHandle.standardError.write(Data(((interactive ? "\r\u{1B}[K" : "") + message + "\n").utf8))
    }

    static func duration(_ seconds: Double) -> String {
        let total = Int(seconds.rounded())
        return total >= 3600 ? String(format: "%d:%02d:%02d", total / 3600, total / 60 % 60, total % 60)
                             : String(format: "%d:%02d", total / 60, total % 60)
    }
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
