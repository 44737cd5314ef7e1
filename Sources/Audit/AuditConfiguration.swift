/// Thresholds of the audit, and the reward models of its model-based findings.
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
    /// Reward models for the model-based findings (suspected mislabels, both bad); nil: model-free only.
    public var rewardModels: RewardModels? = nil
    /// A suspected mislabel is a pair whose mean P(chosen ≻ rejected) under the reward models is at most 1 − this.
    public var mislabelConfidence = 0.8
    /// A reference model whose relevance vote joins the reward models' mean for suspected mislabels; nil: none.
    public var reference: ReferenceRelevance? = nil

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
        guard mislabelConfidence >= 0.5, mislabelConfidence < 1 else {
            throw AuditError("mislabel confidence must be in [0.5, 1), got \(mislabelConfidence)")
        }
        if let reference {
            guard rewardModels != nil else {
                throw AuditError("a reference model's relevance vote joins the reward models' mean: add --ensemble K --model BASE or --reward-model DIR")
            }
            guard reference.scale > 0, reference.scale.isFinite else { throw AuditError("relevance scale must be positive, got \(reference.scale)") }
            guard (1...16).contains(reference.otherPrompts) else {
                throw AuditError("relevance needs 1 to 16 other prompts per response, got \(reference.otherPrompts)")
            }
        }
        switch rewardModels {
        case let .crossFitted(_, folds, repeats, configuration, _)?:
            guard (2...20).contains(folds) else { throw AuditError("an ensemble needs 2 to 20 folds, got \(folds)") }
            guard (1...10).contains(repeats) else { throw AuditError("ensemble repeats must be from 1 to 10, got \(repeats)") }
            try configuration.validate()
        case let .given(folders)?:
            guard !folders.isEmpty else { throw AuditError("no reward model given") }
        case nil: break
        }
    }
}

/// A failure of an audit or a clean the user can act on (bad settings, policy, or an audit that does not match the
/// data); file errors are ``Datasets/DatasetError``s naming file:line.
public struct AuditError: Error, CustomStringConvertible, Equatable {
    public let description: String
    public init(_ description: String) { self.description = description }
}
