import Foundation
import XCTest
@testable import Reports

/// Pages, results files, statistics and table cells.
final class ReportPageTests: XCTestCase {
    func testPageEscapesHostileTextAndIsSelfContained() {
        var page = HTMLPage(title: "</title><script>alert(1)</script>")
        page.heading("run <b onmouseover=\"x\">")
        page.paragraph("a & b 'quoted'")
        page.preformatted("<table>")
        page.chart(SVGChart.lines(title: "<script>", series: [SVGChart.Series("s", [SVGChart.Point(0, 1), SVGChart.Point(1, 0)])], xLabel: "x"))
        let html = page.html
        XCTAssertFalse(html.contains("<script") || html.contains("<b ") || html.contains("<table>"), html)
        XCTAssertTrue(html.contains("<title>&lt;/title&gt;&lt;script&gt;alert(1)&lt;/script&gt;</title>"))
        XCTAssertTrue(html.contains("<h1>run &lt;b onmouseover=&quot;x&quot;&gt;</h1>"))
        XCTAssertTrue(html.contains("<p>a &amp; b &#39;quoted&#39;</p>"))
        XCTAssertTrue(html.contains("<pre>&lt;table&gt;</pre>"))
        XCTAssertFalse(html.contains("src=") || html.contains("href=") || html.contains("<link"), "no external resources")
        XCTAssertTrue(html.hasPrefix("<!DOCTYPE html>") && html.contains("<style>") && html.hasSuffix("</body></html>"))
        XCTAssertEqual(HTMLPage.escape("π_ref β ‖"), "π_ref β ‖", "non-ASCII text is kept as is")
    }

    func testTableEscapesCellsAndAlignsNumbers() {
        var page = HTMLPage(title: "t")
        page.table(header: ["model", "rate"], rows: [["<b>x</b>", "12.5% [1.0, 2.0]"], ["y & z", "–"], ["two\nlines", ""]], caption: "a <caption>")
        let html = page.body
        XCTAssertTrue(html.contains("<table><caption>a &lt;caption&gt;</caption><thead><tr><th>model</th><th>rate</th></tr></thead>"), html)
        XCTAssertTrue(html.contains("<tr><td>&lt;b&gt;x&lt;/b&gt;</td><td class=\"num\">12.5% [1.0, 2.0]</td></tr>"), html)
        XCTAssertTrue(html.contains("<td>y &amp; z</td>"), html)
        XCTAssertTrue(html.contains("<td>two<br>lines</td>"), html)
        XCTAssertFalse(html.contains("<b>"))
    }

    struct Sample: Codable, Equatable { var path: String; var values: [Double]; var name: String }

    func testResultsAndPageFilesAreWritten() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("charter-reports-\(UUID().uuidString)/nested")
        defer { try? FileManager.default.removeItem(at: directory.deletingLastPathComponent()) }
        let sample = Sample(path: "runs/a/b", values: [1, 2.5], name: "x")
        let url = try ResultsFile.write(sample, to: directory)
        XCTAssertEqual(url.lastPathComponent, "results.json")
        let text = try String(contentsOf: url, encoding: .utf8)
        XCTAssertTrue(text.contains("\"runs/a/b\""), "slashes unescaped: \(text)")
        XCTAssertLessThan(try XCTUnwrap(text.range(of: "\"name\"")).lowerBound, try XCTUnwrap(text.range(of: "\"path\"")).lowerBound, "keys sorted")
        XCTAssertEqual(try JSONDecoder().decode(Sample.self, from: Data(contentsOf: url)), sample)
        let page = try HTMLPage(title: "t").write(to: directory)
        XCTAssertEqual(try String(contentsOf: page, encoding: .utf8), HTMLPage(title: "t").html)
    }

    func testMeanAndStandardError() {
        let (mean, error) = Statistics.meanAndStandardError([1, 2, 3, 4])
        XCTAssertEqual(mean, 2.5)
        XCTAssertEqual(error, (5.0 / 3.0 / 4.0).squareRoot(), accuracy: 1e-12)
        XCTAssertEqual(Statistics.meanAndStandardError([7]).standardError, 0)
        XCTAssertEqual(Statistics.mean([]), 0)
    }

    func testTableCells() {
        XCTAssertEqual(TableText.meanWithInterval([0.61], errors: [0.02], digits: 3), "0.610 ± 0.020")
        XCTAssertEqual(TableText.meanWithInterval([0.61, 0.62], errors: [0.02, 0.02], digits: 3), "0.615 (0.610–0.620)")
        XCTAssertEqual(TableText.meanWithInterval([], errors: [], digits: 3), "–")
        XCTAssertEqual(TableText.percent([0.125]), "12.5%")
        XCTAssertEqual(TableText.percent([0.083, 0.167]), "12.5% (8–17)")
        XCTAssertEqual(TableText.percent([]), "–")
        XCTAssertEqual(TableText.pad("ab", 4), "ab  ")
        XCTAssertEqual(TableText.pad("abcd", 4), "abcd ")
    }
}
