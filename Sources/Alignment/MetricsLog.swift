import Foundation
import JSON
import Runtime

/// Writes metrics.jsonl (one JSON object per logged step, TRL's metric names) and shows the step progress on
/// Runtime's ``ProgressLine`` (`step 5/100 · 2.00 it/s · ETA 45s · loss 0.1234`): redrawn on a terminal, a line
/// every `CHARTER_PROGRESS_INTERVAL` seconds in a log, with the tokens a step generates (PPO's rollouts).
final class MetricsLog {
    private let file: AppendOnlyFile
    private let line: ProgressLine
    /// TensorBoard event files written beside metrics.jsonl (`report_to: tensorboard`).
    private let tensorBoard: TensorBoardEvents?
    /// Records dropped when the log was opened (see ``truncate(_:toStep:)``).
    let droppedRecords: Int

    /// Opens `directory/metrics.jsonl` for appending, so a resumed run continues the same file — after dropping
    /// what the run is about to write again: the records of steps after `startStep` (written after the checkpoint
    /// it resumes from) and a torn last line (a run killed mid-write), so no step is ever logged twice.
    /// - Parameters:
    ///   - line: where the steps' progress is shown.
    ///   - tensorBoard: also write each record's numbers as TensorBoard scalars there.
    init(directory: URL, startStep: Int, line: ProgressLine, tensorBoard: TensorBoardEvents? = nil) throws {
        let url = directory.appendingPathComponent("metrics.jsonl")
        droppedRecords = try Self.truncate(url, toStep: startStep)
        file = try AppendOnlyFile(url: url)
        self.line = line
        self.tensorBoard = tensorBoard
    }

    /// Rewrites `url` (atomically) without the records whose `step` is greater than `step` and without a last line
    /// that is not a whole JSON record; other lines are kept byte for byte. Nothing is written when nothing is
    /// dropped.
    /// - Returns: the number of lines dropped.
    /// - Throws: `TrainingError.io` when the file cannot be read or replaced.
    static func truncate(_ url: URL, toStep step: Int) throws -> Int {
        guard FileManager.default.fileExists(atPath: url.path) else { return 0 }
        let data: Data
        do { data = try Data(contentsOf: url) } catch { throw TrainingError.io("cannot read \(url.path) to resume it: \(error.localizedDescription)") }
        var kept = Data(), dropped = 0
        var start = data.startIndex
        while start < data.endIndex {
            let newline = data[start...].firstIndex(of: UInt8(ascii: "\n"))
            let end = newline ?? data.endIndex
            let text = data[start..<end]
            start = newline.map { $0 + 1 } ?? data.endIndex
            let record = try? JSONParser.parse(text)
            let recordStep = record?["step"]?.doubleValue
            if (newline == nil && record == nil) || recordStep.map({ $0 > Double(step) }) == true {
                dropped += 1
                continue
            }
            kept += text + Data("\n".utf8)
        }
        guard dropped > 0 else { return 0 }
        do { try AtomicFile.write(kept, to: url) } catch { throw TrainingError.io("cannot rewrite \(url.path): \(error)") }
        return dropped
    }

    /// Appends one record (keys sorted) to metrics.jsonl, and its numbers to TensorBoard when asked.
    func write(_ record: [String: Any]) {
        guard let text = try? JSONLines.line(record) else { return }
        try? file.append(line: text)
        if let tensorBoard, let step = (record["step"] as? Int) ?? (record["step"] as? Double).map({ Int($0) }) {
            try? tensorBoard.write(scalars: Self.tensorBoardScalars(record), step: step)
        }
    }

    /// A record's numbers under the tags transformers' `TensorBoardCallback` gives them (`rewrite_logs`):
    /// `eval_loss` → `eval/loss`, `test_x` → `test/x`, anything else → `train/x`; `step` is the event's step.
    static func tensorBoardScalars(_ record: [String: Any]) -> [(tag: String, value: Float)] {
        record.keys.sorted().compactMap { key -> (tag: String, value: Float)? in
            guard key != "step" else { return nil }
            let number: Double
            switch record[key] {
            case let value as Double: number = value
            case let value as Int: number = Double(value)
            case let value as Float: number = Double(value)
            default: return nil
            }
            let tag = key.hasPrefix("eval_") ? "eval/" + key.dropFirst(5) : key.hasPrefix("test_") ? "test/" + key.dropFirst(5) : "train/" + key
            return (tag, Float(number))
        }
    }

    /// Shows progress after `step` optimizer steps, with the training tokens per second of this run when known.
    func progress(step: Int, metrics: [String: Double], tokensPerSecond: Double? = nil) {
        var details = metrics["loss"].map { [String(format: "loss %.4f", $0)] } ?? []
        if let tokensPerSecond { details.append(String(format: "%.0f train tok/s", tokensPerSecond)) }
        line.update(step, details: details)
    }

    /// Runs `work` as `part` ("iteration 5"), showing the tokens it generates.
    func generating<Value>(_ part: String, _ work: () throws -> Value) rethrows -> Value { try line.generating(part, work) }

    /// Draws the latest progress and ends the line (the run finished or stopped).
    func finish() { line.finish() }

    /// Prints a message on its own line (also when progress is off).
    func note(_ message: String) { line.note(message) }
}

/// Failures of a training run, each saying what happened and what to do.
public enum TrainingError: Error, CustomStringConvertible, LocalizedError {
    case nonFinite(step: Int, quantity: String, lastCheckpoint: String?)
    /// The run diverged without a non-finite number: `symptom` says how (see `TrainingHealth`);
    /// `lastGoodCheckpoint` is the newest checkpoint written before it began.
    case collapsed(step: Int, symptom: String, lastGoodCheckpoint: String?)
    case io(String)
    case resume(String)
    case data(String)

    public var description: String {
        switch self {
        case let .nonFinite(step, quantity, checkpoint):
            return "step \(step): \(quantity) is not finite; stopping. " + Self.advice(checkpoint)
        case let .collapsed(step, symptom, checkpoint):
            return "step \(step): training has collapsed (\(symptom)); stopping without saving the model. " + Self.advice(checkpoint)
        case let .io(message), let .resume(message), let .data(message):
            return message
        }
    }

    public var errorDescription: String? { description }

    /// Where to go back to after a divergence.
    static func advice(_ checkpoint: String?) -> String {
        checkpoint.map { "The last good checkpoint is \($0) (resume with --resume after lowering the learning rate)." }
            ?? "No checkpoint from before it was written (set save_steps to keep resumable checkpoints); lower the learning rate and start again."
    }
}
