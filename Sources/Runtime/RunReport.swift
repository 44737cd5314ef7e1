import Foundation

/// What a job run did.
public struct RunReport: Codable, Equatable, Sendable {
    public var total: Int
    /// Found finished in the output when the run started (a resume).
    public var alreadyDone: Int
    public var completed: Int
    public var failed: Int
    public var retries: Int
    public var seconds: Double

    enum CodingKeys: String, CodingKey {
        case total, alreadyDone = "already_done", completed, failed, retries, seconds
    }

    /// "12/15 done (3 from an earlier run), 1 failed, 2 retries, 4.1 s".
    public var summary: String {
        "\(completed + alreadyDone)/\(total) done (\(alreadyDone) from an earlier run), \(failed) failed, \(retries) retries, \(String(format: "%.1f", seconds)) s"
    }
}
