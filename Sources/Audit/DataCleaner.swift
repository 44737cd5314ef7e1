import Checksums
import Datasets
import Foundation
import JSON

/// `charter clean`: applies a ``CleaningPolicy`` to the pairs an audit flagged and writes the cleaned set in the
/// input's format (standard or conversational, explicit or implicit prompt, HH transcripts as they were,
/// `annotator_labels` lists and HelpSteer2/HelpSteer3 lines in their own layout), plus a log of every changed or dropped pair,
/// `<output>.changes.jsonl`.
///
/// On a line with a list of judgements, flip swaps the line's label (`chosen`/`rejected`, or the sign of HelpSteer2's
/// `preference_strength` or HelpSteer3's `overall_preference`) and keeps every judgement as the annotator gave it (an
/// `annotator_labels` choice of `chosen` becomes `rejected`; HelpSteer scores, relative to response 1 and 2, stay);
/// soften writes `chosen_probability` from the judgements' vote share (ties half); tie writes `chosen_probability` ½
/// (HelpSteer: the overall preference 0).
///
/// The accounting is checked before anything is moved into place: rows in (readable and unreadable lines) equal rows
/// out plus rows dropped. Unreadable lines cannot be written back and are dropped, each logged with its error.
public struct DataCleaner {
    /// What a clean did.
    public struct Summary: Sendable, Equatable {
        public var rowsIn = 0, rowsOut = 0, dropped = 0, flipped = 0, tied = 0, softened = 0, unreadable = 0
        public var description: String {
            "\(rowsIn) rows in = \(rowsOut) out + \(dropped) dropped (\(unreadable) of them unreadable); \(flipped) flipped, \(tied) marked as ties, \(softened) softened"
        }
    }

    public let policy: CleaningPolicy

    public init(policy: CleaningPolicy) { self.policy = policy }

    /// The URL of the changes log next to `output`.
    public static func changesURL(for output: URL) -> URL {
        output.deletingLastPathComponent().appendingPathComponent(output.lastPathComponent + ".changes.jsonl")
    }

    /// Cleans `input` by the audit in `auditDirectory` into `output`.
    /// - Throws: ``AuditError`` when the audit is of another file or does not match its lines; ``DatasetError`` for
    ///   unreadable files.
    @discardableResult
    public func clean(_ input: URL, audit auditDirectory: URL, output: URL) throws -> Summary {
        let flagged = try Self.loadFindings(auditDirectory, input: input)
        let stream = try PairStream(url: input)
        let writer = try JSONLWriter(url: output)
        var log: [(line: Int, entry: JSONValue)] = []
        var summary = Summary()
        var seen: Set<Int> = []
        while let (example, pair) = try stream.next() {
            summary.rowsIn += 1
            guard let record = flagged[pair.line] else {
                try Self.keep(example, original: stream.lastLineText, to: writer)
                continue
            }
            seen.insert(pair.line)
            guard record.pairID == pair.id else {
                throw AuditError("line \(pair.line) of \(input.lastPathComponent) has pair id \(pair.id) but the audit recorded \(record.pairID); re-run charter audit on this file")
            }
            let kinds = record.kinds
            var action = policy.action(for: kinds)
            var changed = example
            let before = example.chosenProbability
            switch action {
            case .drop:
                summary.dropped += 1
            case .flip:
                if let share = Self.voteShare(record, kinds: kinds.filter { policy.actions[$0] == .flip }), share >= 0.5 {
                    action = .keep  // on the majority side (or an even split): nothing to flip
                } else if HelpSteerPreference.overall(example) == 0 {
                    action = .keep  // a HelpSteer tie has no direction to flip
                } else if case let .preference(prompt, chosen, rejected) = example.body {
                    changed.body = .preference(prompt: prompt, chosen: rejected, rejected: chosen)
                    changed.chosenProbability = before.map { 1 - $0 }
                    changed.extras = AnnotatorVote.swappingChoices(changed.extras)  // the same judgements, relative to the swap
                    summary.flipped += 1
                }
            case .tie:
                changed.chosenProbability = 0.5
                summary.tied += 1
            case .soften:
                changed.chosenProbability = Self.voteShare(record, kinds: kinds.filter { policy.actions[$0] == .soften }) ?? min(before ?? 1, policy.softenTo)
                summary.softened += 1
            case .keep:
                break
            }
            if action == .keep {
                try Self.keep(example, original: stream.lastLineText, to: writer)
                continue
            }
            if action != .drop { try writer.write(Self.line(changed, after: action)) }
            let reasons = kinds.filter { policy.actions[$0] == action }.map(\.rawValue)
            log.append((pair.line, .object([
                .init("line", .integer(pair.line)), .init("pair_id", .string(pair.id)), .init("action", .string(action.rawValue)),
                .init("because", .array(reasons.map(JSONValue.string))), .init("findings", .array(kinds.map { .string($0.rawValue) })),
                .init("chosen_probability_before", before.map(JSONValue.numeric) ?? .null),
                .init("chosen_probability_after", action == .drop ? .null : changed.chosenProbability.map(JSONValue.numeric) ?? .null),
            ])))
        }
        for error in stream.unreadable {
            summary.rowsIn += 1
            summary.dropped += 1
            summary.unreadable += 1
            log.append((error.line, .object([.init("line", .integer(error.line)), .init("pair_id", .null), .init("action", .string("drop")),
                                             .init("because", .array(["unreadable"])), .init("error", .string(error.description))])))
        }
        if let missing = Set(flagged.keys).subtracting(seen).min() {
            throw AuditError("the audit flagged line \(missing), which is not a readable pair of \(input.lastPathComponent); re-run charter audit on this file")
        }
        summary.rowsOut = writer.lineCount
        guard summary.rowsIn == summary.rowsOut + summary.dropped else {
            throw AuditError("accounting failed: \(summary.rowsIn) rows in ≠ \(summary.rowsOut) out + \(summary.dropped) dropped; nothing was written")
        }
        let changes = try JSONLWriter(url: Self.changesURL(for: output))
        for (_, entry) in log.sorted(by: { $0.line < $1.line }) { try changes.write(entry) }
        try changes.finish()
        try writer.finish()
        return summary
    }

    /// Writes a kept pair as its input line was, byte for byte (key order, spacing, escapes and numbers as the file
    /// spells them; only a CRLF line ending becomes LF).
    private static func keep(_ example: Example, original: String?, to writer: JSONLWriter) throws {
        if let original { try writer.write(originalLine: original) } else { try writer.write(Self.line(example, after: .keep)) }
    }

    /// The line to write for an example after `action`, in the input's layout: TRL lines (one-judgement-per-line and
    /// `annotator_labels` lines among them) as ``Example/jsonValue(keepImplicitPrompt:)`` writes them, HelpSteer2 and
    /// HelpSteer3 lines in their own fields (``HelpSteerPreference/jsonValue(_:action:)``).
    static func line(_ example: Example, after action: CleaningPolicy.Action) -> JSONValue {
        HelpSteerPreference.layout(of: example)?.jsonValue(example, action: action) ?? example.jsonValue(keepImplicitPrompt: true)
    }

    /// For contradictions and annotator disagreement among `kinds`, the share of the pair's judgements that agree
    /// with its label, ties counting half (the smallest when it has both); nil when `kinds` has neither.
    static func voteShare(_ record: PairEvidence, kinds: [Finding.Kind]) -> Double? {
        let shares = record.findings.filter { kinds.contains($0.kind) }.compactMap { finding -> Double? in
            switch finding.kind {
            case .contradiction, .annotatorDisagreement:
                guard let same = finding.evidence["same_way"]?.doubleValue, let other = finding.evidence["other_way"]?.doubleValue else { return nil }
                let ties = finding.evidence["ties"]?.doubleValue ?? 0
                guard same + other + ties > 0 else { return nil }
                return (same + ties / 2) / (same + other + ties)
            default:
                return nil
            }
        }
        return shares.min()
    }

    /// The flagged pairs of `directory/audit.json`, by line, after checking that the audit is of `input`'s bytes.
    static func loadFindings(_ directory: URL, input: URL) throws -> [Int: PairEvidence] {
        let url = directory.appendingPathComponent("audit.json")
        let document: JSONValue
        do {
            document = try JSONParser.parse(String(contentsOf: url, encoding: .utf8))
        } catch {
            throw AuditError("\(url.path): cannot read the audit (\(error)); run charter audit first")
        }
        let digest = try SHA256.hex(file: input)
        guard let recorded = document["sha256"]?.stringValue else { throw AuditError("\(url.path): field \"sha256\" is missing") }
        guard recorded == digest else {
            throw AuditError("\(url.path) audits a file with SHA-256 \(recorded), but \(input.lastPathComponent) has \(digest); re-run charter audit on it")
        }
        guard let records = document["findings"]?.arrayValue else { throw AuditError("\(url.path): field \"findings\" is missing or not a list") }
        var flagged: [Int: PairEvidence] = [:]
        for (index, record) in records.enumerated() {
            let field = "findings[\(index)]"
            guard let line = record["line"]?.integerValue, let id = record["pair_id"]?.stringValue, let items = record["findings"]?.arrayValue else {
                throw AuditError("\(url.path): \(field) needs \"line\", \"pair_id\" and \"findings\"")
            }
            let findings = try items.enumerated().map { offset, item -> Finding in
                guard let name = item["kind"]?.stringValue, let kind = Finding.Kind(rawValue: name) else {
                    throw AuditError("\(url.path): \(field).findings[\(offset)].kind is not a known finding")
                }
                return Finding(kind, item["evidence"] ?? .object([]))
            }
            flagged[line] = PairEvidence(pairID: id, line: line, findings: findings)
        }
        return flagged
    }
}
