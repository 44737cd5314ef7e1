import Foundation
import XCTest
@testable import Alignment
import JSON
import LanguageModels

/// metrics.jsonl after resumes holds each step once (issue 24 item 9: 21 kills left 34 duplicate lines): a resumed
/// run drops the lines written after its checkpoint and a torn last line before it appends.
final class MetricsResumeTests: XCTestCase {
    static func steps(_ url: URL) throws -> [Int] {
        try String(contentsOf: url, encoding: .utf8).split(separator: "\n").map {
            try XCTUnwrap(JSONParser.parse(String($0))["step"]?.integerValue)
        }
    }

    /// Killed after step 5 (checkpoint at 3) with half a line written, then after step 8 (checkpoint at 6), then
    /// resumed to the end: the log equals an uninterrupted run's, byte for byte.
    func testResumedRunsLogEachStepOnce() throws {
        let folder = try TrainingFixtures.modelFolder()
        defer { try? FileManager.default.removeItem(at: folder) }
        let data = TrainingFixtures.promptCompletions(count: 12)
        func train(output: String, stopAfter: Int?, resume: Bool) throws {
            var configuration = SFTConfiguration()
            configuration.training = TrainingFixtures.arguments(folder, steps: 10)
            configuration.training.outputDirectory = folder.appendingPathComponent(output).path
            configuration.training.saveSteps = 3
            let trainer = try SFTTrainer(configuration: configuration, policy: try TrainableModel(directory: folder),
                                         encoder: TrainingFixtures.encoder(folder), train: data)
            _ = try TrainingLoop(arguments: configuration.training).run(trainer, resume: resume, stopAfter: stopAfter)
        }
        try train(output: "straight", stopAfter: nil, resume: false)
        let metrics = folder.appendingPathComponent("resumed/metrics.jsonl")
        try train(output: "resumed", stopAfter: 5, resume: false)
        let handle = try FileHandle(forWritingTo: metrics)
        handle.seekToEndOfFile()
        handle.write(Data(#"{"epoch":0.5,"grad_n"#.utf8))  // killed mid-write
        try handle.close()
        XCTAssertEqual(try String(contentsOf: metrics, encoding: .utf8).split(separator: "\n").count, 6)
        try train(output: "resumed", stopAfter: 8, resume: true)
        XCTAssertEqual(try Self.steps(metrics), Array(1...8), "steps 4 and 5 and the torn line were dropped, then rewritten")
        try train(output: "resumed", stopAfter: nil, resume: true)
        let straight = try String(contentsOf: folder.appendingPathComponent("straight/metrics.jsonl"), encoding: .utf8)
        XCTAssertEqual(try String(contentsOf: metrics, encoding: .utf8), straight)
        XCTAssertEqual(try Self.steps(metrics), Array(1...10), "one record per step (no evaluation set)")
    }

    /// Only lines after the step (and a last line that is not a whole record) are dropped; other lines stay as written.
    func testTruncateKeepsEarlierLinesByteForByte() throws {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("charter-metrics-\(UUID().uuidString).jsonl")
        defer { try? FileManager.default.removeItem(at: url) }
        let lines = [#"{"loss": 2.50, "step": 1}"#, #"{"step":2,"eval_loss":1}"#, "not json, kept", #"{"step":3}"#, #"{"step":4}"#]
        try (lines.joined(separator: "\n") + "\n" + #"{"step":5,"lo"#).write(to: url, atomically: true, encoding: .utf8)
        XCTAssertEqual(try MetricsLog.truncate(url, toStep: 2), 3)
        XCTAssertEqual(try String(contentsOf: url, encoding: .utf8), lines[0..<3].joined(separator: "\n") + "\n")
        XCTAssertEqual(try MetricsLog.truncate(url, toStep: 2), 0, "nothing more to drop")
        XCTAssertEqual(try MetricsLog.truncate(url.appendingPathExtension("missing"), toStep: 0), 0)
    }
}
