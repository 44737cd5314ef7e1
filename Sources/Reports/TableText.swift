import Foundation

/// Cells and padding for the terminal summary tables experiments print (and embed in their reports).
public enum TableText {
    /// `text` padded with spaces to `width` characters (at least one space after it).
    /// Columns padded to their widest cell plus two spaces, a line per row after the header, and a blank line.
    public static func render(header: [String], rows: [[String]]) -> String {
        let widths = header.indices.map { column in ([header[column]] + rows.map { $0[column] }).map(\.count).max()! + 2 }
        let lines = [zip(header, widths).map { pad($0, $1) }.joined()] + rows.map { zip($0, widths).map { pad($0, $1) }.joined() }
        return lines.joined(separator: "\n") + "\n"
    }

    public static func pad(_ text: String, _ width: Int) -> String {
        text.count >= width ? text + " " : text + String(repeating: " ", count: width - text.count)
    }

    /// A mean with its interval: "0.123 ± 0.004" for one value (± its standard error), "0.123 (0.110–0.131)" (the
    /// mean and the min–max) for several; "–" for none.
    public static func meanWithInterval(_ values: [Double], errors: [Double], digits: Int) -> String {
        guard let low = values.min(), let high = values.max() else { return "–" }
        let number = "%.\(digits)f"
        if values.count == 1 { return String(format: "\(number) ± \(number)", values[0], errors.first ?? 0) }
        return String(format: "\(number) (\(number)–\(number))", Statistics.mean(values), low, high)
    }

    /// A rate as a percentage: "12.5%" for one value, "12.5% (8–17)" (the mean and the min–max) for several;
    /// "–" for none.
    public static func percent(_ values: [Double]) -> String {
        guard let low = values.min(), let high = values.max() else { return "–" }
        let text = String(format: "%.1f%%", 100 * Statistics.mean(values))
        guard values.count > 1 else { return text }
        return text + String(format: " (%.0f–%.0f)", 100 * low, 100 * high)
    }

    /// A rate with its 95% interval over seeds: "12.5% [8.1, 16.9]" for several values, "12.5%" for one; "–" for none.
    public static func percent95(_ values: [Double]) -> String {
        guard !values.isEmpty else { return "–" }
        let interval = Statistics.interval95(values)
        let text = String(format: "%.1f%%", 100 * interval.mean)
        guard values.count > 1 else { return text }
        return text + String(format: " [%.1f, %.1f]", 100 * max(0, interval.lower), 100 * min(1, interval.upper))
    }
}
