import Foundation
import XCTest
@testable import Reports

/// The chart helper: escaped labels, finite coordinates for degenerate data, and one element per point, bar and
/// legend entry.
final class SVGChartTests: XCTestCase {
    static let hostile = #"</text><script>alert("x")</script><img src=x onerror='y'> & more"#

    func count(_ text: String, _ needle: String) -> Int { text.components(separatedBy: needle).count - 1 }

    func assertNoRawMarkup(_ svg: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertFalse(svg.contains("<script") || svg.contains("<img") || svg.contains("onerror='"), svg, file: file, line: line)
        XCTAssertTrue(svg.contains("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&lt;img src=x onerror=&#39;y&#39;&gt; &amp; more"), svg,
                      file: file, line: line)
    }

    func testHostileTitlesLabelsAndNamesAreEscaped() {
        let h = Self.hostile
        let scatter = SVGChart.lines(title: h, series: [SVGChart.Series(h, [SVGChart.Point(0, 1), SVGChart.Point(1, 2)], labels: [h, ""]),
                                                        SVGChart.Series("other", [SVGChart.Point(2, 0)])],
                                     xLabel: h, yLabel: h, style: .points)
        assertNoRawMarkup(scatter)
        // Title, x label, y label, the series' two point titles and its legend entry, and one point label.
        XCTAssertEqual(count(scatter, "&lt;script&gt;"), 7, scatter)
        let bars = SVGChart.bars(title: h, groups: [h], series: [SVGChart.BarSeries(h, values: [0.5])], yLabel: h)
        assertNoRawMarkup(bars)
        XCTAssertEqual(count(bars, "&lt;script&gt;"), 5, bars)  // title, y label, group, bar tooltip, legend
    }

    func testOnePointAndNonFiniteValuesGiveFiniteCoordinates() {
        let one = SVGChart.lines(title: "one", series: [SVGChart.Series("s", [SVGChart.Point(3, 0.5)])], xLabel: "step")
        XCTAssertEqual(count(one, "<circle"), 1, "a single point is drawn as a dot, not an empty line")
        let mixed = SVGChart.lines(title: "mixed", series: [SVGChart.Series("s", [SVGChart.Point(0, .nan), SVGChart.Point(1, 2), SVGChart.Point(.infinity, 1),
                                                                                   SVGChart.Point(2, 3)], labels: ["a", "b", "c", "d"])],
                                   xLabel: "x", style: .points)
        XCTAssertEqual(count(mixed, "<circle"), 2)
        XCTAssertTrue(mixed.contains(">b</text>") && mixed.contains(">d</text>") && !mixed.contains(">a</text>") && !mixed.contains(">c</text>"),
                      "labels stay with their points when non-finite points are dropped")
        let flat = SVGChart.bars(title: "zero", groups: ["g"], series: [SVGChart.BarSeries("s", values: [0])])
        for svg in [one, mixed, flat] {
            XCTAssertFalse(svg.lowercased().contains("nan") || svg.lowercased().contains("inf"), svg)
            XCTAssertTrue(svg.hasPrefix("<svg ") && svg.hasSuffix("</svg>\n"))
        }
        XCTAssertEqual(SVGChart.lines(title: "none", series: [SVGChart.Series("s", [SVGChart.Point(.nan, 1)])], xLabel: "x"), "")
        XCTAssertEqual(SVGChart.bars(title: "none", groups: ["g"], series: [SVGChart.BarSeries("s", values: [nil])]), "")
    }

    /// A point label goes right of its point where it fits in the plot, else left: a long label at 60% of the width
    /// goes left (the quickstart's Elo plane put "SL-CAI + DPO, irrelevant constitution" past the edge there), a short
    /// one stays right, and one near the left edge stays right whatever its length.
    func testPointLabelsStayInsideThePlot() {
        let long = "SL-CAI + DPO, irrelevant constitution"
        let svg = SVGChart.lines(title: "t", series: [SVGChart.Series("a", [SVGChart.Point(0, 0), SVGChart.Point(6, 1), SVGChart.Point(10, 2),
                                                                            SVGChart.Point(6.2, 3)], labels: ["left " + long, long, "end", "short"])],
                                 xLabel: "x", style: .points)
        func anchor(_ label: String) -> String? {
            guard let end = svg.range(of: ">\(HTMLPage.escape(label))</text>") else { return nil }
            let start = svg[..<end.lowerBound].range(of: "<text ", options: .backwards)!
            return svg[start.upperBound..<end.lowerBound].contains("text-anchor=\"end\"") ? "left" : "right"
        }
        XCTAssertEqual(anchor(long), "left")
        XCTAssertEqual(anchor("end"), "left")
        XCTAssertEqual(anchor("short"), "right")
        XCTAssertEqual(anchor("left " + long), "right")
    }

    func testAxisRangesAndTickLabels() {
        let single = ChartAxis(covering: [5])
        XCTAssertLessThan(single.lower, 5)
        XCTAssertGreaterThan(single.upper, 5)
        let empty = ChartAxis(covering: [.nan])
        XCTAssertTrue(empty.lower.isFinite && empty.upper.isFinite && empty.upper > empty.lower)
        let zero = ChartAxis(covering: [0, 0])
        XCTAssertEqual(zero.ticks.first, -1)
        XCTAssertEqual(zero.ticks.last, 1)

        let steps = ChartAxis(covering: [0.3, 9.2])
        XCTAssertEqual(steps.ticks, [0, 2, 4, 6, 8, 10])
        XCTAssertEqual(steps.ticks.map(steps.label), ["0", "2", "4", "6", "8", "10"])
        let fractions = ChartAxis(covering: [-1, 1])
        XCTAssertEqual(fractions.ticks.map(fractions.label), ["-1.0", "-0.5", "0.0", "0.5", "1.0"], "no \"-0.0\"")
        let rates = ChartAxis(lower: 0, upper: 1, step: 0.25, percent: true)
        XCTAssertEqual(rates.ticks.map(rates.label), ["0%", "25%", "50%", "75%", "100%"])

        let chart = SVGChart.lines(title: "t", series: [SVGChart.Series("s", [SVGChart.Point(0.3, 1), SVGChart.Point(9.2, 2)])], xLabel: "step")
        for label in ["0", "2", "4", "6", "8", "10"] { XCTAssertTrue(chart.contains(">\(label)</text>"), label) }
        XCTAssertTrue(chart.contains(">step</text>"))
    }

    func testOneElementPerPointBarAndLegendEntry() {
        let curves = SVGChart.lines(title: "t", series: [SVGChart.Series("a", [SVGChart.Point(0, 1), SVGChart.Point(1, 2), SVGChart.Point(2, 1)]),
                                                         SVGChart.Series("b", [SVGChart.Point(0, 0), SVGChart.Point(2, 3)])],
                                    xLabel: "x")
        XCTAssertEqual(count(curves, "<polyline"), 2)
        XCTAssertEqual(count(curves, "<circle"), 0)
        XCTAssertEqual(count(curves, "<rect"), 2, "a legend swatch per series")
        let single = SVGChart.lines(title: "t", series: [SVGChart.Series("a", [SVGChart.Point(0, 1), SVGChart.Point(1, 2)])], xLabel: "x")
        XCTAssertEqual(count(single, "<rect"), 0, "no legend for one series")

        let scatter = SVGChart.lines(title: "t", series: [SVGChart.Series("a", [SVGChart.Point(0, 1), SVGChart.Point(1, 2)], labels: ["", "end"]),
                                                          SVGChart.Series("b", [SVGChart.Point(3, 0)], labels: ["only"])],
                                     xLabel: "x", style: .points)
        XCTAssertEqual(count(scatter, "<circle"), 3)
        XCTAssertEqual(count(scatter, "<title>a</title>"), 2)
        XCTAssertEqual(count(scatter, ">end</text>") + count(scatter, ">only</text>"), 2)

        let bars = SVGChart.bars(title: "t", groups: ["g1", "g2", "g3"],
                                 series: [SVGChart.BarSeries("m1", values: [0.2, 0.4, nil], intervals: [0.1...0.3, nil, nil]),
                                          SVGChart.BarSeries("m2", values: [0.5, 0.6, 0.7], intervals: [0.4...0.6, 0.5...0.7, nil])],
                                 yAxis: ChartAxis(lower: 0, upper: 1, step: 0.25, percent: true))
        XCTAssertEqual(count(bars, "</rect>"), 5, "a bar per value (legend swatches are empty rects)")
        XCTAssertEqual(count(bars, "<rect"), 5 + 2)
        XCTAssertEqual(count(bars, "<path d=\"M"), 1 + 3, "the axes and an error bar per interval")
        for group in ["g1", "g2", "g3"] { XCTAssertEqual(count(bars, ">\(group)</text>"), 1) }
        XCTAssertTrue(bars.contains("<title>m2: 70.0%</title>"))
    }

    func testLegendWrapsToFitTheWidth() {
        let names = (1...8).map { "a rather long series name \($0)" }
        let svg = SVGChart.lines(title: "t", series: names.enumerated().map { SVGChart.Series($1, [SVGChart.Point(0, Double($0)), SVGChart.Point(1, 1)]) },
                                 xLabel: "x", width: 440, height: 220)
        guard let range = svg.range(of: #"height="(\d+)""#, options: .regularExpression) else { return XCTFail(svg) }
        let height = Int(svg[range].dropFirst(8).dropLast()) ?? 0
        XCTAssertGreaterThanOrEqual(height, 220 + 4 * 16, "eight long names need at least four rows at 440 px")
        let xs = svg.components(separatedBy: "<rect x=\"").dropFirst().compactMap { Double($0.prefix { $0 != "\"" }) }
        XCTAssertEqual(xs.count, 8)
        XCTAssertTrue(xs.allSatisfy { $0 + 14 + 6.2 * 27 <= 440 }, "every entry starts where it fits: \(xs)")
    }
}
