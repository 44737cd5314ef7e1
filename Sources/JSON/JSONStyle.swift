/// How ``JSONValue/serialized(_:)`` lays out JSON text. Strings are always escaped the way Python's
/// `json.dumps(…, ensure_ascii=False)` and Rust's `serde_json` (which writes HF `tokenizer.json` and safetensors
/// headers) both do: `\"`, `\\`, `\b`, `\f`, `\n`, `\r`, `\t`, other control characters as `\u00xx`
/// (lower-case hex), everything else — non-ASCII included — as UTF-8. The styles differ only in spacing and in
/// whether the Unicode line separators are escaped too.
public struct JSONStyle: Equatable, Sendable {
    /// Whether `", "` and `": "` separate items and keys from values (Python's default) instead of `","`/`":"`.
    public var isSpaced: Bool
    /// Whether U+2028 and U+2029 are escaped (`\u2028`): line-splitting readers such as Python's
    /// `str.splitlines()` and JavaScript before ES2019 would otherwise break a JSON Lines record in two.
    public var escapesLineSeparators: Bool
    /// Spaces per nesting level when objects and arrays are written one item per line (Python's `indent=`);
    /// nil writes everything on one line.
    public var indentation: Int?

    /// Creates a style.
    public init(isSpaced: Bool, escapesLineSeparators: Bool, indentation: Int? = nil) {
        self.isSpaced = isSpaced
        self.escapesLineSeparators = escapesLineSeparators
        self.indentation = indentation
    }

    /// No spaces: `serde_json::to_string`, `json.dumps(x, ensure_ascii=False, separators=(",", ":"))`.
    /// For `tokenizer.json` and safetensors headers.
    public static let compact = JSONStyle(isSpaced: false, escapesLineSeparators: false)

    /// Exactly Python's `json.dumps(x, ensure_ascii=False)`, as Jinja's `tojson` filter in HF chat templates
    /// produces it.
    public static let python = JSONStyle(isSpaced: true, escapesLineSeparators: false)

    /// One JSON Lines record: Python's spacing (TRL/`datasets` users diff these files) with U+2028/U+2029 escaped
    /// so that every reader sees one record per line.
    public static let jsonLines = JSONStyle(isSpaced: true, escapesLineSeparators: true)

    /// Compact JSON Lines records for logs that programs read back (item logs, failure logs): no spaces, U+2028/U+2029
    /// escaped so that one record stays one line.
    public static let compactLines = JSONStyle(isSpaced: false, escapesLineSeparators: true)

    /// Exactly Python's `json.dumps(x, ensure_ascii=False, indent=2)`, as transformers writes `config.json`
    /// (`"key": value`, one item per line, empty containers as `{}`/`[]`). For files people read.
    public static let indented = JSONStyle(isSpaced: true, escapesLineSeparators: false, indentation: 2)
}
