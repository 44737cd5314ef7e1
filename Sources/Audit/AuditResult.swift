import Datasets
import Foundation
import JSON
import Runtime

/// What an audit found: every readable pair, the unreadable lines, the flagged pairs with their evidence, and the
/// dataset-level statistics. Written as `audit.json`, `findings.jsonl` and `report.html` (``write(to:)``).
public struct AuditResult: Sendable {
    /// The audited file and its SHA-256 (clean checks that it audits the same bytes).
    public let url: URL
    public let sha256: String
    /// The file's name.
    public var file: String { url.lastPathComponent }
    public let type: DatasetType
    public let format: DatasetFormat
    public let configuration: AuditConfiguration
    /// Every readable pair, in file order.
    public let pairs: [AuditPair]
    /// Lines that could not be read, with their `file:line` errors.
    public let unreadable: [DatasetError]
    /// The flagged pairs, in file order.
    public private(set) var evidence: [PairEvidence]
    public let lengthBias: LengthBias
    public let positionBias: PositionBias
    /// Nil when no pair carries an `annotator`.
    public let annotators: AnnotatorAgreement?
    /// The reward-model analyses; nil when the audit ran without reward models.
    public let rewardModels: RewardModelSummary?
    /// The AI judge's grading (`--judge`); nil when no judge ran.
    public var judge: JudgeSummary? = nil

    /// Adds the judge's findings and summary.
    public mutating func addJudgement(_ findings: [(line: Int, finding: Finding)], summary: JudgeSummary) {
        for (line, finding) in findings { add(finding, line: line) }
        judge = summary
    }

    /// Adds a finding about the pair on `line` (for analyses run after the model-free ones, e.g. model-based ones).
    /// - Precondition: `line` is a readable pair's line.
    public mutating func add(_ finding: Finding, line: Int) {
        if let index = evidence.firstIndex(where: { $0.line == line }) {
            evidence[index].findings.append(finding)
            return
        }
        guard let pair = pairs.first(where: { $0.line == line }) else { preconditionFailure("no readable pair on line \(line)") }
        let position = evidence.firstIndex { $0.line > line } ?? evidence.endIndex
        evidence.insert(PairEvidence(pairID: pair.id, line: line, findings: [finding]), at: position)
    }

    /// Flagged pairs per kind (a pair counts once per kind), every kind listed.
    public var counts: [(kind: Finding.Kind, pairs: Int)] {
        var counts: [Finding.Kind: Int] = [:]
        for record in evidence { for kind in record.kinds { counts[kind, default: 0] += 1 } }
        return Finding.Kind.allCases.map { ($0, counts[$0] ?? 0) }
    }

    /// The `audit.json` document.
    public var jsonValue: JSONValue {
        var members: [JSONValue.Member] = [
            .init("file", .string(file)), .init("sha256", .string(sha256)), .init("type", .string(type.rawValue)),
            .init("format", .string(format.rawValue)), .init("pairs", .integer(pairs.count)),
            .init("unreadable_lines", .integer(unreadable.count)), .init("flagged_pairs", .integer(evidence.count)),
            .init("settings", .object([
                .init("near_duplicate_threshold", .numeric(configuration.nearDuplicateThreshold)),
                .init("shingle_size", .integer(configuration.shingleSize)),
                .init("low_confidence_margin", .numeric(configuration.lowConfidenceMargin)),
                .init("minhash_permutations", .integer(MinHash.count)), .init("minhash_bands", .integer(MinHash.bands)),
            ])),
            .init("counts", .object(counts.map { .init($0.kind.rawValue, .integer($0.pairs)) })),
            .init("length_bias", .object([
                .init("comparable_pairs", .integer(lengthBias.comparablePairs)), .init("chosen_longer", .integer(lengthBias.chosenLonger)),
                .init("chosen_longer_share", lengthBias.chosenLongerShare.map(JSONValue.numeric) ?? .null),
                .init("pairs_with_margin", .integer(lengthBias.pairsWithMargin)),
                .init("margin_length_correlation", lengthBias.marginCorrelation.map(JSONValue.numeric) ?? .null),
            ])),
            .init("position_bias", .object([
                .init("judgements", .integer(positionBias.judgements)), .init("flips", .integer(positionBias.flips)),
                .init("flip_rate", positionBias.judgements > 0 ? .numeric(Double(positionBias.flips) / Double(positionBias.judgements)) : .null),
                .init("per_principle", .array(positionBias.principles.map {
                    .object([.init("principle_id", .string($0.id)), .init("judgements", .integer($0.judgements)),
                             .init("flips", .integer($0.flips)), .init("flip_rate", .numeric($0.flipRate))])
                })),
            ])),
        ]
        let soft = pairs.compactMap(\.chosenProbability)
        members.append(.init("soft_labels", .object([
            .init("pairs", .integer(soft.count)),
            .init("mean_chosen_probability", soft.isEmpty ? .null : .numeric(soft.reduce(0, +) / Double(soft.count))),
        ])))
        if let annotators {
            members.append(.init("annotators", .object([
                .init("units", .integer(annotators.units)), .init("disagreeing_units", .integer(annotators.disagreeingUnits)),
                .init("judgements", .integer(annotators.judgements)), .init("tie_judgements", .integer(annotators.tieJudgements)),
                .init("anonymous_judgements", .integer(annotators.anonymousJudgements)),
                .init("mean_entropy_bits", annotators.entropies.isEmpty ? .null : .numeric(annotators.entropies.reduce(0, +) / Double(annotators.entropies.count))),
                .init("krippendorff_alpha", annotators.alpha.map(JSONValue.numeric) ?? .null),
                .init("per_annotator", .array(annotators.annotators.map {
                    .object([.init("annotator", .string($0.name)), .init("judgements", .integer($0.judgements)),
                             .init("compared_with_majority", .integer($0.compared)), .init("agreed_with_majority", .integer($0.agreed)),
                             .init("agreement", $0.agreement.map(JSONValue.numeric) ?? .null)])
                })),
            ])))
        } else {
            members.append(.init("annotators", .null))
        }
        members.append(.init("reward_models", rewardModels?.jsonValue ?? .null))
        members.append(.init("judge", judge?.jsonValue ?? .null))
        members.append(.init("unreadable", .array(unreadable.map { .object([.init("line", .integer($0.line)), .init("error", .string($0.description))]) })))
        members.append(.init("findings", .array(evidence.map(\.jsonValue))))
        return .object(members)
    }

    /// Writes `audit.json`, `findings.jsonl` (one flagged pair a line) and `report.html` into `directory`.
    /// - Throws: file-system errors.
    public func write(to directory: URL) throws {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        try AtomicFile.write(Data((jsonValue.serialized(.indented) + "\n").utf8), to: directory.appendingPathComponent("audit.json"))
        let writer = try JSONLWriter(url: directory.appendingPathComponent("findings.jsonl"))
        for record in evidence { try writer.write(record.jsonValue) }
        try writer.finish()
        let top = AuditReport.topSuspects(self)
        try AuditReport(self, texts: texts(lines: Set(top.map(\.line)))).page.write(to: directory)
    }

    /// The texts of the pairs on `lines`, read again from the file (an audit keeps no texts); stops once all are found.
    /// - Throws: ``DatasetError`` when the file cannot be read.
    func texts(lines: Set<Int>) throws -> [Int: PairTexts] {
        guard !lines.isEmpty else { return [:] }
        let reader = try DatasetReader(url: url, options: PairStream.options)
        var found: [Int: PairTexts] = [:]
        while found.count < lines.count, let example = try reader.next() {
            if lines.contains(example.line), let texts = PairTexts(example) { found[example.line] = texts }
        }
        return found
    }
}
