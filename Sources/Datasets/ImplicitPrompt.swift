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
        let chosenBytes = Array(chosen.utf8)
        let rejectedBytes = Array(rejected.utf8)
        let limit = min(chosenBytes.count, rejectedBytes.count)
        var common = 0
        while common < limit && chosenBytes[common] == rejectedBytes[common] { common += 1 }
        // Equal bytes up to `common` end on the same scalar boundary in both; back off continuation bytes
        // so the split never falls inside a scalar (byte LCP → scalar LCP, as Python computes it).
        while common > 0 && common < chosenBytes.count && chosenBytes[common] & 0xC0 == 0x80 { common -= 1 }

        var cut = common
        let prefix = String(decoding: chosenBytes[0..<common], as: UTF8.self)
        if let marker = TextSearch.lastRange(of: HHTranscript.assistantMarker, in: prefix[...]) {
            cut = prefix.utf8.distance(from: prefix.utf8.startIndex, to: marker.upperBound)
        } else if common < limit, common > 0, chosenBytes[common - 1] == UInt8(ascii: " ") {
            cut = common - 1
        }
        return (String(decoding: chosenBytes[0..<cut], as: UTF8.self),
                String(decoding: chosenBytes[cut...], as: UTF8.self),
                String(decoding: rejectedBytes[cut...], as: UTF8.self))
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
            if implicit && HHTranscript.isTranscript(prompt)
                && markers.contains(where: { TextSearch.contains($0, in: chosen) || TextSearch.contains($0, in: rejected) })
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
