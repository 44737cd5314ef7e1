import Foundation
import JSON
import Templates

/// The Python string semantics the families' Jinja templates rely on (`trim`, `split`, `strip('\n')`, `tojson`),
/// from the Jinja interpreter's `PythonText`, so native formats and interpreted templates cannot disagree.
extension ChatTemplate {
    /// Jinja's `trim` filter and Python's `str.strip()`: removes Python whitespace (`str.isspace`) from both ends.
    static func jinjaTrim(_ text: String) -> String { PythonText.strip(text) }

    /// Python's `text.split(separator)`, byte for byte (Swift's `String` comparisons are grapheme-aware).
    static func pythonSplit(_ text: String, _ separator: String) -> [String] { PythonText.split(text, separator) }

    /// Python's `strip`/`lstrip`/`rstrip` with an explicit character (one Unicode scalar).
    static func strip(_ text: String, _ character: Unicode.Scalar, leading: Bool = true,
                      trailing: Bool = true) -> String {
        PythonText.strip(text, String(character), leading: leading, trailing: trailing)
    }

    static func utf8(_ text: String, startsWith prefix: String) -> Bool { PythonText.startsWith(text, prefix) }
    static func utf8(_ text: String, endsWith suffix: String) -> Bool { PythonText.endsWith(text, suffix) }

    /// Jinja's `tojson` filter on a string, i.e. Python's `json.dumps(text, ensure_ascii=False)`: quotes,
    /// backslashes and control characters escaped (`\b`, `\u0001`), everything else — U+2028 included — as is.
    static func pythonJSONString(_ text: String) -> String { JSONValue.quoted(text, style: .python) }
}
