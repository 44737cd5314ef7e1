/// How `charter serve` listens and what it accepts.
public struct ServerConfiguration: Sendable {
    /// Loopback unless told otherwise: a model server should not be reachable from the network by accident.
    public var host = "127.0.0.1"
    /// 0 picks a free port (tests).
    public var port = 8080
    /// The id under which the model is listed by `/v1/models` and must be addressed (`model` field).
    public var modelID: String
    /// The bearer token every request must carry; nil: no auth. (`charter serve` reads it from `--api-key-env`.)
    public var apiKey: String?
    /// Largest `max_tokens` a request may ask for.
    public var maximumTokensLimit = 4096
    /// Largest request body in bytes.
    public var maximumBodyBytes = 1 << 20
    /// Most prompt tokens a request may send (beside the model's context, which always bounds prompt + max_tokens);
    /// nil: only the context. One request runs at a time, so this bounds how long a request can hold up others.
    public var maximumPromptTokens: Int?
    /// Seconds a connection may take to send a request head, and may sit idle between requests, before the server
    /// closes it (slow or stalled clients); nil: never. Generation time does not count.
    public var idleTimeoutSeconds: Double? = 30
    /// `max_tokens` when a request gives none: OpenAI's 16 for completions, 256 for chat (both capped by the limit).
    public var defaultCompletionTokens = 16
    public var defaultChatTokens = 256
    /// How long a request reaching an idle batching model waits for others (requests arriving while a batch runs
    /// always join the next one); see `BatchingLanguageModel`.
    public var batchWindowSeconds = 0.0
    public var maximumBatchSize = 16

    public init(modelID: String, host: String = "127.0.0.1", port: Int = 8080, apiKey: String? = nil,
                maximumTokensLimit: Int = 4096, maximumBodyBytes: Int = 1 << 20) {
        self.modelID = modelID
        self.host = host
        self.port = port
        self.apiKey = apiKey
        self.maximumTokensLimit = maximumTokensLimit
        self.maximumBodyBytes = maximumBodyBytes
    }
}
