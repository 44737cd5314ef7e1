/// Anthropic HH-RLHF transcripts: one string of turns, `"\n\nHuman: …\n\nAssistant: …"`.
///
/// Only a marker preceded by a blank line starts a turn; `"Human:"` inside a turn's text (which the real
/// data contains) stays text. Turn contents are trimmed of surrounding whitespace.
public enum HHTranscript {
    /// Starts a user turn.
    public static let humanMarker = "\n\nHuman:"
    /// Starts an assistant turn.
    public static let assistantMarker = "\n\nAssistant:"

    /// Why a string is not an HH transcript.
    public struct ParseError: Error, Equatable, CustomStringConvertible {
        /// What is wrong.
        public let reason: String
        public var description: String { reason }
    }

    /// Whether `text` contains at least one assistant turn marker.
    public static func isTranscript(_ text: String) -> Bool {
        TextSearch.contains(assistantMarker, in: text)
    }

    /// Whether the transcript's turn markers go Human, Assistant, Human, … starting with Human.
    public static func turnsAlternate(_ transcript: String) -> Bool {
        var expectHuman = true
        var rest = transcript[...]
        while let marker = TextSearch.firstRange(of: "\n\n", in: rest) {
            let tail = rest[marker.lowerBound...]
            if tail.hasPrefix(humanMarker) || tail.hasPrefix(assistantMarker) {
                guard tail.hasPrefix(humanMarker) == expectHuman else { return false }
                expectHuman.toggle()
            }
            rest = rest[marker.upperBound...]
        }
        return true
    }

    /// Parses a transcript into messages (Human → user, Assistant → assistant).
    /// - Parameters:
    ///   - transcript: The text.
    ///   - leadingRole: Role of text before the first marker, for fragments that begin mid-turn (e.g. a
    ///     response following a prompt that ended with `"\n\nAssistant:"`); nil requires that text to be blank.
    ///   - dropTrailingEmptyAssistant: Drop a final empty assistant turn (the generation cue at the end of a prompt).
    /// - Throws: ``ParseError`` when text precedes the first turn and no `leadingRole` is given.
    public static func messages(from transcript: String, leadingRole: Role? = nil,
                                dropTrailingEmptyAssistant: Bool = false) throws -> [Message] {
        var messages: [Message] = []
        var role = leadingRole
        var rest = transcript[...]
        while true {
            let human = TextSearch.firstRange(of: humanMarker, in: rest)
            let assistant = TextSearch.firstRange(of: assistantMarker, in: rest)
            let next: (range: Range<Substring.Index>, role: Role)?
            switch (human, assistant) {
            case let (human?, assistant?): next = human.lowerBound < assistant.lowerBound ? (human, .user) : (assistant, .assistant)
            case let (human?, nil): next = (human, .user)
            case let (nil, assistant?): next = (assistant, .assistant)
            case (nil, nil): next = nil
            }
            let text = rest[..<(next?.range.lowerBound ?? rest.endIndex)]
            let content = trimmed(text)
            if let role {
                messages.append(Message(role: role, content: content))
            } else if !content.isEmpty {
                let preview = content.prefix(40)
                throw ParseError(reason: "text before the first \"Human:\"/\"Assistant:\" turn: \"\(preview)\"")
            }
            guard let next else { break }
            role = next.role
            rest = rest[next.range.upperBound...]
        }
        if dropTrailingEmptyAssistant, let last = messages.last, last.role == .assistant, last.content.isEmpty {
            messages.removeLast()
        }
        return messages
    }

    /// `text` without leading and trailing white space (Unicode `White_Space`, which includes newlines).
    static func trimmed(_ text: Substring) -> String {
        let scalars = text.unicodeScalars
        guard let first = scalars.firstIndex(where: { !$0.properties.isWhitespace }),
            let last = scalars.lastIndex(where: { !$0.properties.isWhitespace })
        else { return "" }
        return String(scalars[first...last])
    }

    /// Converts a standard preference pair whose prompt is an HH transcript into conversational form:
    /// the prompt's turns (minus the trailing `"Assistant:"` cue), and each response as assistant-led turns.
    /// - Throws: ``ParseError`` when the prompt is not an HH transcript.
    public static func conversationalPair(prompt: String, chosen: String, rejected: String) throws
        -> (prompt: [Message], chosen: [Message], rejected: [Message])
    {
        guard prompt.hasSuffix(assistantMarker) else {
            throw ParseError(reason: "the prompt does not end with \"\\n\\nAssistant:\", so it is not an HH transcript")
        }
        return (try messages(from: prompt, dropTrailingEmptyAssistant: true),
                try messages(from: chosen, leadingRole: .assistant),
                try messages(from: rejected, leadingRole: .assistant))
    }
}
