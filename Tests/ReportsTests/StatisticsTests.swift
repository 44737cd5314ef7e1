import Foundation
import XCTest
@testable import Reports

final class StatisticsTests: XCTestCase {
    func testT95IntervalMatchesTheTable() {
        // Values 1…5: mean 3, sample sd √2.5, SE √0.5; t(4) = 2.776.
        let interval = Statistics.interval95([1, 2, 3, 4, 5])
        XCTAssertEqual(interval.mean, 3, accuracy: 1e-12)
        XCTAssertEqual(interval.upper - interval.mean, 2.776 * 0.5.squareRoot(), accuracy: 1e-9)
        XCTAssertTrue(interval.excludesZero)
        XCTAssertFalse(Statistics.interval95([-1, 1, 2]).excludesZero)
        XCTAssertFalse(Statistics.interval95([3]).excludesZero, "one value has no interval")
        XCTAssertEqual(Statistics.t95(1), 12.706)
        XCTAssertEqual(Statistics.t95(30), 2.042)
        XCTAssertEqual(Statistics.t95(1000), 1.9624, accuracy: 1e-4)
    }

    func testPercentileInterval() {
        let values = (0...100).map(Double.init)
        let interval = Statistics.percentileInterval95(values, point: 50)
        XCTAssertEqual(interval.lower, 2.5, accuracy: 1e-12)
        XCTAssertEqual(interval.upper, 97.5, accuracy: 1e-12)
    }

    func testBradleyTerryRecoversKnownStrengths() {
        // Expected win counts of players with Elo 0, 200 and −100 over 10,000 games per pair.
        let elo = [0.0, 200, -100]
        let strength = elo.map { pow(10, $0 / 400) }
        var wins = [[Double]](repeating: [0, 0, 0], count: 3)
        for i in 0..<3 { for j in 0..<3 where i != j { wins[i][j] = 10_000 * strength[i] / (strength[i] + strength[j]) } }
        let fitted = Statistics.bradleyTerryElo(wins: wins, anchor: 0, prior: 0)
        for (value, expected) in zip(fitted, elo) { XCTAssertEqual(value, expected, accuracy: 0.01) }
        // A player who never lost stays finite with the prior.
        let unbeaten = Statistics.bradleyTerryElo(wins: [[0, 0], [10, 0]], anchor: 0, prior: 1)
        XCTAssertTrue(unbeaten[1].isFinite && unbeaten[1] > 300)
    }

    func testPearsonCorrelationMatchesNumPy() throws {
        // python3 -c "import numpy as np; print(np.corrcoef([1, 2, 3, 4, 5.5], [2, 1, 4, 3, 7])[0, 1])"
        XCTAssertEqual(try XCTUnwrap(Statistics.pearsonCorrelation([1, 2, 3, 4, 5.5], [2, 1, 4, 3, 7])), 0.858086838240179, accuracy: 1e-12)
        XCTAssertNil(Statistics.pearsonCorrelation([1, 2, 3], [4, 4, 4]))
        XCTAssertNil(Statistics.pearsonCorrelation([1, 2], [3, 4]))
    }
}
