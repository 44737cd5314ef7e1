import Foundation

/// Quote checking for debates over a hidden text (Khan et al. 2024, §2): a debater marks quotes as
/// `<quote>…</quote>`; each is verified when it occurs verbatim in the source (after collapsing whitespace), and the
/// judge sees `<v_quote>…</v_quote>` for a verified quote and `<u_quote>…</u_quote>` for one that is not.
public enum QuoteVerification {
    /// One quote and whether the source contains it.
    public struct Quote: Codable, Equatable, Sendable {
        public var text: String
        public var verified: Bool
    }

    /// The quotes of `argument`, in order.
    public static func quotes(in argument: String, source: String) -> [Quote] {
        let haystack = collapsed(source)
        return spans(in: argument).map { span in
            let text = String(argument[span.inner])
            let needle = collapsed(text)
            return Quote(text: text, verified: !needle.isEmpty && haystack.contains(needle))
        }
    }

    /// `argument` as the judge reads it: every `<quote>` rewritten as `<v_quote>` or `<u_quote>`.
    public static func marked(_ argument: String, source: String) -> String {
        let haystack = collapsed(source)
        var result = "", position = argument.startIndex
        for span in spans(in: argument) {
            result += argument[position..<span.outer.lowerBound]
            let needle = collapsed(String(argument[span.inner]))
            let tag = !needle.isEmpty && haystack.contains(needle) ? "v_quote" : "u_quote"
            result += "<\(tag)>\(argument[span.inner])</\(tag)>"
            position = span.outer.upperBound
        }
        return result + argument[position...]
    }

    /// Ranges of complete `<quote>…</quote>` elements (an unclosed quote is left as text).
    static func spans(in text: String) -> [(outer: Range<String.Index>, inner: Range<String.Index>)] {
        var spans: [(Range<String.Index>, Range<String.Index>)] = [], searchStart = text.startIndex
        while let open = text.range(of: "<quote>", range: searchStart..<text.endIndex),
              let close = text.range(of: "</quote>", range: open.upperBound..<text.endIndex) {
            spans.append((open.lowerBound..<close.upperBound, open.upperBound..<close.lowerBound))
            searchStart = close.upperBound
        }
        return spans
    }

    /// Whitespace runs as single spaces, trimmed.
    static func collapsed(_ text: String) -> String {
        text.split(whereSeparator: \.isWhitespace).joined(separator: " ")
    }
}
