import Foundation

/// Lines collected from a `@Sendable` log callback (a pipeline's, an experiment's), safe to append from any thread.
public final class LogLines: @unchecked Sendable {
    private let lock = NSLock()
    private var lines: [String] = []
    public init() {}
    public func append(_ line: String) { lock.withLock { lines.append(line) } }
    public var all: [String] { lock.withLock { lines } }
}
