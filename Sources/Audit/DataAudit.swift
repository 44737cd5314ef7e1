import Checksums
import Datasets
import Foundation
import JSON

/// The audit of a preference dataset: streams the file once, keeping per pair its hashes, lengths, labels and
/// MinHash signatures, then runs the analyses that need every pair (duplicates, contradictions, cycles, annotator
/// agreement, biases) and, when configured, the reward-model ones (suspected mislabels, both bad; the examples are then
/// kept in memory for training and scoring).
///
/// ```swift
/// let result = try DataAudit(configuration: AuditConfiguration()).run(URL(fileURLWithPath: "pairs.jsonl.gz"))
/// try result.write(to: URL(fileURLWithPath: "audit"))   // audit.json, findings.jsonl, report.html
/// ```
public struct DataAudit: Sendable {
    public let configuration: AuditConfiguration

    /// - Throws: ``AuditError`` for out-of-range settings.
    public init(configuration: AuditConfiguration) throws {
        try configuration.validate()
        self.configuration = configuration
    }

    /// Audits a file.
    /// - Parameter log: progress lines of the reward-model analyses (training and scoring).
    /// - Throws: ``DatasetError`` when the file cannot be read or holds no preference pair; model-loading and
    ///   training errors of the reward-model analyses.
    public func run(_ url: URL, log: @escaping (String) -> Void = { _ in }) throws -> AuditResult {
        let stream = try PairStream(url: url)
        var pairs: [AuditPair] = []
        var examples: [Example] = []  // kept only for the reward models
        var evidence: [[Finding]] = []
        var promptSignatures: [UInt32] = [], responseSignatures: [UInt32] = []
        while let (example, pair) = try stream.next() {
            guard let texts = PairTexts(example) else { continue }
            pairs.append(pair)
            if configuration.rewardModels != nil { examples.append(example) }
            evidence.append(pairFindings(pair, texts))
            let (prompt, responses) = signatures(texts)
            promptSignatures += prompt
            responseSignatures += responses
        }
        guard let type = stream.type, let format = stream.format, !pairs.isEmpty else {
            let first = stream.unreadable.first.map { "; first problem: \($0)" } ?? ""
            throw DatasetError(file: url.lastPathComponent, line: 0, kind: .noExamples,
                               reason: "contains no readable preference pair (\(stream.unreadable.count) unreadable lines)\(first)")
        }

        // Repeated judgements of one pair by different annotators are the multi-annotator format, not duplicates.
        var firstRow: [String: Int] = [:]
        var exactCopies: Set<Int> = []
        for (row, pair) in pairs.enumerated() {
            let key = pair.annotator.map { pair.id + "\u{1F}" + $0 } ?? pair.id
            if let original = firstRow[key] {
                exactCopies.insert(row)
                evidence[row].append(Finding(.exactDuplicate, .object([JSONValue.Member("duplicate_of_line", .integer(pairs[original].line))])))
            } else {
                firstRow[key] = row
            }
        }
        let near = NearDuplicates.find(prompts: promptSignatures, responses: responseSignatures, rows: pairs.count, excluded: exactCopies,
                                       threshold: configuration.nearDuplicateThreshold)
        for row in near.keys.sorted() {
            guard let match = near[row], pairs[match.original].id != pairs[row].id else { continue }
            evidence[row].append(Finding(.nearDuplicate, .object([
                JSONValue.Member("duplicate_of_line", .integer(pairs[match.original].line)),
                JSONValue.Member("duplicate_of_pair_id", .string(pairs[match.original].id)),
                JSONValue.Member("prompt_similarity", .numeric(match.promptSimilarity)),
                JSONValue.Member("response_similarity", .numeric(match.responseSimilarity)),
            ])))
        }
        PreferenceGraph.contradictions(pairs, into: &evidence)
        PreferenceGraph.cycles(pairs, into: &evidence)
        let annotators = AnnotatorAgreement.analyse(pairs, into: &evidence)
        var rewardModels: RewardModelSummary?
        if let models = configuration.rewardModels {
            let ensemble = RewardEnsemble(models: models, mislabelConfidence: configuration.mislabelConfidence, log: log)
            let scores = try ensemble.score(examples: examples, pairs: pairs)
            let votes = try configuration.reference.map { try $0.votes(examples: examples, pairs: pairs, log: log) }
            let (findings, summary) = ensemble.findings(scores, rows: pairs.count, relevance: votes)
            for (row, found) in findings { evidence[row] += found }
            rewardModels = summary
        }

        let flagged = pairs.indices.filter { !evidence[$0].isEmpty }.map {
            PairEvidence(pairID: pairs[$0].id, line: pairs[$0].line, findings: evidence[$0])
        }
        return AuditResult(url: url, sha256: try SHA256.hex(file: url), type: type, format: format,
                           configuration: configuration, pairs: pairs, unreadable: stream.unreadable, evidence: flagged,
                           lengthBias: LengthBias(pairs), positionBias: PositionBias(pairs), annotators: annotators,
                           rewardModels: rewardModels)
    }

    /// The findings about one pair on its own: identical, empty or truncated responses, personal data, a low-confidence
    /// soft label, position-biased AI judgements.
    func pairFindings(_ pair: AuditPair, _ texts: PairTexts) -> [Finding] {
        var findings: [Finding] = []
        if pair.chosenKey == pair.rejectedKey { findings.append(Finding(.identicalResponses)) }
        let empty = [("chosen", pair.chosenIsBlank), ("rejected", pair.rejectedIsBlank)].filter(\.1).map { JSONValue.string($0.0) }
        if !empty.isEmpty { findings.append(Finding(.emptyResponse, .object([JSONValue.Member("responses", .array(empty))]))) }
        for (field, text) in [("chosen", texts.chosen), ("rejected", texts.rejected)] {
            guard let reason = ResponseCheck.truncation(text) else { continue }
            findings.append(Finding(.truncatedResponse, .object([JSONValue.Member("response", .string(field)), JSONValue.Member("reason", .string(reason))])))
        }
        var matches: [JSONValue] = []
        for (field, text) in [("prompt", texts.prompt), ("chosen", texts.chosen), ("rejected", texts.rejected)] {
            for match in PersonalData.matches(in: text) {
                matches.append(.object([JSONValue.Member("field", .string(field)), JSONValue.Member("kind", .string(match.kind.rawValue)),
                                        JSONValue.Member("text", .string(match.text))]))
            }
        }
        if !matches.isEmpty { findings.append(Finding(.personalData, .object([JSONValue.Member("matches", .array(matches))]))) }
        if let probability = pair.chosenProbability, abs(probability - 0.5) <= configuration.lowConfidenceMargin {
            findings.append(Finding(.lowConfidence, .object([JSONValue.Member("chosen_probability", .numeric(probability))])))
        }
        let asked = pair.judgements.filter { $0.flipped != nil }
        let flipped = asked.filter { $0.flipped == true }
        if !flipped.isEmpty, 2 * flipped.count >= asked.count {
            findings.append(Finding(.positionBias, .object([
                JSONValue.Member("flipped", .integer(flipped.count)), JSONValue.Member("judgements", .integer(asked.count)),
                JSONValue.Member("flipped_principles", .array(flipped.map { .string($0.principle) })),
            ])))
        }
        return findings
    }

    /// MinHash signatures of the prompt's shingles and of the responses' (chosen and rejected shingles salted apart,
    /// so a swapped pair is not a near duplicate of the original: that is a contradiction).
    func signatures(_ texts: PairTexts) -> (prompt: [UInt32], responses: [UInt32]) {
        let size = configuration.shingleSize
        let prompt = NormalisedText(texts.prompt).shingleHashes(size: size)
        let chosen = NormalisedText(texts.chosen).shingleHashes(size: size).map { $0 ^ 0x5bd1_e995_0000_0001 }
        let rejected = NormalisedText(texts.rejected).shingleHashes(size: size).map { $0 ^ 0x1b87_3593_0000_0002 }
        return (MinHash.signature(prompt), MinHash.signature(chosen + rejected))
    }
}
