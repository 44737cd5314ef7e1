import Runtime

/// Spreads requests over endpoints (least outstanding requests first) and caps how many are in flight at once.
actor EndpointPool {
    private let endpointCount: Int
    private let limit: Int
    private var outstanding: [Int]
    private var inFlight = 0
    /// Tasks waiting for a free slot, in arrival order.
    private var waiters: [CheckedContinuation<Void, Never>] = []
    /// Where the tie-break starts, rotated so that equally idle endpoints take turns.
    private var rotation = 0
    private var jitter: SplitMix64

    init(endpointCount: Int, limit: Int, jitterSeed: UInt64) {
        precondition(endpointCount > 0 && limit > 0, "need an endpoint and a positive limit, got \(endpointCount), \(limit)")
        self.endpointCount = endpointCount
        self.limit = limit
        self.outstanding = Array(repeating: 0, count: endpointCount)
        self.jitter = SplitMix64(seed: jitterSeed)
    }

    /// Waits for a free slot, then returns the index of the endpoint with the fewest requests in flight.
    /// - Parameter avoiding: an endpoint that just failed; chosen only when every other one is busier.
    func acquire(avoiding: Int? = nil) async -> Int {
        while inFlight >= limit {
            await withCheckedContinuation { waiters.append($0) }
        }
        inFlight += 1
        var best = -1
        for step in 0..<endpointCount {
            let candidate = (rotation + step) % endpointCount
            if best < 0 || load(candidate, avoiding) < load(best, avoiding) { best = candidate }
        }
        rotation = (best + 1) % endpointCount
        outstanding[best] += 1
        return best
    }

    /// Ends a request on `endpoint` and lets the longest waiter in.
    func release(_ endpoint: Int) {
        outstanding[endpoint] -= 1
        inFlight -= 1
        if !waiters.isEmpty { waiters.removeFirst().resume() }
    }

    /// The full-jitter backoff before retry number `retry` (0-based): uniform(0, min(maximum, base·2^retry)).
    func backoff(retry: Int, base: Double, maximum: Double) -> Double {
        let ceiling = min(maximum, base * Double(1 << min(retry, 30)))
        return ceiling * jitter.nextUnit()
    }

    /// Requests in flight per endpoint (for tests and logs).
    var outstandingCounts: [Int] { outstanding }

    private func load(_ endpoint: Int, _ avoiding: Int?) -> Double {
        Double(outstanding[endpoint]) + (endpoint == avoiding && endpointCount > 1 ? 0.5 : 0)
    }
}
