import Foundation

/// How much one input file may cost to read: the longest line, and how far gzip data may expand.
///
/// Input files are untrusted, so both are bounded by default: a line longer than ``maximumLineBytes`` is an
/// error naming its `file:line` (the reader then goes on with the next line), and gzip data that decompresses to
/// more than ``decompressedByteLimit(compressedSize:)`` bytes is an error naming the file (a "gzip bomb": DEFLATE
/// expands up to 1032×, so 1 MB can hold a 1 GiB line).
///
/// Readers opened on a file take their defaults from the environment (``fromEnvironment(_:)``), so a genuine
/// file beyond a limit can be read without code changes:
///
/// ```sh
/// CHARTER_MAX_LINE_BYTES=67108864 CHARTER_MAX_GZIP_RATIO=1100 charter sft --dataset huge.jsonl.gz ...
/// ```
public struct InputLimits: Equatable, Sendable {
    /// 16 MiB. A line is parsed whole, and a parsed line takes several times its size in memory; the longest
    /// real dataset lines (a 128k-token conversation is about 0.5 MB of text) stay 30× below it.
    public static let defaultMaximumLineBytes = 16 << 20
    /// 100×: natural-language JSONL compresses 3–10× with gzip, and 100× is the zip-bomb threshold Apache POI
    /// (`ZipSecureFile`) uses; DEFLATE's own ceiling is about 1032×.
    public static let defaultMaximumCompressionRatio = 100
    /// 64 MiB: small, highly repetitive files (test fixtures, synthetic data) may expand by more than the ratio.
    public static let defaultRatioAllowanceBytes = 64 << 20

    /// The longest line (bytes, without its newline) a line reader returns.
    public var maximumLineBytes: Int
    /// Decompressed bytes per compressed byte that gzip data may reach once past ``ratioAllowanceBytes``.
    public var maximumCompressionRatio: Int
    /// Decompressed bytes always allowed, whatever the ratio.
    public var ratioAllowanceBytes: Int
    /// An absolute bound on the decompressed bytes of one file; nil: only the ratio bounds them.
    public var maximumDecompressedBytes: Int?

    /// The defaults (16 MiB lines, 100× expansion past 64 MiB, no absolute bound).
    public init(maximumLineBytes: Int = defaultMaximumLineBytes, maximumCompressionRatio: Int = defaultMaximumCompressionRatio,
                ratioAllowanceBytes: Int = defaultRatioAllowanceBytes, maximumDecompressedBytes: Int? = nil) {
        self.maximumLineBytes = maximumLineBytes
        self.maximumCompressionRatio = maximumCompressionRatio
        self.ratioAllowanceBytes = ratioAllowanceBytes
        self.maximumDecompressedBytes = maximumDecompressedBytes
    }

    /// Environment variables that override the defaults, with the property each sets.
    public static let environmentKeys: [(name: String, path: WritableKeyPath<InputLimits, Int>)] = [
        ("CHARTER_MAX_LINE_BYTES", \.maximumLineBytes),
        ("CHARTER_MAX_GZIP_RATIO", \.maximumCompressionRatio),
    ]

    /// The defaults with `CHARTER_MAX_LINE_BYTES`, `CHARTER_MAX_GZIP_RATIO` and `CHARTER_MAX_GZIP_BYTES` (an
    /// absolute bound on decompressed bytes) applied when set.
    /// - Throws: ``GzipError`` (reason `.io`, naming the variable) for a value that is not a positive whole number.
    public static func fromEnvironment(_ environment: [String: String] = ProcessInfo.processInfo.environment) throws -> InputLimits {
        var limits = InputLimits()
        func value(_ name: String) throws -> Int? {
            guard let text = environment[name] else { return nil }
            guard let number = Int(text.trimmingCharacters(in: .whitespaces)), number > 0 else {
                throw GzipError(file: name, offset: 0, reason: .io("must be a positive whole number, got \"\(text)\""))
            }
            return number
        }
        for (name, path) in environmentKeys {
            if let number = try value(name) { limits[keyPath: path] = number }
        }
        limits.maximumDecompressedBytes = try value("CHARTER_MAX_GZIP_BYTES")
        return limits
    }

    /// The most decompressed bytes gzip data of `compressedSize` bytes may produce.
    public func decompressedByteLimit(compressedSize: Int) -> Int {
        let (scaled, overflow) = compressedSize.multipliedReportingOverflow(by: maximumCompressionRatio)
        let byRatio = max(ratioAllowanceBytes, overflow ? Int.max : scaled)
        return min(byRatio, maximumDecompressedBytes ?? Int.max)
    }

    /// "16 MiB (16777216 bytes)" or "512 bytes": a limit for messages, exact enough to raise it.
    public static func describe(limit bytes: Int) -> String {
        bytes < 1 << 10 ? describe(bytes: bytes) : "\(describe(bytes: bytes)) (\(bytes) bytes)"
    }

    /// "16 MiB", "1.5 GiB", "512 bytes": a byte count for messages.
    public static func describe(bytes: Int) -> String {
        let units = [(1 << 30, "GiB"), (1 << 20, "MiB"), (1 << 10, "KiB")]
        for (size, name) in units where bytes >= size {
            let value = Double(bytes) / Double(size)
            return (value == value.rounded() ? "\(Int(value))" : String(format: "%.1f", value)) + " " + name
        }
        return "\(bytes) bytes"
    }
}
