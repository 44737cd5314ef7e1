/// Thresholds of the model-free audit.
public struct AuditConfiguration: Sendable, Equatable {
    /// Estimated Jaccard similarity (MinHash) of both the prompt and the responses at or above which a pair is a near
    /// duplicate of an earlier one.
    public var nearDuplicateThreshold = 0.8
    /// Words per shingle for MinHash.
    public var shingleSize = 3
    /// A soft label within this distance of ½ is low-confidence.
    public var lowConfidenceMargin = 0.1
    /// Pairs shown side by side in `report.html`.
    public var topSuspects = 20

    public init() {}

    /// Checks the ranges.
    /// - Throws: ``AuditError`` naming the setting.
    public func validate() throws {
        guard nearDuplicateThreshold > 0, nearDuplicateThreshold <= 1 else {
            throw AuditError("near-duplicate threshold must be in (0, 1], got \(nearDuplicateThreshold)")
        }
        guard (1...16).contains(shingleSize) else { throw AuditError("shingle size must be from 1 to 16 words, got \(shingleSize)") }
        guard lowConfidenceMargin >= 0, lowConfidenceMargin <= 0.5 else {
            throw AuditError("low-confidence margin must be in [0, 0.5], got \(lowConfidenceMargin)")
        }
        guard topSuspects >= 0 else { throw AuditError("top suspects must be at least 0, got \(topSuspects)") }
    }
}

/// A failure of an audit or a clean the user can act on (bad settings, policy, or an audit that does not match the
/// data); file errors are ``Datasets/DatasetError``s naming file:line.
public struct AuditError: Error, CustomStringConvertible, Equatable {
    public let description: String
    public init(_ description: String) { self.description = description }
}
