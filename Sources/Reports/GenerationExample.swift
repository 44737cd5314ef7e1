import Foundation

/// One request and several models' responses to it, for a report's side-by-side examples.
public struct GenerationExample: Codable, Equatable, Sendable {
    /// One model's response and the verdict on it.
    public struct Response: Codable, Equatable, Sendable {
        public var model: String
        public var text: String
        /// The judge's verdict (or "" when nothing judges the response).
        public var verdict: String

        public init(model: String, text: String, verdict: String = "") {
            self.model = model
            self.text = text
            self.verdict = verdict
        }
    }

    /// What kind of request this is ("harmful, held out", "borderline", …).
    public var kind: String
    /// The request's id in the evaluation set.
    public var id: String
    /// The request as the models saw it (without chat formatting).
    public var prompt: String
    public var responses: [Response]

    public init(kind: String, id: String, prompt: String, responses: [Response]) {
        self.kind = kind
        self.id = id
        self.prompt = prompt
        self.responses = responses
    }
}
