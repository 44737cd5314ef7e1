import JSON

/// Something an audit noticed about one preference pair, with the evidence behind it.
///
/// Model-free analyses and the reward-model analyses (``RewardModels``) add their kinds to the same ``PairEvidence``
/// records, and `charter clean` treats every kind alike.
public struct Finding: Sendable, Hashable {
    /// What was found. The raw value is the name used in `audit.json`, `findings.jsonl` and cleaning policies.
    public enum Kind: String, Sendable, Hashable, CaseIterable, Comparable {
        /// A later copy of an earlier pair (same normalised prompt, chosen and rejected).
        case exactDuplicate = "exact_duplicate"
        /// A later pair whose MinHash Jaccard similarity with an earlier pair reaches the threshold.
        case nearDuplicate = "near_duplicate"
        /// Chosen and rejected are the same text after normalisation.
        case identicalResponses = "identical_responses"
        /// The same prompt and pair labelled both ways (by one annotator, or with no annotator recorded).
        case contradiction
        /// The pair is an edge of a preference cycle within its prompt (A > B, B > C, C > A).
        case preferenceCycle = "preference_cycle"
        /// Most of the recorded AI judgements of the pair changed their verdict with the presentation order.
        case positionBias = "position_bias"
        /// A soft label `chosen_probability` close to ½.
        case lowConfidence = "low_confidence"
        /// Several annotators labelled the pair and did not all agree.
        case annotatorDisagreement = "annotator_disagreement"
        /// An e-mail address or a phone number in the prompt or a response.
        case personalData = "personal_data"
        /// A whitespace-only chosen or rejected response.
        case emptyResponse = "empty_response"
        /// A response that looks cut off (ends mid-sentence on a comma, colon, open bracket, or an unclosed code fence).
        case truncatedResponse = "truncated_response"
        /// Reward models that never saw the pair (or given ones) confidently prefer the rejected response.
        case suspectedMislabel = "suspected_mislabel"
        /// Both responses score like typical rejected responses under more than half of the reward models: a forced
        /// choice between two bad answers.
        case bothBad = "both_bad"

        /// A sentence for reports.
        public var explanation: String {
            switch self {
            case .exactDuplicate: return "a later copy of an earlier pair (prompt, chosen and rejected equal after lower-casing and collapsing white space)"
            case .nearDuplicate: return "a later pair whose estimated Jaccard similarity (MinHash over word shingles) with an earlier pair reaches the threshold"
            case .identicalResponses: return "chosen and rejected are the same text after normalisation, so the pair carries no preference"
            case .contradiction: return "the same prompt and pair appear with the preference both ways"
            case .preferenceCycle: return "the pair's preference is part of a cycle among one prompt's responses (A > B > C > A)"
            case .positionBias: return "at least half of the recorded AI judgements flipped their verdict when the two responses swapped places"
            case .lowConfidence: return "the soft label chosen_probability is within the margin of ½"
            case .annotatorDisagreement: return "several annotators labelled the pair and not all agreed"
            case .personalData: return "an e-mail address or phone number appears in the prompt or a response"
            case .emptyResponse: return "chosen or rejected is empty or white space"
            case .truncatedResponse: return "a response ends as if cut off (on a comma, colon, semicolon, open bracket or inside a code fence)"
            case .suspectedMislabel: return "reward models that never saw the pair prefer the rejected response: mean P(chosen ≻ rejected) at most 1 − the confidence"
            case .bothBad: return "both responses score below the midpoint of the typical chosen and rejected rewards under more than half of the reward models, or the AI judge grades both harmful, unhelpful or off topic"
            }
        }

        public static func < (lhs: Kind, rhs: Kind) -> Bool {
            (allCases.firstIndex(of: lhs) ?? 0) < (allCases.firstIndex(of: rhs) ?? 0)
        }
    }

    /// What was found.
    public var kind: Kind
    /// The evidence: a JSON object whose fields depend on the kind (e.g. `duplicate_of`, `similarity`).
    public var evidence: JSONValue

    /// Creates a finding.
    public init(_ kind: Kind, _ evidence: JSONValue = .object([])) {
        self.kind = kind
        self.evidence = evidence
    }
}

/// Every finding about one pair, identified by its file line and stable pair id. Analyses append to it.
public struct PairEvidence: Sendable, Hashable {
    /// The pair's stable id (``PairID``).
    public var pairID: String
    /// The 1-based line of the pair in the audited file.
    public var line: Int
    /// The findings, in the order the analyses added them.
    public var findings: [Finding]

    /// Creates a record.
    public init(pairID: String, line: Int, findings: [Finding] = []) {
        self.pairID = pairID
        self.line = line
        self.findings = findings
    }

    /// The kinds found, without repeats, in ``Finding/Kind`` order.
    public var kinds: [Finding.Kind] { Array(Set(findings.map(\.kind))).sorted() }

    /// `{"pair_id", "line", "findings": [{"kind", "evidence"}]}`: a line of `findings.jsonl`.
    public var jsonValue: JSONValue {
        .object([
            JSONValue.Member("pair_id", .string(pairID)), JSONValue.Member("line", .integer(line)),
            JSONValue.Member("findings", .array(findings.map { .object([JSONValue.Member("kind", .string($0.kind.rawValue)),
                                                                      JSONValue.Member("evidence", $0.evidence)]) })),
        ])
    }
}
