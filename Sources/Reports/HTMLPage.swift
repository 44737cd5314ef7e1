import Foundation
import Runtime

/// A self-contained HTML report page: inline CSS, no scripts, no external resources. Text added through
/// ``heading(_:level:)``, ``paragraph(_:)`` and ``preformatted(_:)`` is escaped; charts come from ``SVGChart``,
/// which escapes its own labels.
///
/// ```swift
/// var page = HTMLPage(title: "Charter quickstart")
/// page.heading("Charter quickstart: \(name)")
/// page.preformatted(table)
/// page.chart(SVGChart.bars(title: "rates", groups: groups, series: series))
/// try page.write(to: directory)
/// ```
public struct HTMLPage: Sendable {
    /// The `<title>` (escaped when rendered).
    public var title: String
    /// The body's HTML so far.
    public private(set) var body = ""

    static let style = """
        body{font-family:system-ui,sans-serif;max-width:1000px;margin:2em auto;padding:0 1em;color:#222;line-height:1.45}\
        pre{background:#f6f6f6;padding:1em;overflow-x:auto}\
        svg{background:#fff;border:1px solid #ddd;margin:0.5em 0;max-width:100%;height:auto}\
        h2{margin-top:1.6em}\
        table{border-collapse:collapse;margin:0.8em 0;font-size:0.92em}\
        caption{caption-side:top;text-align:left;font-weight:600;padding-bottom:0.3em}\
        th,td{border-bottom:1px solid #ddd;padding:0.25em 0.6em;text-align:left;vertical-align:top}\
        th{background:#f3f3f3}td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}
        """

    public init(title: String) { self.title = title }

    /// Escapes text for HTML content and attribute values: `&`, `<`, `>`, `"` and `'`.
    public static func escape(_ text: String) -> String {
        var escaped = ""
        escaped.reserveCapacity(text.utf8.count)
        for character in text {
            switch character {
            case "&": escaped += "&amp;"
            case "<": escaped += "&lt;"
            case ">": escaped += "&gt;"
            case "\"": escaped += "&quot;"
            case "'": escaped += "&#39;"
            default: escaped.append(character)
            }
        }
        return escaped
    }

    /// Appends `<h1>`…`<h6>` (level clamped to 1…6).
    public mutating func heading(_ text: String, level: Int = 1) {
        let level = min(max(level, 1), 6)
        body += "<h\(level)>\(Self.escape(text))</h\(level)>\n"
    }

    /// Appends a paragraph of plain text.
    public mutating func paragraph(_ text: String) { body += "<p>\(Self.escape(text))</p>\n" }

    /// Appends preformatted text (terminal tables).
    public mutating func preformatted(_ text: String) { body += "<pre>\(Self.escape(text))</pre>\n" }

    /// Appends an SVG chart (``SVGChart``'s output, already escaped).
    public mutating func chart(_ svg: String) { body += svg }

    /// Appends markup the toolkit built (its text already escaped).
    mutating func appendHTML(_ html: String) { body += html }

    /// A table: a header row and body rows of plain-text cells (escaped; a newline in a cell becomes a line break);
    /// `caption` above it. Cells after the first column are right-aligned when they start with a digit, a sign or a dash.
    public mutating func table(header: [String], rows: [[String]], caption: String? = nil) {
        func cell(_ text: String, _ tag: String, _ column: Int) -> String {
            let numeric = column > 0 && text.first.map { $0.isNumber || "+-−–".contains($0) } == true
            return "<\(tag)\(numeric ? " class=\"num\"" : "")>\(Self.escape(text).replacingOccurrences(of: "\n", with: "<br>"))</\(tag)>"
        }
        body += "<table>"
        if let caption { body += "<caption>\(Self.escape(caption))</caption>" }
        body += "<thead><tr>" + header.enumerated().map { cell($0.element, "th", $0.offset) }.joined() + "</tr></thead><tbody>\n"
        for row in rows { body += "<tr>" + row.enumerated().map { cell($0.element, "td", $0.offset) }.joined() + "</tr>\n" }
        body += "</tbody></table>\n"
    }

    /// The whole document.
    public var html: String {
        """
        <!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
        <title>\(Self.escape(title))</title>
        <style>\(Self.style)\(Self.sectionStyle)</style></head><body>
        \(body)</body></html>
        """
    }

    /// Writes the page as `directory/name`, creating the folder; returns the file's URL.
    /// - Throws: file-system errors.
    @discardableResult
    public func write(to directory: URL, name: String = "report.html") throws -> URL {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let url = directory.appendingPathComponent(name)
        try AtomicFile.write(Data(html.utf8), to: url)
        return url
    }
}
