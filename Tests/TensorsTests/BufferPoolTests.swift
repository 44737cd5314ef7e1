import XCTest
@testable import Tensors

/// The buffer pool's reuse policy: a training step whose shapes repeat keeps every buffer, a step whose shapes
/// changed returns the idle buffers of sizes it does not ask for, and outside a step nothing is returned on a miss.
final class BufferPoolTests: XCTestCase {
    let small = 100_000, medium = 200_000, large = 300_000

    func testRepeatedShapesKeepTheirBuffersAcrossSteps() {
        let pool = BufferPool()
        defer { pool.drain() }
        for step in 0..<3 {
            pool.beginStep()
            // A temporary of one size freed before the first request of another in the same step: the miss on the
            // second size must not return the first, which the step asks for again.
            pool.give(pool.take(count: small), count: small)
            let b = pool.take(count: medium)
            XCTAssertEqual(pool.idleBuffers[small], 1, "step \(step)")
            let c = pool.take(count: small)
            pool.give(b, count: medium)
            pool.give(c, count: small)
        }
        XCTAssertEqual(pool.idleBuffers, [small: 1, medium: 1], "each step reused the previous step's two buffers")
    }

    func testAStepWithNewShapesReturnsTheIdleBuffersItDoesNotAskFor() {
        let pool = BufferPool()
        defer { pool.drain() }
        pool.beginStep()
        for size in [small, medium] { pool.give(pool.take(count: size), count: size) }
        pool.beginStep()
        let kept = pool.take(count: small)  // a hit: this step asks for the small size too
        let new = pool.take(count: large)  // a miss: the medium buffer, not asked for in this step, goes
        XCTAssertEqual(pool.idleBuffers, [:])
        pool.give(kept, count: small)
        pool.give(new, count: large)
        XCTAssertEqual(pool.idleBuffers, [small: 1, large: 1])
    }

    func testOutsideAStepAMissReturnsNothing() {
        let pool = BufferPool()
        defer { pool.drain() }
        pool.give(pool.take(count: small), count: small)
        let other = pool.take(count: medium)
        XCTAssertEqual(pool.idleBuffers, [small: 1], "inference and benchmarks without steps keep their buffers")
        pool.give(other, count: medium)
    }
}
