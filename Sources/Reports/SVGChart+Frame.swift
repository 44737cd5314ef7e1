import Foundation

extension SVGChart {
    /// A chart's layout: the title above, the plot area with its axes, and the legend's rows below the axis label.
    struct Frame {
        let title: String
        let width: Double
        let height: Double
        let xAxis: ChartAxis
        let yAxis: ChartAxis
        let legend: [String]
        let plotLeft = 58.0, plotTop = 30.0, rightMargin = 16.0, bottomMargin = 42.0
        static let legendRowHeight = 16.0

        init(title: String, width: Double, height: Double, xAxis: ChartAxis, yAxis: ChartAxis, legend: [String]) {
            (self.title, self.width, self.height) = (title, width, height)
            (self.xAxis, self.yAxis, self.legend) = (xAxis, yAxis, legend)
        }

        var plotWidth: Double { width - plotLeft - rightMargin }
        var plotBottom: Double { height - bottomMargin }
        var plotHeight: Double { plotBottom - plotTop }

        func x(_ value: Double) -> Double { plotLeft + xAxis.fraction(value) * plotWidth }
        func y(_ value: Double) -> Double { plotBottom - yAxis.fraction(value) * plotHeight }

        /// Legend entries placed left to right, wrapping to a new row when the next would not fit.
        var legendLayout: [(name: String, x: Double, row: Int)] {
            var entries: [(name: String, x: Double, row: Int)] = [], x = plotLeft, row = 0
            for name in legend {
                let entryWidth = 14 + 6.2 * Double(name.count) + 16
                if x > plotLeft && x + entryWidth > width - rightMargin { (x, row) = (plotLeft, row + 1) }
                entries.append((name, x, row))
                x += entryWidth
            }
            return entries
        }

        var totalHeight: Double {
            legend.isEmpty ? height : height + Double((legendLayout.map(\.row).max() ?? 0) + 1) * Self.legendRowHeight + 4
        }

        /// The opening tag, the title and the axis lines.
        func open() -> String {
            "<svg width=\"\(Int(width))\" height=\"\(Int(totalHeight.rounded(.up)))\" viewBox=\"0 0 \(Int(width)) \(Int(totalHeight.rounded(.up)))\" xmlns=\"http://www.w3.org/2000/svg\" font-family=\"system-ui,sans-serif\">"
                + "<text x=\"\(SVGChart.f(plotLeft))\" y=\"18\" font-size=\"13\" font-weight=\"600\">\(HTMLPage.escape(title))</text>"
                + "<path d=\"M\(SVGChart.f(plotLeft)) \(SVGChart.f(plotTop))V\(SVGChart.f(plotBottom))H\(SVGChart.f(plotLeft + plotWidth))\" stroke=\"#888\" fill=\"none\"/>"
        }

        /// Horizontal grid lines at the y ticks, with their labels left of the axis.
        func yGrid() -> String {
            yAxis.ticks.map { tick in
                let y = SVGChart.f(y(tick))
                return "<line x1=\"\(SVGChart.f(plotLeft))\" y1=\"\(y)\" x2=\"\(SVGChart.f(plotLeft + plotWidth))\" y2=\"\(y)\" stroke=\"#eee\"/>"
                    + "<text x=\"\(SVGChart.f(plotLeft - 5))\" y=\"\(y)\" dy=\"0.32em\" font-size=\"10\" text-anchor=\"end\" fill=\"#555\">\(HTMLPage.escape(yAxis.label(tick)))</text>"
            }.joined()
        }

        /// Tick marks and labels under the x axis.
        func xTicks() -> String {
            xAxis.ticks.map { tick in
                let x = SVGChart.f(x(tick))
                return "<line x1=\"\(x)\" y1=\"\(SVGChart.f(plotBottom))\" x2=\"\(x)\" y2=\"\(SVGChart.f(plotBottom + 4))\" stroke=\"#888\"/>"
                    + "<text x=\"\(x)\" y=\"\(SVGChart.f(plotBottom + 15))\" font-size=\"10\" text-anchor=\"middle\" fill=\"#555\">\(HTMLPage.escape(xAxis.label(tick)))</text>"
            }.joined()
        }

        /// The x label centred under the ticks, the y label rotated along the axis.
        func axisLabels(x xLabel: String, y yLabel: String) -> String {
            var svg = ""
            if !xLabel.isEmpty {
                svg += "<text x=\"\(SVGChart.f(plotLeft + plotWidth / 2))\" y=\"\(SVGChart.f(plotBottom + 32))\" font-size=\"11\" text-anchor=\"middle\">\(HTMLPage.escape(xLabel))</text>"
            }
            if !yLabel.isEmpty {
                let centre = SVGChart.f(plotTop + plotHeight / 2)
                svg += "<text x=\"14\" y=\"\(centre)\" font-size=\"11\" text-anchor=\"middle\" transform=\"rotate(-90 14 \(centre))\">\(HTMLPage.escape(yLabel))</text>"
            }
            return svg
        }

        /// A colour swatch and the name of each series, below the plot.
        func legendSVG() -> String {
            legendLayout.enumerated().map { index, entry in
                let y = height + Double(entry.row) * Self.legendRowHeight
                return "<rect x=\"\(SVGChart.f(entry.x))\" y=\"\(SVGChart.f(y))\" width=\"10\" height=\"10\" fill=\"\(SVGChart.colour(index))\"/>"
                    + "<text x=\"\(SVGChart.f(entry.x + 14))\" y=\"\(SVGChart.f(y + 9))\" font-size=\"11\">\(HTMLPage.escape(entry.name))</text>"
            }.joined()
        }
    }
}
