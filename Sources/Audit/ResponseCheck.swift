/// Heuristics for responses that look cut off mid-generation.
enum ResponseCheck {
    /// Why `response` looks truncated, or nil: it ends on a comma, colon, semicolon or an open bracket (not an
    /// emoticon such as ":-("), or inside a Markdown code fence (an odd number of ```` ``` ````). A response that merely lacks a final full stop is
    /// not flagged (human and model answers often end without one).
    static func truncation(_ response: String) -> String? {
        let scalars = response.unicodeScalars
        guard let end = scalars.lastIndex(where: { !$0.properties.isWhitespace }) else { return nil }
        let last = scalars[end]
        // An emoticon such as ":(" or ":-(" ends a sentence; it is not an open bracket.
        let isEmoticon = last == "(" && end > scalars.startIndex && ":;=-".unicodeScalars.contains(scalars[scalars.index(before: end)])
        if ",:;([{".unicodeScalars.contains(last) && !isEmoticon { return "ends with \"\(last)\"" }
        var fences = 0, run = 0
        for byte in response.utf8 {
            run = byte == UInt8(ascii: "`") ? run + 1 : 0
            if run == 3 { fences += 1; run = 0 }
        }
        return fences % 2 == 1 ? "ends inside a code fence" : nil
    }
}
