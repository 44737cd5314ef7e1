import Foundation
import LanguageModels

/// Decides which waiting request the model runs next: one job at a time (a forward pass already uses every core),
/// cheapest first, batches of similar size, and no request passed over more than a few times.
///
/// A job's cost is its prompt tokens plus its `max_tokens`. When the model frees up, the cheapest waiting job
/// starts (a job that later arrivals have overtaken `maximumPassOvers` times goes first instead, oldest first),
/// together with waiting jobs of the same kind whose cost is within a factor of two of it (plus a small slack), up
/// to `maximumBatchSize`: a two-token request is never left-padded into a batch with a 50k-token prompt, never
/// waits for its decode steps, and never waits behind a queue of long requests. A job already running is not
/// interrupted; the server's prompt limits bound how long one can run.
///
/// An idle model starts a job at once, or after `window` seconds when a window is set, to let others join its
/// batch; requests arriving while a job runs are gathered and the next batch starts as soon as it ends.
actor RequestScheduler {
    /// What a job is: batchable completions, batchable chats, or a turn the caller uses alone (a stream, a score).
    enum Kind: Hashable, Sendable { case completion, chat, exclusive }
    typealias Run = @Sendable ([any Sendable]) async throws -> [Completion]

    private struct Job {
        let order: Int
        let kind: Kind
        let cost: Int
        var passedOver = 0
        let request: (any Sendable)?
        let batchContinuation: CheckedContinuation<Completion, any Error>?
        let turnContinuation: CheckedContinuation<Void, Never>?
    }

    /// Costs within `2 × smaller + similarCostSlack` share a batch.
    static let similarCostSlack = 64
    private let window: Double
    private let maximumBatchSize: Int
    private let maximumPassOvers: Int
    private let runners: [Kind: Run]
    private var pending: [Job] = []
    private var busy = false
    private var timerArmed = false
    private var arrivals = 0
    /// Sizes of the batches run so far (turns count as 1), for tests and logs.
    private(set) var batchSizes: [Int] = []
    /// Arrival numbers (from 0) of the jobs in the order they started, for tests.
    private(set) var startOrder: [Int] = []

    /// - Parameters:
    ///   - window: how long the first job reaching an idle model waits for others (seconds).
    ///   - maximumPassOvers: how many times later arrivals may start before a waiting job.
    ///   - completions, chats: run a batch of `CompletionRequest`s / `ChatRequest`s.
    init(window: Double, maximumBatchSize: Int, maximumPassOvers: Int = 4, completions: Run? = nil, chats: Run? = nil) {
        precondition(maximumBatchSize >= 1 && window >= 0 && maximumPassOvers >= 0, "batch size ≥ 1, window ≥ 0, pass-overs ≥ 0")
        self.window = window
        self.maximumBatchSize = maximumBatchSize
        self.maximumPassOvers = maximumPassOvers
        var runners: [Kind: Run] = [:]
        runners[.completion] = completions
        runners[.chat] = chats
        self.runners = runners
    }

    /// Runs `request` in a batch of its kind when its turn comes.
    func submit(_ request: any Sendable, kind: Kind, cost: Int) async throws -> Completion {
        precondition(kind != .exclusive && runners[kind] != nil, "no runner for \(kind)")
        return try await withCheckedThrowingContinuation { continuation in
            enqueue(Job(order: nextArrival(), kind: kind, cost: cost, request: request, batchContinuation: continuation, turnContinuation: nil))
        }
    }

    /// Waits for a turn of the model alone, runs `body`, and hands the model on.
    func exclusive<T: Sendable>(cost: Int, _ body: @Sendable () async throws -> T) async throws -> T {
        await withCheckedContinuation { continuation in
            enqueue(Job(order: nextArrival(), kind: .exclusive, cost: cost, request: nil, batchContinuation: nil, turnContinuation: continuation))
        }
        defer { finished() }
        return try await body()
    }

    private func nextArrival() -> Int {
        defer { arrivals += 1 }
        return arrivals
    }

    private func enqueue(_ job: Job) {
        pending.append(job)
        guard !busy else { return }  // starts when the running job ends
        if window <= 0 || pending.count >= maximumBatchSize {
            startNext()
        } else if !timerArmed {
            timerArmed = true
            let window = window
            Task {
                try? await Task.sleep(nanoseconds: UInt64(window * 1e9))
                self.windowElapsed()
            }
        }
    }

    private func windowElapsed() {
        timerArmed = false
        if !busy { startNext() }
    }

    /// The jobs to start now: the overdue or cheapest one, and waiting jobs of its kind of similar cost.
    private func nextBatch() -> [Job] {
        let overdue = pending.indices.filter { pending[$0].passedOver >= maximumPassOvers }.min { pending[$0].order < pending[$1].order }
        guard let first = overdue ?? pending.indices.min(by: { (pending[$0].cost, pending[$0].order) < (pending[$1].cost, pending[$1].order) })
        else { return [] }
        let chosen = pending[first]
        var batch = [first]
        if chosen.kind != .exclusive {
            let candidates = pending.indices.filter { $0 != first && pending[$0].kind == chosen.kind && Self.similar(pending[$0].cost, chosen.cost) }
            for index in candidates.sorted(by: { pending[$0].order < pending[$1].order }) where batch.count < maximumBatchSize {
                batch.append(index)
            }
        }
        let jobs = batch.map { pending[$0] }
        let latest = jobs.map(\.order).max() ?? 0
        pending = pending.indices.filter { !batch.contains($0) }.map { pending[$0] }
        for index in pending.indices where pending[index].order < latest { pending[index].passedOver += 1 }
        return jobs
    }

    static func similar(_ a: Int, _ b: Int) -> Bool { max(a, b) <= 2 * min(a, b) + similarCostSlack }

    private func startNext() {
        let batch = nextBatch()
        guard let kind = batch.first?.kind else { return }
        busy = true
        batchSizes.append(batch.count)
        startOrder += batch.map(\.order)
        if kind == .exclusive {
            batch[0].turnContinuation?.resume()  // the holder calls finished()
            return
        }
        guard let run = runners[kind] else { return }
        Task {
            await Self.run(batch, with: run)
            self.finished()
        }
    }

    /// Runs a batch; when it fails and holds several requests, runs them one by one so that one bad request (a
    /// prompt the model refuses) does not fail its neighbours.
    private static func run(_ batch: [Job], with run: Run) async {
        do {
            let results = try await run(batch.compactMap(\.request))
            guard results.count == batch.count else {
                let error = EndpointError.invalidConfiguration("the model returned \(results.count) results for a batch of \(batch.count) requests")
                for job in batch { job.batchContinuation?.resume(throwing: error) }
                return
            }
            for (job, result) in zip(batch, results) { job.batchContinuation?.resume(returning: result) }
        } catch where batch.count > 1 {
            for job in batch { await Self.run([job], with: run) }
        } catch {
            for job in batch { job.batchContinuation?.resume(throwing: error) }
        }
    }

    private func finished() {
        busy = false
        startNext()
    }
}
