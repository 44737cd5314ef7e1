/// Something unusual but not invalid about a preference pair, reported rather than silently "fixed" or dropped.
public struct DatasetQuirk: Sendable, Hashable, CustomStringConvertible {
    /// The kinds of irregularity found in real preference data (e.g. Anthropic HH-RLHF).
    public enum Kind: String, Sendable, CaseIterable {
        /// Chosen and rejected differ before their final assistant turn, so the responses span several turns.
        case divergesBeforeFinalTurn = "chosen and rejected diverge before the final assistant turn"
        /// The chosen response is empty (or whitespace).
        case emptyChosen = "empty chosen response"
        /// The rejected response is empty (or whitespace).
        case emptyRejected = "empty rejected response"
        /// Chosen and rejected are identical (the pair carries no preference signal).
        case identicalResponses = "chosen and rejected are identical"
        /// The implicit prompt is empty (nothing in common).
        case emptyPrompt = "no common prompt"
        /// An HH transcript prompt whose turns do not alternate Human/Assistant (e.g. two Assistant turns in a row).
        case nonAlternatingTurns = "prompt turns do not alternate between Human and Assistant"
    }

    /// 1-based line.
    public let line: Int
    /// What is unusual.
    public let kind: Kind

    public var description: String { "line \(line): \(kind.rawValue)" }
}
