import Foundation

/// The explanatory pieces of a report page: warning callouts, definition lists and side-by-side example generations.
extension HTMLPage {
    static let sectionStyle = """
        .warning{border-left:5px solid #d35400;background:#fff4e5;padding:0.6em 1em;margin:0.8em 0}\
        .ok{border-left:5px solid #27ae60;background:#eef8f0;padding:0.6em 1em;margin:0.8em 0}\
        dl{margin:0.6em 0}dt{font-weight:600;margin-top:0.5em}dd{margin:0.1em 0 0 1.5em}\
        table.examples{width:100%;table-layout:fixed}table.examples td.response{white-space:pre-wrap;overflow-wrap:anywhere}\
        table.examples col.model{width:14em}table.examples col.verdict{width:10em}\
        .charts{display:flex;flex-wrap:wrap;gap:0 1em}
        """

    /// Appends a visible warning callout (`role="alert"`) holding `text` (escaped).
    public mutating func warning(_ text: String) {
        appendHTML("<div class=\"warning\" role=\"alert\"><strong>Warning:</strong> \(Self.escape(text))</div>\n")
    }

    /// Appends a callout that says a set of checks passed (escaped).
    public mutating func passed(_ text: String) {
        appendHTML("<div class=\"ok\" role=\"status\">\(Self.escape(text))</div>\n")
    }

    /// Appends a definition list: each term in bold, its explanation below it (both escaped).
    public mutating func definitions(_ items: [(term: String, text: String)]) {
        guard !items.isEmpty else { return }
        appendHTML("<dl>" + items.map { "<dt>\(Self.escape($0.term))</dt><dd>\(Self.escape($0.text))</dd>" }.joined() + "</dl>\n")
    }

    /// Appends one table per example: its prompt as the caption, then a row per model with the response (whitespace
    /// kept, long words wrapped) and the verdict. Everything is escaped.
    /// - Parameter id: the `id` of the `<div>` holding the tables (for links and screenshots), or nil for none.
    public mutating func examples(_ examples: [GenerationExample], id: String? = nil) {
        guard !examples.isEmpty else { return }
        appendHTML("<div\(Self.idAttribute(id))>\n")
        for example in examples {
            var html = "<table class=\"examples\"><colgroup><col class=\"model\"><col><col class=\"verdict\"></colgroup>"
            html += "<caption>\(Self.escape(example.kind)) (\(Self.escape(example.id))): “\(Self.escape(example.prompt))”</caption>"
            html += "<thead><tr><th>model</th><th>response</th><th>verdict</th></tr></thead><tbody>\n"
            for response in example.responses {
                html += "<tr><td>\(Self.escape(response.model))</td><td class=\"response\">\(Self.escape(response.text))</td><td>\(Self.escape(response.verdict))</td></tr>\n"
            }
            appendHTML(html + "</tbody></table>\n")
        }
        appendHTML("</div>\n")
    }

    /// ` id="…"` (escaped), or "" for nil.
    static func idAttribute(_ id: String?) -> String { id.map { " id=\"\(escape($0))\"" } ?? "" }

    /// Appends charts side by side (wrapping to the next row when the page is narrow).
    /// - Parameter id: the `id` of the `<div>` holding them, or nil for none.
    public mutating func charts(_ svgs: [String], id: String? = nil) {
        let drawn = svgs.filter { !$0.isEmpty }
        guard !drawn.isEmpty else { return }
        appendHTML("<div class=\"charts\"\(Self.idAttribute(id))>" + drawn.joined() + "</div>\n")
    }

    /// Appends the checks' outcomes: a warning callout per failed check, a table of every check with its threshold
    /// and measurement, and the thresholds in a sentence.
    public mutating func trainingChecks(_ outcomes: [TrainingChecks.Outcome]) {
        guard !outcomes.isEmpty else { return }
        let failed = outcomes.filter(\.failed)
        appendHTML("<div id=\"training-checks\">\n")
        defer { appendHTML("</div>\n") }
        for outcome in failed { warning(outcome.warning) }
        if failed.isEmpty { passed("Every training check passed (\(outcomes.count) check\(outcomes.count == 1 ? "" : "s")): no reward model at chance, no PPO run whose KL exploded.") }
        table(header: ["stage", "check", "threshold", "measured", "result"],
              rows: outcomes.map { [$0.stage, $0.check, $0.threshold, $0.measured, $0.failed ? "WARNING" : "ok"] })
        paragraph(TrainingChecks.description)
    }
}
