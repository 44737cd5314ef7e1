import LanguageModels

/// A model that generates several requests in one forward pass (the local engine left-pads prompts into a batch).
public protocol BatchedGeneration: LanguageModel {
    /// One completion per request, in order; each must equal `complete(request)` for the same seed.
    func completeBatch(_ requests: [CompletionRequest]) async throws -> [Completion]
    /// One answer per conversation, in order. The default runs the conversations one by one.
    func chatBatch(_ requests: [ChatRequest]) async throws -> [Completion]
}

extension BatchedGeneration {
    public func chatBatch(_ requests: [ChatRequest]) async throws -> [Completion] {
        var results: [Completion] = []
        for request in requests { results.append(try await chat(request)) }
        return results
    }
}

/// The local engine takes a batch of completions in one call.
extension LocalLanguageModel: BatchedGeneration {}

/// Hands concurrent requests to the model through one fair queue (`RequestScheduler`) when it conforms to
/// `BatchedGeneration` — batched where they can be, streams and scores as turns of their own — and otherwise
/// forwards each call as it comes (concurrently).
///
/// A lone client pays no batching delay; under load, batches of similar requests grow by themselves up to
/// `maximumBatchSize`, cheaper requests go first, and none is overtaken more than a few times.
public struct BatchingLanguageModel: LanguageModel {
    public let base: any LanguageModel
    let scheduler: RequestScheduler?

    public var name: String { base.name }

    /// - Parameters:
    ///   - window: how long the first request reaching an idle model waits for others (seconds).
    ///   - maximumBatchSize: a full batch starts at once (when the model is idle).
    public init(_ base: any LanguageModel, window: Double = 0, maximumBatchSize: Int = 16) {
        precondition(maximumBatchSize >= 1 && window >= 0, "batch size must be ≥ 1 and window ≥ 0")
        self.base = base
        if let batched = base as? any BatchedGeneration {
            scheduler = RequestScheduler(
                window: window, maximumBatchSize: maximumBatchSize,
                completions: { try await batched.completeBatch($0.compactMap { $0 as? CompletionRequest }) },
                chats: { try await batched.chatBatch($0.compactMap { $0 as? ChatRequest }) })
        } else {
            scheduler = nil
        }
    }

    /// A request's place in the queue: its prompt tokens (estimated from its characters when not given) plus the
    /// tokens it may generate.
    static func cost(promptTokens: Int, options: SamplingOptions) -> Int { promptTokens + max(0, options.maximumTokens) }

    public func complete(_ request: CompletionRequest) async throws -> Completion {
        try await complete(request, promptTokens: nil)
    }

    /// Completes `request`, queued by its measured prompt length.
    func complete(_ request: CompletionRequest, promptTokens: Int?) async throws -> Completion {
        guard let scheduler else { return try await base.complete(request) }
        let cost = Self.cost(promptTokens: promptTokens ?? request.prompt.count, options: request.options)
        return try await scheduler.submit(request, kind: .completion, cost: cost)
    }

    public func chat(_ request: ChatRequest) async throws -> Completion {
        try await chat(request, promptTokens: nil)
    }

    /// Answers `request`, queued by its measured prompt length.
    func chat(_ request: ChatRequest, promptTokens: Int?) async throws -> Completion {
        guard let scheduler else { return try await base.chat(request) }
        let cost = Self.cost(promptTokens: promptTokens ?? request.messages.reduce(0) { $0 + $1.content.count }, options: request.options)
        return try await scheduler.submit(request, kind: .chat, cost: cost)
    }

    public func score(prompt: String, completion: String) async throws -> Score {
        try await exclusive(cost: prompt.count + completion.count) { try await base.score(prompt: prompt, completion: completion) }
    }

    /// Runs `body` (a stream, a score) when the queue gives the model to it alone.
    func exclusive<T: Sendable>(cost: Int, _ body: @Sendable () async throws -> T) async throws -> T {
        guard let scheduler else { return try await body() }
        return try await scheduler.exclusive(cost: cost, body)
    }
}
