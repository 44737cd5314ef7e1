/// Why JSON text could not be parsed, and where: a 0-based byte offset plus the 1-based line and column
/// (columns count UTF-8 bytes, so they match what `cut -b` and most editors' byte columns show).
public struct JSONSyntaxError: Error, Equatable, Sendable, CustomStringConvertible {
    /// Byte offset of the problem from the start of the parsed text.
    public let offset: Int
    /// 1-based line of ``offset``.
    public let line: Int
    /// 1-based byte column of ``offset`` within its line.
    public let column: Int
    /// What is wrong, e.g. `duplicate key "id"` or `unterminated string`.
    public let reason: String

    /// Creates an error at `offset` of `bytes`, computing its line and column.
    init(offset: Int, reason: String, in bytes: UnsafeBufferPointer<UInt8>) {
        self.offset = offset
        self.reason = reason
        var line = 1, lineStart = 0
        for index in 0..<min(offset, bytes.count) where bytes[index] == 0x0A {
            line += 1
            lineStart = index + 1
        }
        self.line = line
        column = offset - lineStart + 1
    }

    public var description: String { "line \(line), column \(column) (byte \(offset)): \(reason)" }
}
