import Foundation
import JSON
import XCTest

@testable import Audit

/// Writes small hand-made JSONL fixtures into a fresh temporary folder.
struct AuditFixture {
    let directory: URL

    init() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("charter-audit-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    /// Writes `lines` (one JSON object each) as `name` and returns its URL.
    func file(_ name: String, _ lines: [String]) throws -> URL {
        let url = directory.appendingPathComponent(name)
        try Data((lines.joined(separator: "\n") + "\n").utf8).write(to: url)
        return url
    }

    func url(_ name: String) -> URL { directory.appendingPathComponent(name) }

    func remove() { try? FileManager.default.removeItem(at: directory) }
}

extension AuditFixture {
    /// Audits `lines`, written as `name`, with the default configuration.
    func audit(_ lines: [String], name: String = "pairs.jsonl") throws -> AuditResult {
        try DataAudit(configuration: AuditConfiguration()).run(try file(name, lines))
    }

    /// Audits `lines` and cleans them by `policy`: the summary, the output's lines (parsed and as text) and the
    /// changes log.
    func clean(_ lines: [String], policy: String, name: String) throws
        -> (summary: DataCleaner.Summary, lines: [JSONValue], text: [String], changes: [JSONValue])
    {
        let input = try file(name, lines)
        try DataAudit(configuration: AuditConfiguration()).run(input).write(to: url("audit-\(name)"))
        let output = url("clean-\(UUID().uuidString)-\(name)")
        let summary = try DataCleaner(policy: try CleaningPolicy.parse(policy, file: "policy.yaml")).clean(input, audit: url("audit-\(name)"), output: output)
        let text = try String(contentsOf: output, encoding: .utf8).split(separator: "\n").map(String.init)
        let changes = try String(contentsOf: DataCleaner.changesURL(for: output), encoding: .utf8).split(separator: "\n").map { try JSONParser.parse(String($0)) }
        return (summary, try text.map { try JSONParser.parse($0) }, text, changes)
    }
}

extension AuditResult {
    /// The evidence of the `kind` finding on `line`; nil when the line has none.
    func evidenceOf(_ kind: Finding.Kind, line: Int) -> JSONValue? {
        evidence.first { $0.line == line }?.findings.first { $0.kind == kind }?.evidence
    }

    /// Checks that the unreadable lines' messages start, in order and one for one, with `prefixes`, and that
    /// `audit.json` counts them (so clean can drop and log each one).
    func assertUnreadable(startingWith prefixes: [String], file: StaticString = #filePath, line: UInt = #line) {
        let messages = unreadable.map(\.description)
        XCTAssertEqual(jsonValue["unreadable_lines"]?.integerValue, prefixes.count, file: file, line: line)
        XCTAssertEqual(messages.count, prefixes.count, "\(messages)", file: file, line: line)
        for (message, prefix) in zip(messages, prefixes) {
            XCTAssertTrue(message.hasPrefix(prefix), "\(message)\n  expected to start with \(prefix)", file: file, line: line)
        }
    }
}

extension AuditFixture {
    /// Cleans four HelpSteer lines (HelpSteer2's or HelpSteer3's layout) laid out alike — line 1 labelled as most of
    /// its annotators prefer, line 2 unanimous, line 3 a tie, line 4 labelled as the minority prefers — by
    /// `annotator_disagreement: flip`, `soften` and `tie`, and checks the output against the layout's own fields:
    /// flip negates only line 4's `overall` (the annotators' scores stay as given) and writes the other lines back
    /// byte for byte, soften adds `chosen_probability` and nothing else, tie sets `overall` to 0.
    func checkHelpSteerClean(_ input: [String], overall: String, flippedChosen: String, judgements: Int, softened: [Double?], tied: [JSONValue?],
                             file: StaticString = #filePath, line: UInt = #line) throws {
        let original = try input.map { try JSONParser.parse($0) }
        func without(_ value: JSONValue, _ key: String) -> JSONValue {
            guard case let .object(members) = value else { return value }
            return .object(members.filter { $0.key != key })
        }
        let flipped = try clean(input, policy: "actions: {annotator_disagreement: flip}", name: "flip.jsonl")
        XCTAssertEqual(flipped.summary.rowsIn, 4, file: file, line: line)
        XCTAssertEqual(flipped.summary.rowsOut, 4, file: file, line: line)
        XCTAssertEqual(flipped.summary.flipped, 1, file: file, line: line)
        XCTAssertEqual(Array(flipped.text[0..<3]), Array(input[0..<3]), "unchanged lines are written back byte for byte", file: file, line: line)
        XCTAssertEqual(flipped.lines[3][overall]?.integerValue, original[3][overall]?.integerValue.map { -$0 }, file: file, line: line)
        XCTAssertEqual(without(flipped.lines[3], overall), without(original[3], overall), "the annotators' own scores stay as given", file: file, line: line)
        XCTAssertEqual(flipped.changes.map { $0["action"] }, ["flip"], file: file, line: line)
        // Read again, the flipped line chooses the other response and its annotators agree with it by 2 to 1.
        let reread = try audit(flipped.text, name: "flipped.jsonl")
        XCTAssertEqual(try reread.texts(lines: [4])[4]?.chosen, flippedChosen, file: file, line: line)
        XCTAssertEqual(reread.evidenceOf(.annotatorDisagreement, line: 4)?["same_way"], 2, file: file, line: line)
        XCTAssertEqual(reread.annotators?.judgements, judgements, file: file, line: line)

        let soft = try clean(input, policy: "actions: {annotator_disagreement: soften}", name: "soften.jsonl")
        XCTAssertEqual(soft.summary.softened, 3, file: file, line: line)
        XCTAssertEqual(soft.lines.map { $0["chosen_probability"]?.doubleValue }, softened, file: file, line: line)
        XCTAssertEqual(soft.lines.map { without($0, "chosen_probability") }, original, file: file, line: line)
        let softAudit = try audit(soft.text, name: "softened.jsonl")
        XCTAssertEqual(softAudit.unreadable, [], file: file, line: line)
        XCTAssertEqual(softAudit.pairs[3].chosenProbability ?? 0, softened[3] ?? 1, accuracy: 1e-12, file: file, line: line)

        let tie = try clean(input, policy: "actions: {annotator_disagreement: tie}", name: "tie.jsonl")
        XCTAssertEqual(tie.lines.map { $0[overall] }, tied, file: file, line: line)
        XCTAssertEqual(tie.summary.tied, 3, file: file, line: line)
        XCTAssertEqual(tie.lines.map { $0["chosen_probability"] }, [nil, nil, nil, nil], file: file, line: line)
    }
}
