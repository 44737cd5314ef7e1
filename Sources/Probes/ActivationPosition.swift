/// Which token positions of a text become activation rows.
public enum ActivationPosition: String, Codable, CaseIterable, Sendable {
    /// The last token (what a causal model has read when it starts answering).
    case last
    /// The mean over the scored tokens.
    case mean
    /// Every scored token, one row each (response tokens when the example has a response).
    case eachToken = "each-token"
}
