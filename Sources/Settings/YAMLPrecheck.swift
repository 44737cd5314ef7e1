/// The check every YAML entry point runs before handing text to Yams: a linear pre-scan of the text (no parse)
/// for nesting depth (indentation levels, `- ` and `? ` entries on one line, `[`/`{` flow collections) and for
/// the size of alias expansion (each anchor's node is measured as it is read; each alias adds its anchor's size).
///
/// The scan follows YAML's lexical structure (quoted and block scalars, comments, flow and block context) closely
/// enough to measure real files exactly and hostile ones from above; it accepts anything it cannot measure and
/// leaves syntax errors to the parser.
///
/// ```swift
/// try YAMLPrecheck.check(text, file: path)     // throws YAMLLimitError naming file:line
/// let value = try Yams.load(yaml: text)
/// ```
public enum YAMLPrecheck {
    /// Throws when `text` nests deeper than `limits.maximumDepth` or its aliases expand to more than
    /// `limits.maximumAliasExpansion` nodes.
    /// - Parameter file: names the source in the error.
    /// - Throws: ``YAMLLimitError``.
    public static func check(_ text: String, file: String, limits: YAMLLimits = YAMLLimits()) throws {
        var scanner = YAMLScanner(bytes: Array(text.utf8), file: file, limits: limits)
        try scanner.scan()
    }
}
