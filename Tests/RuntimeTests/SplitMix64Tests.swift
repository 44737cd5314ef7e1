import XCTest
@testable import Runtime

final class SplitMix64Tests: XCTestCase {
    /// Published outputs of Vigna's reference splitmix64.c, as listed in the `reference` test of the rand_xoshiro
    /// crate (rust-random/rngs, rand_xoshiro/src/splitmix64.rs).
    func testMatchesTheReferenceImplementation() {
        var generator = SplitMix64(seed: 1_477_776_061_723_855_037)
        XCTAssertEqual((0..<6).map { _ in generator.next() }, [
            1_985_237_415_132_408_290, 2_979_275_885_539_914_483, 13_511_426_838_097_143_398,
            8_488_337_342_461_049_707, 15_141_737_807_933_549_159, 17_093_170_987_380_407_015,
        ])
        var zero = SplitMix64(seed: 0)
        XCTAssertEqual((0..<3).map { _ in zero.next() }, [0xE220_A839_7B1D_CDAF, 0x6E78_9E6A_A1B9_65F4, 0x06C4_5D18_8009_454F])
    }

    func testUnitIsTheTop53BitsScaled() {
        var generator = SplitMix64(seed: 0), copy = generator
        let unit = generator.nextUnit()
        XCTAssertEqual(unit, Double(copy.next() >> 11) / 9_007_199_254_740_992)
        XCTAssertTrue((0..<1).contains(unit))
    }

    /// Expected draws from an independent Python transcription of the same rule (target = unit · Σw, first index
    /// where the running subtraction goes negative).
    func testWeightedIndexGoldenDraws() {
        var generator = SplitMix64(seed: 11)
        XCTAssertEqual((0..<8).map { _ in generator.weightedIndex([1, 2, 3, 4]) }, [2, 1, 3, 2, 1, 2, 1, 3])
    }

    func testWeightedSampleWithoutReplacementIsDistinct() {
        var generator = SplitMix64(seed: 5)
        let some = generator.weightedSampleWithoutReplacement([1, 1, 5, 1, 1], count: 3)
        XCTAssertEqual(some.count, 3)
        XCTAssertEqual(Set(some).count, 3)
        let all = generator.weightedSampleWithoutReplacement([1, 2, 3], count: 10)
        XCTAssertEqual(all.sorted(), [0, 1, 2])
    }
}
