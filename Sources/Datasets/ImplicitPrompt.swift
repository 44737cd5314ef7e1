import Foundation

/// Extracts the shared prompt of an implicit-prompt preference pair (`{"chosen", "rejected"}` without `prompt`).
///
/// - Conversational pairs: the prompt is the longest run of identical leading messages.
/// - Standard strings in Anthropic HH style (containing `"\n\nAssistant:"`): the common prefix cut just after
///   the last `"\n\nAssistant:"` it contains, so responses start at the final assistant turn (with its leading space).
/// - Other strings: TRL's rule, the longest common prefix, moved back one character when the split would fall
///   just after a space (so completions keep their leading space, as tokenizers expect).
///
/// Prefixes are compared by Unicode scalar, as Python indexes strings.
public enum ImplicitPrompt {
    /// Splits a standard pair into prompt and responses; `prompt + chosen` reproduces the input exactly.
    public static func split(chosen: String, rejected: String) -> (prompt: String, chosen: String, rejected: String) {
        let chosenScalars = Array(chosen.unicodeScalars)
        let rejectedScalars = Array(rejected.unicodeScalars)
        var common = 0
        let limit = min(chosenScalars.count, rejectedScalars.count)
        while common < limit && chosenScalars[common] == rejectedScalars[common] { common += 1 }

        var cut = common
        let prefix = String(String.UnicodeScalarView(chosenScalars[0..<common]))
        if let marker = prefix.range(of: HHTranscript.assistantMarker, options: [.backwards, .literal]) {
            cut = prefix.unicodeScalars.distance(from: prefix.unicodeScalars.startIndex, to: marker.upperBound)
        } else if common < limit, common > 0, chosenScalars[common - 1] == " " {
            cut = common - 1
        }
        return (String(String.UnicodeScalarView(chosenScalars[0..<cut])),
                String(String.UnicodeScalarView(chosenScalars[cut...])),
                String(String.UnicodeScalarView(rejectedScalars[cut...])))
    }

    /// Splits a conversational pair at its first differing message.
    public static func split(chosen: [Message], rejected: [Message]) -> (prompt: [Message], chosen: [Message], rejected: [Message]) {
        var common = 0
        while common < min(chosen.count, rejected.count) && chosen[common] == rejected[common] { common += 1 }
        return (Array(chosen[..<common]), Array(chosen[common...]), Array(rejected[common...]))
    }

    /// Irregularities of a split pair worth reporting (none of them make the pair invalid).
    static func quirks(prompt: ExampleText, chosen: ExampleText, rejected: ExampleText, implicit: Bool) -> [DatasetQuirk.Kind] {
        var found: [DatasetQuirk.Kind] = []
        switch (prompt, chosen, rejected) {
        case let (.standard(prompt), .standard(chosen), .standard(rejected)):
            // HH responses should be one assistant turn; further markers mean the transcripts split earlier.
            let markers = [HHTranscript.humanMarker, HHTranscript.assistantMarker]
            if implicit && prompt.contains(HHTranscript.assistantMarker)
                && markers.contains(where: { chosen.contains($0) || rejected.contains($0) })
            {
                found.append(.divergesBeforeFinalTurn)
            }
            if chosen.allSatisfy(\.isWhitespace) { found.append(.emptyChosen) }
            if rejected.allSatisfy(\.isWhitespace) { found.append(.emptyRejected) }
            if chosen == rejected { found.append(.identicalResponses) }
            if implicit && prompt.isEmpty { found.append(.emptyPrompt) }
            if HHTranscript.isTranscript(prompt) && !HHTranscript.turnsAlternate(prompt) { found.append(.nonAlternatingTurns) }
        case let (.conversational(prompt), .conversational(chosen), .conversational(rejected)):
            if implicit && (chosen.count > 1 || rejected.count > 1) { found.append(.divergesBeforeFinalTurn) }
            if chosen.allSatisfy({ $0.content.allSatisfy(\.isWhitespace) }) { found.append(.emptyChosen) }
            if rejected.allSatisfy({ $0.content.allSatisfy(\.isWhitespace) }) { found.append(.emptyRejected) }
            if chosen == rejected { found.append(.identicalResponses) }
            if implicit && prompt.isEmpty { found.append(.emptyPrompt) }
        default:
            break
        }
        return found
    }
}
