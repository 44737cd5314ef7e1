import Foundation
import XCTest
@testable import Datasets

/// Malformed lines produce exact, actionable `file:line:` errors; `skipInvalid` counts them instead.
final class DatasetErrorTests: XCTestCase {
    let malformed = DatasetFormatTests.fixtures.appendingPathComponent("malformed.jsonl")

    /// Every line of Fixtures/malformed.jsonl and what reading it yields.
    let expectations: [(line: Int, error: String?)] = [
        (1, nil),
        (2, "malformed.jsonl:2: invalid JSON at column 50: unterminated object"),
        (3, "malformed.jsonl:3: expected a JSON object, found list"),
        (4, "malformed.jsonl:4: missing field \"rejected\" (preference examples need \"prompt\", \"chosen\", \"rejected\")"),
        (5, "malformed.jsonl:5: field \"chosen\" must be a string or a list of messages, found number"),
        (6, "malformed.jsonl:6: field \"chosen\" item 1: \"role\" must be one of \"system\", \"user\", \"assistant\", \"tool\", found \"bot\""),
        (8, "malformed.jsonl:8: language modeling example in a file of preference examples (detected from line 1)"),
        (9, "malformed.jsonl:9: conversational example in a file of standard preference examples (detected from line 1)"),
        (10, "malformed.jsonl:10: field \"chosen_probability\" must be a number in [0, 1], found 1.5"),
        (11, "malformed.jsonl:11: field \"rejected\" is a list of messages but \"prompt\" is a string; an example's fields must be all strings or all message lists"),
        (12, "malformed.jsonl:12: invalid JSON at column 52: duplicate key \"prompt\""),
        (13, nil),
    ]

    func testEachMalformedLineHasAnExactError() throws {
        let reader = try DatasetReader(url: malformed)
        for expectation in expectations {
            if let message = expectation.error {
                XCTAssertThrowsError(try reader.next(), "line \(expectation.line)") { error in
                    XCTAssertEqual("\(error)", message)
                    XCTAssertEqual((error as? DatasetError)?.line, expectation.line)
                }
            } else {
                XCTAssertEqual(try reader.next()?.line, expectation.line, "valid line; reading continues after an error")
            }
        }
        XCTAssertNil(try reader.next())
        XCTAssertEqual(reader.blankLines, 1)
    }

    func testSkipInvalidCountsAndReportsReasons() throws {
        let dataset = try Dataset.load(malformed, options: DatasetOptions(skipInvalid: true, reportedSkipReasons: 3))
        XCTAssertEqual(dataset.examples.map(\.line), [1, 13])
        XCTAssertEqual(dataset.skipped.count, 10)
        XCTAssertEqual(dataset.skipped.firstReasons.map(\.description), expectations.compactMap(\.error).prefix(3).map { $0 })
        XCTAssertEqual(dataset.blankLines, 1)
        XCTAssertTrue(dataset.summary.hasPrefix("malformed.jsonl: 2 preference examples (standard), 1 blank line ignored; 10 invalid lines skipped, e.g. malformed.jsonl:2: invalid JSON"), dataset.summary)
    }

    func testSummaryCountsOneExampleInTheSingular() throws {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("one-\(UUID().uuidString).jsonl")
        try #"{"prompt": "a", "completion": " b"}"#.write(to: url, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: url) }
        XCTAssertEqual(try Dataset.load(url).summary, "\(url.lastPathComponent): 1 prompt-completion example (standard)")
    }

    func testDetectionUsesTheFirstValidLineWhenSkipping() throws {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("first-invalid-\(UUID().uuidString).jsonl")
        defer { try? FileManager.default.removeItem(at: url) }
        try Data("""
            {"chosen": oops}
            {"messages": [{"role": "user", "content": "hi"}]}
            {"text": "standard, so a mismatch"}
            {"messages": []}

            """.utf8).write(to: url)
        let reader = try DatasetReader(url: url, options: DatasetOptions(skipInvalid: true))
        var lines: [Int] = []
        while let example = try reader.next() { lines.append(example.line) }
        XCTAssertEqual(lines, [2, 4])
        XCTAssertEqual(reader.detectedAtLine, 2)
        XCTAssertEqual(reader.type, .languageModeling)
        XCTAssertEqual(reader.format, .conversational)
        XCTAssertEqual(reader.skipped.count, 2)
        XCTAssertEqual(reader.skipped.firstReasons.map(\.line), [1, 3])
        XCTAssertTrue(reader.skipped.firstReasons[1].reason.hasPrefix("standard example in a file of conversational language modeling examples"),
                      reader.skipped.firstReasons[1].reason)
    }

    func testMessageAndFieldErrors() throws {
        let cases: [(String, String)] = [
            ("{\"messages\": \"hi\"}", "field \"messages\" must be a list of messages, found string"),
            ("{\"text\": 5}", "field \"text\" must be a string, found number"),
            ("{\"text\": \"a\", \"messages\": []}", "has both \"text\" and \"messages\"; a language-modeling example needs exactly one"),
            ("{\"messages\": [\"hi\"]}", "field \"messages\" item 1: expected an object with \"role\" and \"content\", found string"),
            ("{\"messages\": [{\"content\": \"x\"}]}", "field \"messages\" item 1: missing \"role\""),
            ("{\"messages\": [{\"role\": \"user\"}]}", "field \"messages\" item 1: missing \"content\""),
            ("{\"messages\": [{\"role\": \"user\", \"content\": null}]}", "field \"messages\" item 1: \"content\" must be a string, found null"),
            ("{\"messages\": [{\"role\": 1, \"content\": \"x\"}]}", "field \"messages\" item 1: \"role\" must be one of \"system\", \"user\", \"assistant\", \"tool\", found number"),
            ("{\"prompt\": \"p\", \"completion\": \"c\", \"label\": \"yes\"}", "field \"label\" must be true or false, found string"),
            ("{\"chosen\": \"a\", \"rejected\": \"b\", \"chosen_probability\": \"high\"}", "field \"chosen_probability\" must be a number in [0, 1], found string"),
            ("{\"completion\": \"c\"}", "missing field \"prompt\" (prompt-completion examples need \"prompt\", \"completion\")"),
            ("{\"foo\": 1, \"bar\": 2}", "cannot tell the dataset type from fields \"foo\", \"bar\"; expected \"text\", \"messages\", \"prompt\"+\"completion\", \"prompt\"+\"chosen\"+\"rejected\", \"chosen\"+\"rejected\" or \"prompt\"+\"completion\"+\"label\""),
            ("{}", "cannot tell the dataset type from no fields; expected \"text\", \"messages\", \"prompt\"+\"completion\", \"prompt\"+\"chosen\"+\"rejected\", \"chosen\"+\"rejected\" or \"prompt\"+\"completion\"+\"label\""),
            ("{\"text\": \"a\\q\"}", "invalid JSON at column 12: invalid escape '\\q'"),
            ("{\"text\": tru}", "invalid JSON at column 10: invalid literal (expected true)"),
            ("not json", "invalid JSON at column 1: invalid literal (expected null)"),
            ("{\"text\": \"a\"} x", "invalid JSON at column 15: unexpected text after the JSON value"),
            ("{\"text\" \"a\"}", "invalid JSON at column 9: expected ':' after key \"text\""),
            ("[1, 2", "invalid JSON at column 6: unterminated list"),
            ("{\"text\": \"\\ud800\"}", "invalid JSON at column 17: unpaired surrogate \\ud800"),
        ]
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("charter-ds-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        for (line, message) in cases {
            let url = directory.appendingPathComponent("data.jsonl")
            try Data((line + "\n").utf8).write(to: url)
            XCTAssertThrowsError(try Dataset.load(url), line) { error in
                XCTAssertEqual("\(error)", "data.jsonl:1: \(message)")
            }
        }
        let empty = directory.appendingPathComponent("empty.jsonl")
        try Data("\n\n".utf8).write(to: empty)
        XCTAssertThrowsError(try Dataset.load(empty)) { error in
            XCTAssertEqual("\(error)", "empty.jsonl: contains no examples (2 blank lines, 0 invalid lines skipped)")
            XCTAssertEqual((error as? DatasetError)?.kind, .noExamples)
        }
        let invalidUTF8 = directory.appendingPathComponent("bytes.jsonl")
        try Data([0x7B, 0xFF, 0x7D, 0x0A]).write(to: invalidUTF8)
        XCTAssertThrowsError(try Dataset.load(invalidUTF8)) { error in
            XCTAssertEqual("\(error)", "bytes.jsonl:1: line is not valid UTF-8")
        }
        XCTAssertThrowsError(try Dataset.load(directory.appendingPathComponent("absent.jsonl"))) { error in
            XCTAssertEqual((error as? DatasetError)?.kind, .io)
        }
    }
}
