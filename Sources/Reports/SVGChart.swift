import Foundation

/// The one chart helper of Charter's reports: grouped bars with error bars, and line or scatter plots, as inline SVG
/// with a title, labelled axes, tick labels and a legend that wraps to fit. Every label is escaped; non-finite values
/// are left out, so the output never holds `nan` or `inf`.
public enum SVGChart {
    /// A line or scatter series.
    public struct Series: Sendable {
        public var name: String
        public var points: [Point]
        /// Per point, a label written next to it in scatter plots ("" for none).
        public var labels: [String]

        public init(_ name: String, _ points: [Point], labels: [String] = []) {
            self.name = name
            self.points = points
            self.labels = labels
        }
    }

    /// An (x, y) point.
    public struct Point: Equatable, Sendable {
        public var x: Double
        public var y: Double
        public init(_ x: Double, _ y: Double) { (self.x, self.y) = (x, y) }
    }

    /// One bar per group: its height and, optionally, an interval drawn as an error bar.
    public struct BarSeries: Sendable {
        public var name: String
        /// Per group (as many as the chart's groups), the bar's value, or nil for no bar.
        public var values: [Double?]
        /// Per group, the error bar's range (e.g. min–max over seeds), or nil for none.
        public var intervals: [ClosedRange<Double>?]

        public init(_ name: String, values: [Double?], intervals: [ClosedRange<Double>?] = []) {
            self.name = name
            self.values = values
            self.intervals = intervals
        }
    }

    /// How ``lines(title:series:xLabel:yLabel:style:width:height:)`` draws each series.
    public enum Style: Sendable {
        /// Points joined by a line (training curves).
        case lines
        /// A dot per point, with the series' labels next to them (frontiers).
        case points
    }

    static let colours = ["#c0392b", "#27ae60", "#f39c12", "#2980b9", "#8e44ad", "#7f8c8d", "#16a085", "#d35400", "#2c3e50", "#e84393"]

    static func colour(_ index: Int) -> String { colours[index % colours.count] }

    /// A line chart (or scatter plot) of `series` on axes fitted to their finite points; "" when there are none.
    /// - Parameters:
    ///   - style: join the points with a line, or mark each with a dot (and its label).
    ///   - width, height: the plot's size in pixels (a legend, shown for two or more series, adds rows below).
    public static func lines(title: String, series: [Series], xLabel: String, yLabel: String = "", style: Style = .lines,
                             width: Double = 440, height: Double = 220) -> String {
        let finite = series.map { item -> Series in
            let kept = item.points.indices.filter { item.points[$0].x.isFinite && item.points[$0].y.isFinite }
            return Series(item.name, kept.map { item.points[$0] }, labels: kept.map { $0 < item.labels.count ? item.labels[$0] : "" })
        }
        let all = finite.flatMap(\.points)
        guard !all.isEmpty else { return "" }
        let frame = Frame(title: title, width: width, height: height, xAxis: ChartAxis(covering: all.map(\.x)),
                          yAxis: ChartAxis(covering: all.map(\.y)), legend: finite.count > 1 ? finite.map(\.name) : [])
        var svg = frame.open() + frame.yGrid() + frame.xTicks() + frame.axisLabels(x: xLabel, y: yLabel)
        for (index, item) in finite.enumerated() {
            let colour = Self.colour(index), name = HTMLPage.escape(item.name)
            if style == .points || item.points.count == 1 {
                for point in item.points {
                    svg += "<circle cx=\"\(f(frame.x(point.x)))\" cy=\"\(f(frame.y(point.y)))\" r=\"\(style == .points ? 4 : 3)\" fill=\"\(colour)\"><title>\(name)</title></circle>"
                }
            } else {
                svg += "<polyline fill=\"none\" stroke=\"\(colour)\" stroke-width=\"1.5\" points=\""
                    + item.points.map { "\(f(frame.x($0.x))),\(f(frame.y($0.y)))" }.joined(separator: " ") + "\"/>"
            }
            guard style == .points else { continue }
            for (point, label) in zip(item.points, item.labels) where !label.isEmpty {
                // A label goes right of its point when it fits inside the plot there (about 5.6 px per character at
                // font size 10), else left when it fits there, else to the side with more room.
                let x = frame.x(point.x), labelWidth = 5.6 * Double(label.count) + 6
                let roomRight = frame.plotLeft + frame.plotWidth - x, roomLeft = x - frame.plotLeft
                let right = roomRight < labelWidth && (roomLeft >= labelWidth || roomLeft > roomRight)
                svg += "<text x=\"\(f(right ? x - 6 : x + 6))\" y=\"\(f(frame.y(point.y) - 6))\" font-size=\"10\" text-anchor=\"\(right ? "end" : "start")\" fill=\"\(colour)\">\(HTMLPage.escape(label))</text>"
            }
        }
        return svg + frame.legendSVG() + "</svg>\n"
    }

    /// A histogram: `bins` equal-width bins over [`lower`, `upper`] (values outside go to the end bins, non-finite
    /// ones are left out), one bar series per entry of `series` (e.g. positives and negatives side by side), each bin
    /// labelled by its centre.
    public static func histogram(title: String, series: [(name: String, values: [Double])], lower: Double, upper: Double, bins: Int,
                                 yLabel: String = "count") -> String {
        precondition(bins > 0 && upper > lower, "a histogram needs bins > 0 and upper > lower")
        let width = (upper - lower) / Double(bins)
        let counted = series.map { item -> BarSeries in
            var counts = [Double](repeating: 0, count: bins)
            for value in item.values where value.isFinite {
                counts[min(bins - 1, max(0, Int(((value - lower) / width).rounded(.down))))] += 1
            }
            return BarSeries(item.name, values: counts)
        }
        let labels = (0..<bins).map { String(format: "%.4g", lower + (Double($0) + 0.5) * width) }
        return bars(title: title, groups: labels, series: counted, yLabel: yLabel)
    }

    /// Grouped bars: one group per entry of `groups`, one bar per series in each, with error bars where the series
    /// has intervals; "" when no bar has a finite value.
    /// - Parameters:
    ///   - yAxis: a fixed axis (e.g. rates, 0…1 as percentages); by default fitted to the values, intervals and 0.
    public static func bars(title: String, groups: [String], series: [BarSeries], yLabel: String = "", yAxis: ChartAxis? = nil,
                            width: Double = 900, height: Double = 300) -> String {
        func finiteValue(_ item: BarSeries, _ group: Int) -> Double? {
            guard group < item.values.count, let value = item.values[group], value.isFinite else { return nil }
            return value
        }
        func finiteInterval(_ item: BarSeries, _ group: Int) -> ClosedRange<Double>? {
            guard group < item.intervals.count, let range = item.intervals[group], range.lowerBound.isFinite, range.upperBound.isFinite else { return nil }
            return range
        }
        let values = series.flatMap { item in groups.indices.compactMap { finiteValue(item, $0) } }
        guard !values.isEmpty else { return "" }
        let ranges = series.flatMap { item in groups.indices.compactMap { finiteInterval(item, $0) } }
        let axis = yAxis ?? ChartAxis(covering: values + ranges.flatMap { [$0.lowerBound, $0.upperBound] } + [0])
        let frame = Frame(title: title, width: width, height: height, xAxis: ChartAxis(lower: 0, upper: 1, step: 1), yAxis: axis,
                          legend: series.map(\.name))
        var svg = frame.open() + frame.yGrid() + frame.axisLabels(x: "", y: yLabel)
        let groupWidth = frame.plotWidth / Double(max(groups.count, 1))
        let barWidth = groupWidth * 0.8 / Double(max(series.count, 1))
        let baseline = frame.y(min(max(0, axis.lower), axis.upper))
        for (group, label) in groups.enumerated() {
            let start = frame.plotLeft + Double(group) * groupWidth + groupWidth * 0.1
            for (index, item) in series.enumerated() {
                guard let value = finiteValue(item, group) else { continue }
                let x = start + Double(index) * barWidth, top = frame.y(min(max(value, axis.lower), axis.upper))
                svg += "<rect x=\"\(f(x))\" y=\"\(f(min(top, baseline)))\" width=\"\(f(max(barWidth - 2, 1)))\" height=\"\(f(abs(baseline - top)))\" fill=\"\(Self.colour(index))\">"
                    + "<title>\(HTMLPage.escape(item.name)): \(HTMLPage.escape(axis.percent ? String(format: "%.1f%%", 100 * value) : String(format: "%.4g", value)))</title></rect>"
                if let range = finiteInterval(item, group) {
                    let centre = f(x + (barWidth - 2) / 2), low = f(frame.y(max(range.lowerBound, axis.lower))), high = f(frame.y(min(range.upperBound, axis.upper)))
                    let capLeft = f(x + (barWidth - 2) / 2 - 4), capRight = f(x + (barWidth - 2) / 2 + 4)
                    svg += "<path d=\"M\(centre) \(low)V\(high)M\(capLeft) \(low)H\(capRight)M\(capLeft) \(high)H\(capRight)\" stroke=\"#222\" stroke-width=\"1.2\" fill=\"none\"/>"
                }
            }
            svg += "<text x=\"\(f(frame.plotLeft + (Double(group) + 0.5) * groupWidth))\" y=\"\(f(frame.plotBottom + 16))\" font-size=\"12\" text-anchor=\"middle\">\(HTMLPage.escape(label))</text>"
        }
        return svg + frame.legendSVG() + "</svg>\n"
    }

    /// A coordinate with one decimal.
    static func f(_ value: Double) -> String { String(format: "%.1f", value) }
}
