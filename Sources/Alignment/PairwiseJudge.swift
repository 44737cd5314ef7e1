import Foundation

/// A judge of two completions of one prompt, for online DPO (TRL's `BasePairwiseJudge`): an AI judge asking a
/// feedback model which response better follows a constitution's principles, a human-preference model, a script.
///
/// Alignment knows only this protocol; the constitution's judge (Constitutional's `AIFeedback`, asked in both orders
/// as `charter label` asks) implements it in the Constitutional module.
public protocol PairwiseJudge: AnyObject {
    /// A name for notes and the run's configuration ("constitution", a model's name).
    var name: String { get }
    /// For each pair, the probability that `first` is the better completion (≥ ½: `first` is chosen), in order.
    /// - Throws: when the judge cannot answer (a model that fails, an endpoint that is down); training stops with it.
    func preferences(_ pairs: [JudgedPair]) throws -> [Double]
}

/// Two completions of one prompt, as the judge sees them (ids, decoded text and the prompt row's other columns).
public struct JudgedPair: Sendable {
    public var first: ScoredRollout
    public var second: ScoredRollout

    public init(first: ScoredRollout, second: ScoredRollout) {
        self.first = first
        self.second = second
    }
}

/// A judge written in Swift: a closure over each pair, returning the probability that the first completion is better.
public final class ClosureJudge: PairwiseJudge {
    public let name: String
    let prefer: (JudgedPair) throws -> Double

    public init(name: String = "closure", _ prefer: @escaping (JudgedPair) throws -> Double) {
        self.name = name
        self.prefer = prefer
    }

    public func preferences(_ pairs: [JudgedPair]) throws -> [Double] { try pairs.map(prefer) }
}
