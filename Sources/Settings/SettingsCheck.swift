/// The values a settings field accepts: `nil` when `value` is fine, otherwise what is wrong with it ("must be at
/// least 1"); the field adds its key and the value to the message.
public struct SettingsCheck<Value>: Sendable {
    public let problem: @Sendable (Value) -> String?

    public init(_ problem: @escaping @Sendable (Value) -> String?) { self.problem = problem }

    /// Both checks (the first problem wins).
    public func and(_ other: SettingsCheck<Value>) -> SettingsCheck<Value> {
        let first = problem, second = other.problem
        return SettingsCheck { first($0) ?? second($0) }
    }
}

extension SettingsCheck where Value: Comparable & Sendable {
    public static func atLeast(_ lower: Value) -> Self { Self { $0 >= lower ? nil : "must be at least \(lower)" } }
    public static func atMost(_ upper: Value) -> Self { Self { $0 <= upper ? nil : "must be at most \(upper)" } }
    public static func greaterThan(_ lower: Value) -> Self { Self { $0 > lower ? nil : "must be greater than \(lower)" } }
    /// lower ≤ value ≤ upper, saying which bound is crossed ("must be at least 1", "must be at most 1024"): for
    /// counts, whose lower bound is the usual mistake and whose upper bound only stops runaway values.
    public static func from(_ lower: Value, to upper: Value) -> Self { atLeast(lower).and(atMost(upper)) }
    /// lower ≤ value ≤ upper.
    public static func within(_ range: ClosedRange<Value>) -> Self {
        Self { range.contains($0) ? nil : "must be in [\(range.lowerBound), \(range.upperBound)]" }
    }
    /// lower ≤ value < upper.
    public static func within(_ range: Range<Value>) -> Self {
        Self { range.contains($0) ? nil : "must be in [\(range.lowerBound), \(range.upperBound))" }
    }
}

extension SettingsCheck where Value: FloatingPoint & Sendable {
    /// A finite number greater than 0.
    public static var positive: Self { Self { $0.isFinite && $0 > 0 ? nil : "must be a positive number" } }
    /// A finite number (no NaN or infinity).
    public static var finite: Self { Self { $0.isFinite ? nil : "must be a finite number" } }
}

extension SettingsCheck where Value == String {
    /// A file or folder path the system can hold: not empty, no NUL byte, at most 4096 bytes (Linux's PATH_MAX)
    /// with no part longer than 255 bytes (NAME_MAX). Checked before any work, so a typo'd or hostile path fails at
    /// once, not after training with an error that quotes it whole.
    public static var path: Self {
        Self { value in
            if value.isEmpty { return "must name a file or folder" }
            if value.utf8.contains(0) { return "must not contain a NUL byte" }
            if value.utf8.count > 4096 { return "must be at most 4096 bytes long, not \(value.utf8.count)" }
            if let part = value.split(separator: "/").first(where: { $0.utf8.count > 255 }) {
                return "has a part of \(part.utf8.count) bytes; a file or folder name is at most 255"
            }
            return nil
        }
    }

    /// One of the listed names.
    public static func oneOf(_ names: [String]) -> Self {
        Self { names.contains($0) ? nil : "must be one of \(names.joined(separator: ", "))" }
    }
}
