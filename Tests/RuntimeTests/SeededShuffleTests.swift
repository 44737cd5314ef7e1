import XCTest
@testable import Runtime

final class SeededShuffleTests: XCTestCase {
    /// Expected order from an independent Python transcription of the swap sequence
    /// (for i = n−1 … 1: swap(i, next() % (i + 1))) over the reference SplitMix64 stream.
    func testGoldenOrder() {
        var generator = SplitMix64(seed: 7)
        var items = Array(0..<10)
        items.seededShuffle(using: &generator)
        XCTAssertEqual(items, [8, 1, 5, 9, 0, 4, 3, 2, 6, 7])
    }

    func testSameSeedSameOrderAndEveryElementKept() {
        let words = (0..<50).map { "w\($0)" }
        var first = words, second = words, other = words
        var a = SplitMix64(seed: 42), b = SplitMix64(seed: 42), c = SplitMix64(seed: 43)
        first.seededShuffle(using: &a)
        second.seededShuffle(using: &b)
        other.seededShuffle(using: &c)
        XCTAssertEqual(first, second)
        XCTAssertNotEqual(first, other)
        XCTAssertNotEqual(first, words)
        XCTAssertEqual(first.sorted(), words.sorted())
    }

    /// One draw per position after the first: n − 1 draws, none for 0 or 1 element, so callers that keep using
    /// the generator afterwards see the same stream as before.
    func testDrawsCountMinusOneValues() {
        for count in [0, 1, 2, 9] {
            var generator = SplitMix64(seed: 3), reference = SplitMix64(seed: 3)
            var items = Array(0..<count)
            items.seededShuffle(using: &generator)
            for _ in 0..<max(count - 1, 0) { _ = reference.next() }
            XCTAssertEqual(generator.next(), reference.next(), "count \(count)")
        }
    }
}
