import LanguageModels

/// A safety circuit: a ``Probe`` watching a generation, which ends a sequence (``FinishReason/contentFilter``) the
/// first time its score reaches the probe's threshold, and records every trigger.
public final class ProbeMonitor: GenerationMonitor {
    /// What the circuit scores.
    public enum Watch: String, CaseIterable, Sendable {
        /// The prompt only (the probe's position over its tokens), before anything is generated.
        case prompt
        /// Each generated token's hidden state as it is fed back.
        case tokens
        /// Both.
        case both
    }

    /// One time a score reached the threshold.
    public struct Trigger: Equatable, Sendable {
        public var sequence: Int
        /// Index of the generated token whose hidden state triggered; nil: the prompt did.
        public var tokenIndex: Int?
        public var score: Double
    }

    public let probe: Probe
    public let watch: Watch
    /// Called at each trigger (logging).
    public var onTrigger: ((Trigger) -> Void)?
    public private(set) var triggers: [Trigger] = []
    /// Keep every trigger in ``triggers`` (a server that only logs them turns this off, so memory stays bounded).
    public var recordsTriggers = true
    /// Per sequence of the latest call, the highest score seen.
    public private(set) var highestScores: [Int: Double] = [:]

    public var layer: Int { probe.description.layer }

    /// - Parameter watch: nil: the prompt for a probe trained on prompts, the tokens for one trained on responses.
    public init(probe: Probe, watch: Watch? = nil, onTrigger: ((Trigger) -> Void)? = nil) {
        self.probe = probe
        self.watch = watch ?? (probe.description.scope == "response" ? .tokens : .prompt)
        self.onTrigger = onTrigger
    }

    /// Forgets the triggers and scores of earlier generations.
    public func reset() {
        triggers = []
        highestScores = [:]
    }

    public func observe(sequence: Int, tokenIndex: Int?, hiddenStates: UnsafeBufferPointer<Float>, count: Int, hiddenSize: Int) -> Bool {
        precondition(hiddenSize == probe.scorer.hiddenSize, "hidden size \(hiddenSize) for a probe of \(probe.scorer.hiddenSize) (check the probe first)")
        switch (tokenIndex, watch) {
        case (nil, .tokens), (.some, .prompt): return false
        default: break
        }
        let score = probe.score(rows: hiddenStates, count: count)
        highestScores[sequence] = max(highestScores[sequence] ?? 0, score)
        guard score >= probe.description.threshold else { return false }
        let trigger = Trigger(sequence: sequence, tokenIndex: tokenIndex, score: score)
        if recordsTriggers { triggers.append(trigger) }
        onTrigger?(trigger)
        return true
    }
}
