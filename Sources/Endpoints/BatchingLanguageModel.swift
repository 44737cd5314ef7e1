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

/// Hands concurrent requests to the model together when it conforms to `BatchedGeneration`; otherwise forwards
/// each call as it comes (concurrently).
///
/// Batches run one at a time (a forward pass already uses every core). An idle model starts a request at once, or
/// after `window` seconds when a window is set, to let others join; requests that arrive while a batch runs are
/// gathered and start together as soon as it ends. So a lone client pays no batching delay, and under load batches
/// grow by themselves up to `maximumBatchSize`.
public struct BatchingLanguageModel: LanguageModel {
    public let base: any LanguageModel
    private let completions: BatchQueue<CompletionRequest>?
    private let chats: BatchQueue<ChatRequest>?

    public var name: String { base.name }

    /// - Parameters:
    ///   - window: how long the first request reaching an idle model waits for others (seconds).
    ///   - maximumBatchSize: a full batch starts at once (when the model is idle).
    public init(_ base: any LanguageModel, window: Double = 0, maximumBatchSize: Int = 16) {
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

/// Requests waiting to be run together, and the one batch running.
actor BatchQueue<Request: Sendable> {
    typealias Run = @Sendable ([Request]) async throws -> [Completion]
    private let window: Double
    private let maximumBatchSize: Int
    private let run: Run
    private var pending: [(request: Request, continuation: CheckedContinuation<Completion, any Error>)] = []
    private var busy = false
    private var timerArmed = false
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
            guard !busy else { return }  // joins the next batch when the running one ends
            if window <= 0 || pending.count >= maximumBatchSize {
                startBatch()
            } else if !timerArmed {
                timerArmed = true
                let window = window
                Task {
                    try? await Task.sleep(nanoseconds: UInt64(window * 1e9))
                    self.windowElapsed()
                }
            }
        }
    }

    private func windowElapsed() {
        timerArmed = false
        if !busy { startBatch() }
    }

    /// Runs up to `maximumBatchSize` pending requests; when they finish, starts the next batch if any are waiting.
    private func startBatch() {
        guard !pending.isEmpty else { return }
        let batch = Array(pending.prefix(maximumBatchSize))
        pending.removeFirst(batch.count)
        busy = true
        batchSizes.append(batch.count)
        let run = run
        Task {
            do {
                let results = try await run(batch.map(\.request))
                if results.count == batch.count {
                    for (item, result) in zip(batch, results) { item.continuation.resume(returning: result) }
                } else {
                    let error = EndpointError.invalidConfiguration(
                        "the model returned \(results.count) results for a batch of \(batch.count) requests")
                    for item in batch { item.continuation.resume(throwing: error) }
                }
            } catch where batch.count > 1 {
                // One bad request (say, a prompt longer than the context) must not fail its neighbours: run the
                // batch's requests one by one so each gets its own result or error.
                for item in batch {
                    do {
                        let result = try await run([item.request])
                        if let first = result.first { item.continuation.resume(returning: first) } else {
                            item.continuation.resume(throwing: EndpointError.invalidConfiguration("the model returned no result"))
                        }
                    } catch {
                        item.continuation.resume(throwing: error)
                    }
                }
            } catch {
                for item in batch { item.continuation.resume(throwing: error) }
            }
            self.batchFinished()
        }
    }

    private func batchFinished() {
        busy = false
        startBatch()
    }
}
