/// A JSON number kept as its literal text, so that re-serialising writes exactly what was read and integers too
/// large for a `Double` (ids such as `12345678901234567890`) are not rounded.
///
/// Two numbers are equal when their texts are (`1` and `1.0` differ, as they do in the file).
public struct JSONNumber: Hashable, Sendable, CustomStringConvertible, ExpressibleByIntegerLiteral,
    ExpressibleByFloatLiteral, ExpressibleByStringLiteral
{
    /// The literal text, e.g. `"-0.5e3"`. Parsed numbers always follow the JSON grammar.
    public let text: String

    /// A number with the given literal text, which must follow the JSON number grammar (it is written verbatim).
    public init(_ text: String) { self.text = text }

    /// An integer.
    public init(_ value: Int) { text = String(value) }

    /// A `Double`: integral values below 10^15 as integers (`3`, not `3.0`), others in Swift's shortest
    /// round-tripping form (`0.75`, `1e-07`). Non-finite values have no JSON form (they would be written as
    /// `inf`/`nan`); callers that may hold them should check first.
    public init(_ value: Double) {
        if value.isFinite, value == value.rounded(), abs(value) < 1e15 {
            text = String(Int64(value))
        } else {
            text = "\(value)"
        }
    }

    public init(integerLiteral value: Int) { self.init(value) }
    public init(floatLiteral value: Double) { self.init(value) }
    public init(stringLiteral value: String) { self.init(value) }

    /// The value as a `Double` (nearest; very large exponents give infinity).
    public var doubleValue: Double? { Double(text) }

    /// The value as an exact `Int`: only for integer literals (no fraction or exponent) that fit.
    public var integerValue: Int? { Int(text) }  // `Int("1.5")`, `Int("1e3")` are nil: digits only

    public var description: String { text }
}
