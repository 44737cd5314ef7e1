import Foundation

/// Token buckets by key (a participant, or one shared key for joins): each key holds up to `capacity` requests
/// and regains `perSecond` a second. A refused request costs nothing. Buckets idle long enough to be full are
/// forgotten, so the table stays small.
public final class RateLimiter: @unchecked Sendable {
    public let capacity: Double
    public let perSecond: Double
    private var buckets: [String: (tokens: Double, time: Double)] = [:]
    private let lock = NSLock()
    private let clock: @Sendable () -> Double

    /// - Parameter clock: seconds on a monotonic clock (tests pass their own).
    public init(capacity: Int, perSecond: Double,
                clock: @escaping @Sendable () -> Double = { Double(DispatchTime.now().uptimeNanoseconds) / 1e9 }) {
        precondition(capacity > 0 && perSecond > 0, "a rate limit needs a positive capacity and rate")
        self.capacity = Double(capacity)
        self.perSecond = perSecond
        self.clock = clock
    }

    /// Takes one request from `key`'s bucket; false when it is empty (answer 429).
    public func allow(_ key: String) -> Bool {
        let now = clock()
        lock.lock()
        defer { lock.unlock() }
        if buckets.count > 10_000 {
            buckets = buckets.filter { now - $0.value.time < (capacity - $0.value.tokens) / perSecond }
        }
        var bucket = buckets[key] ?? (capacity, now)
        bucket.tokens = min(capacity, bucket.tokens + (now - bucket.time) * perSecond)
        bucket.time = now
        guard bucket.tokens >= 1 else {
            buckets[key] = bucket
            return false
        }
        bucket.tokens -= 1
        buckets[key] = bucket
        return true
    }

    /// Seconds until `key` may send again (for Retry-After).
    public func retryAfter(_ key: String) -> Int {
        lock.lock()
        defer { lock.unlock() }
        guard let bucket = buckets[key] else { return 0 }
        return max(1, Int(((1 - bucket.tokens) / perSecond).rounded(.up)))
    }
}
