import Foundation
import XCTest
@testable import LanguageModels
import Tensors

final class SamplerTests: XCTestCase {
    private func draws(_ parameters: SamplingOptions, _ logits: [Float], count: Int = 4000, seed: UInt64 = 1) -> [Int: Int] {
        var generator = SeededGenerator(seed: seed)
        var histogram: [Int: Int] = [:]
        logits.withUnsafeBufferPointer { row in
            for _ in 0..<count { histogram[parameters.sample(row, generator: &generator), default: 0] += 1 }
        }
        return histogram
    }

    func testGreedyPicksTheArgmax() {
        XCTAssertEqual(draws(.greedy, [0.1, 2, 1.9, -1], count: 10), [1: 10])
    }

    func testTemperatureOneMatchesSoftmax() {
        let logits: [Float] = [0, Float(Foundation.log(2.0)), Float(Foundation.log(5.0))]  // probabilities 1/8, 2/8, 5/8
        let histogram = draws(SamplingOptions(temperature: 1), logits, count: 8000)
        XCTAssertEqual(Double(histogram[0] ?? 0) / 8000, 0.125, accuracy: 0.02)
        XCTAssertEqual(Double(histogram[2] ?? 0) / 8000, 0.625, accuracy: 0.02)
    }

    func testTopKTopPAndMinPRestrictTheCandidates() {
        let logits: [Float] = [3, 2.9, 1, 0.5, -2]
        XCTAssertEqual(Set(draws(SamplingOptions(topK: 2), logits).keys), [0, 1])
        // p(0) ≈ 0.45, p(1) ≈ 0.41: top-p 0.5 needs both, top-p 0.4 only the first.
        XCTAssertEqual(Set(draws(SamplingOptions(topP: 0.5), logits).keys), [0, 1])
        XCTAssertEqual(Set(draws(SamplingOptions(topP: 0.4), logits).keys), [0])
        // min-p 0.3 keeps tokens with probability ≥ 0.3 × the largest: e^(1−3) ≈ 0.14 is dropped.
        XCTAssertEqual(Set(draws(SamplingOptions(minP: 0.3), logits).keys), [0, 1])
    }

    func testSameSeedSameTokensDifferentSeedDifferentTokens() {
        let logits: [Float] = (0..<50).map { Float($0 % 7) * 0.3 }
        XCTAssertEqual(draws(SamplingOptions(temperature: 1.3), logits, count: 200, seed: 5),
                       draws(SamplingOptions(temperature: 1.3), logits, count: 200, seed: 5))
        XCTAssertNotEqual(draws(SamplingOptions(temperature: 1.3), logits, count: 200, seed: 5),
                          draws(SamplingOptions(temperature: 1.3), logits, count: 200, seed: 6))
    }

    /// The radix sort of the candidates gives the comparison sort's order exactly: ties by index, −0 with +0, −∞ and NaN
    /// left out, +∞ first, subnormals in place; and so the same draws.
    func testCandidatesAreInTheComparisonSortsOrder() {
        var generator = SeededGenerator(seed: 3)
        var logits = (0..<5000).map { _ in Float(generator.nextUniform() * 40 - 20).rounded(.toNearestOrEven) / 4 }  // many ties
        logits[7] = -.infinity; logits[8] = .nan; logits[9] = .infinity; logits[10] = -0.0; logits[11] = 0
        logits[12] = .leastNonzeroMagnitude; logits[13] = -.leastNonzeroMagnitude; logits[14] = -.greatestFiniteMagnitude
        logits[15] = .greatestFiniteMagnitude; logits[16] = -0.0
        logits.withUnsafeBufferPointer { row in
            let expected = Array(row.indices).filter { row[$0] > -Float.infinity }
                .sorted { row[$0] != row[$1] ? row[$0] > row[$1] : $0 < $1 }
            XCTAssertEqual(SamplingOptions.sortedCandidates(row), expected)
        }
        XCTAssertEqual(Array(repeating: 1, count: 300).withUnsafeBufferPointer { SamplingOptions.sortedCandidates($0) }, Array(0..<300))
        XCTAssertEqual([Float(-Float.infinity), .nan].withUnsafeBufferPointer { SamplingOptions.sortedCandidates($0) }, [])
    }

    func testStopStringsCutTheText() {
        XCTAssertEqual(Generator.cut("hello world\nHuman: hi", at: ["\nHuman:", "zzz"]), "hello world")
        XCTAssertEqual(Generator.cut("no stop here", at: ["\nHuman:"]), "no stop here")
    }
}
