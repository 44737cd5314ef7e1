import Foundation
import Tensors
import XCTest
@testable import Probes

/// The probe's statistics against brute-force definitions, and the fits against their optimality conditions.
final class ProbeMathTests: XCTestCase {
    func testAUROCEqualsThePairwiseDefinitionWithTies() {
        var generator = SeededGenerator(seed: 3)
        for _ in 0..<20 {
            let count = 5 + Int(generator.next() % 40)
            // Scores on a coarse grid, so ties between and within classes are common.
            let scores = (0..<count).map { _ in Double(generator.next() % 6) / 5 }
            let labels = (0..<count).map { _ in generator.next() % 2 == 0 }
            var wins = 0.0, pairs = 0.0
            for i in 0..<count where labels[i] {
                for j in 0..<count where !labels[j] {
                    pairs += 1
                    wins += scores[i] > scores[j] ? 1 : scores[i] == scores[j] ? 0.5 : 0
                }
            }
            let expected = pairs == 0 ? 0.5 : wins / pairs
            XCTAssertEqual(ProbeMetrics.auroc(scores: scores, labels: labels), expected, accuracy: 1e-12)
        }
    }

    func testCalibrationErrorAndAccuracyByHand() {
        // Bin [0.1, 0.2): probabilities 0.1, 0.1 with labels 0, 1 → |0.5 − 0.1| · 2/4; bin [0.9, 1]: 0.9, 1.0 with 1, 1 → |1 − 0.95| · 2/4.
        let metrics = ProbeMetrics(scores: [0.1, 0.1, 0.9, 1.0], labels: [false, true, true, true])
        XCTAssertEqual(metrics.calibrationError, 0.4 * 0.5 + 0.05 * 0.5, accuracy: 1e-12)
        XCTAssertEqual(metrics.accuracy, 0.75)
        XCTAssertEqual(metrics.positives, 3)
        XCTAssertEqual(metrics.negatives, 1)
    }

    func testThresholdAllowsAtMostTheTargetRateAndIsTheLowestSuch() {
        var generator = SeededGenerator(seed: 9)
        for rate in [0.0, 0.05, 0.1, 0.5] {
            let negatives = (0..<57).map { _ in Double(generator.next() % 20) / 20 }  // with ties
            let threshold = ProbeMetrics.threshold(negatives: negatives, falsePositiveRate: rate)
            let triggered = negatives.filter { $0 >= threshold }.count
            XCTAssertLessThanOrEqual(Double(triggered), rate * Double(negatives.count) + 1e-9, "rate \(rate)")
            // Any lower threshold at a negative's score lets more through than allowed.
            let lower = negatives.filter { $0 < threshold }.max() ?? -1
            XCTAssertGreaterThan(Double(negatives.filter { $0 >= lower }.count), rate * Double(negatives.count), "rate \(rate)")
        }
    }

    /// Gaussian classes whose means differ along a known direction, with a nuisance feature of large scale.
    func syntheticRows(count: Int, seed: UInt64, nuisance: Float = 50) -> ([[Float]], [Bool]) {
        var generator = SeededGenerator(seed: seed)
        func normal() -> Float {
            let u = max(1e-12, Double(generator.next() % 1_000_000) / 1_000_000), v = Double(generator.next() % 1_000_000) / 1_000_000
            return Float((-2 * log(u)).squareRoot() * cos(2 * .pi * v))
        }
        var rows: [[Float]] = [], labels: [Bool] = []
        for index in 0..<count {
            let label = index % 3 == 0  // imbalanced: a third positive
            var row = (0..<6).map { _ in normal() }
            row[1] = nuisance * row[1] + 7  // a large, uninformative feature
            if label { row[0] += 1.5; row[2] -= 1.0 }
            rows.append(row)
            labels.append(label)
        }
        return (rows, labels)
    }

    func testLogisticRegressionReachesItsOptimum() {
        let (rows, labels) = syntheticRows(count: 300, seed: 1)
        let penalty = 0.05
        let probe = LogisticRegression(penalty: penalty).fit(rows: rows, labels: labels)
        // The gradient of the class-weighted, L2-penalised loss vanishes at the returned weights (in standardised space).
        let positives = Double(labels.filter { $0 }.count), count = Double(labels.count)
        var gradient = [Double](repeating: 0, count: 7), total = 0.0
        for (row, label) in zip(rows, labels) {
            let weight = count / (2 * (label ? positives : count - positives))
            total += weight
            let features = (0..<6).map { Double((row[$0] - probe.mean[$0]) / probe.scale[$0]) } + [1]
            let z = zip(features, probe.weight.map(Double.init) + [Double(probe.bias)]).reduce(0) { $0 + $1.0 * $1.1 }
            let p = 1 / (1 + exp(-z))
            for a in 0..<7 { gradient[a] += weight * (p - (label ? 1 : 0)) * features[a] }
        }
        for a in 0..<7 {
            let full = gradient[a] / total + (a < 6 ? penalty * Double(probe.weight[a]) : 0)
            XCTAssertEqual(full, 0, accuracy: 1e-5, "gradient component \(a)")
        }
        // The standardisation is the training rows' own: the large feature's scale is about 50.
        XCTAssertEqual(Double(probe.scale[1]), 50, accuracy: 8)
        // The informative features carry the weight, with the signs of the mean shift.
        XCTAssertGreaterThan(probe.weight[0], 0.5)
        XCTAssertLessThan(probe.weight[2], -0.3)
        XCTAssertLessThan(abs(probe.weight[1]), 0.3)
    }

    func testDifferenceOfMeansFindsTheShiftAndIsCalibrated() {
        let (rows, labels) = syntheticRows(count: 600, seed: 2, nuisance: 2)
        let direction = DifferenceOfMeans.direction(rows: rows, labels: labels)
        let shift: [Float] = [1.5, 0, -1, 0, 0, 0]
        let norm = shift.reduce(0) { $0 + $1 * $1 }.squareRoot()
        let cosine = zip(direction, shift).reduce(Float(0)) { $0 + $1.0 * $1.1 } / norm
        XCTAssertGreaterThan(cosine, 0.9)
        let probe = DifferenceOfMeans.fit(rows: rows, labels: labels)
        let scores = rows.map { probe.probability($0) }
        XCTAssertGreaterThan(ProbeMetrics.auroc(scores: scores, labels: labels), 0.7)
        // Platt scaling with balanced weights: the mean probability of each class sits on its side of ½.
        let positive = zip(scores, labels).filter { $0.1 }.map(\.0), negative = zip(scores, labels).filter { !$0.1 }.map(\.0)
        XCTAssertGreaterThan(positive.reduce(0, +) / Double(positive.count), 0.5)
        XCTAssertLessThan(negative.reduce(0, +) / Double(negative.count), 0.5)
    }

    /// The raw difference (what activation addition adds) is the mean of the positives minus the mean of the
    /// negatives, and the direction is that vector normalised.
    func testDifferenceOfMeansRawVector() {
        let rows: [[Float]] = [[1, 2], [3, 4], [0, 0], [2, -2]], labels = [true, true, false, false]
        XCTAssertEqual(DifferenceOfMeans.difference(rows: rows, labels: labels), [1, 4])
        let direction = DifferenceOfMeans.direction(rows: rows, labels: labels)
        XCTAssertEqual(direction[0], 1 / Float(17).squareRoot(), accuracy: 1e-7)
        XCTAssertEqual(direction[1], 4 / Float(17).squareRoot(), accuracy: 1e-7)
    }
}
