/// Heuristics for responses that look cut off mid-generation.
enum ResponseCheck {
    /// Why `response` looks truncated, or nil: it ends on a comma, colon, semicolon or an open bracket or quote, or
    /// inside a Markdown code fence (an odd number of ```` ``` ````). A response that merely lacks a final full stop is
    /// not flagged (human and model answers often end without one).
    static func truncation(_ response: String) -> String? {
        guard let last = response.unicodeScalars.last(where: { !$0.properties.isWhitespace }) else { return nil }
        if ",:;([{".unicodeScalars.contains(last) { return "ends with \"\(last)\"" }
        var fences = 0, run = 0
        for byte in response.utf8 {
            run = byte == UInt8(ascii: "`") ? run + 1 : 0
            if run == 3 { fences += 1; run = 0 }
        }
        return fences % 2 == 1 ? "ends inside a code fence" : nil
    }
}
