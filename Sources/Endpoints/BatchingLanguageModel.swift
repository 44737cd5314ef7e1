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

/// Gathers the requests that arrive within `window` seconds (up to `maximumBatchSize`) and hands them to the model
/// together when it conforms to `BatchedGeneration`; otherwise forwards each call as it comes (concurrently).
public struct BatchingLanguageModel: LanguageModel {
    public let base: any LanguageModel
    private let completions: BatchQueue<CompletionRequest>?
    private let chats: BatchQueue<ChatRequest>?

    public var name: String { base.name }

    /// - Parameters:
    ///   - window: how long the first request of a batch waits for others (seconds).
    ///   - maximumBatchSize: a full batch starts at once.
    public init(_ base: any LanguageModel, window: Double = 0.005, maximumBatchSize: Int = 16) {
        precondition(maximumBatchSize >= 1 && window >= 0, "batch size must be ≥ 1 and window ≥ 0")
        self.base = base
        if let batched = base as? any BatchedGeneration {
            completions = BatchQueue(window: window, maximumBatchSize: maximumBatchSize) { try await batched.completeBatch($0) }
            chats = BatchQueue(window: window, maximumBatchSize: maximumBatchSize) { try await batched.chatBatch($0) }
        } else {
            completions = nil
            chats = nil
        }
    }

    public func complete(_ request: CompletionRequest) async throws -> Completion {
        guard let completions else { return try await base.complete(request) }
        return try await completions.submit(request)
    }

    public func chat(_ request: ChatRequest) async throws -> Completion {
        guard let chats else { return try await base.chat(request) }
        return try await chats.submit(request)
    }

    public func score(prompt: String, completion: String) async throws -> Score {
        try await base.score(prompt: prompt, completion: completion)
    }
}

/// Requests waiting to be run together; a batch starts when it is full or when its first request has waited
/// `window` seconds.
actor BatchQueue<Request: Sendable> {
    typealias Run = @Sendable ([Request]) async throws -> [Completion]
    private let window: Double
    private let maximumBatchSize: Int
    private let run: Run
    private var pending: [(request: Request, continuation: CheckedContinuation<Completion, any Error>)] = []
    /// Increments with every batch started, so a timer only flushes the batch it was armed for.
    private var generation = 0
    /// Sizes of the batches run so far (for tests and logs).
    private(set) var batchSizes: [Int] = []

    init(window: Double, maximumBatchSize: Int, run: @escaping Run) {
        self.window = window
        self.maximumBatchSize = maximumBatchSize
        self.run = run
    }

    func submit(_ request: Request) async throws -> Completion {
        try await withCheckedThrowingContinuation { continuation in
            pending.append((request, continuation))
            if pending.count >= maximumBatchSize {
                flush()
            } else if pending.count == 1 {
                let armed = generation, window = window
                Task { [weak self] in
                    try? await Task.sleep(nanoseconds: UInt64(window * 1e9))
                    await self?.flush(ifGeneration: armed)
                }
            }
        }
    }

    private func flush(ifGeneration armed: Int) {
        if armed == generation { flush() }
    }

    private func flush() {
        guard !pending.isEmpty else { return }
        let batch = pending
        pending = []
        generation += 1
        batchSizes.append(batch.count)
        let run = run
        Task {
            do {
                let results = try await run(batch.map(\.request))
                guard results.count == batch.count else {
                    let error = EndpointError.invalidConfiguration(
                        "the model returned \(results.count) results for a batch of \(batch.count) requests")
                    for item in batch { item.continuation.resume(throwing: error) }
                    return
                }
                for (item, result) in zip(batch, results) { item.continuation.resume(returning: result) }
            } catch {
                for item in batch { item.continuation.resume(throwing: error) }
            }
        }
    }
}
