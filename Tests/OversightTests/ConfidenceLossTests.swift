import Foundation
import Tensors
import XCTest
@testable import Oversight

/// Burns et al.'s auxiliary confidence loss against the authors' `logconf_loss_fn` run in PyTorch
/// (Fixtures/make_confidence_loss_fixture.py), and its parts' properties.
final class ConfidenceLossTests: XCTestCase {
    struct Fixture: Decodable {
        struct Case: Decodable {
            var logits: [Float], weak_labels: [Float], step_fraction: Double, alpha_max: Double, warmup_fraction: Double, alpha: Double
            var hardened: [Float], loss: Float, gradient: [Float], cross_entropy: Float
        }
        var cases: [Case]
    }

    func fixture() throws -> Fixture {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/confidence_loss.json")
        return try JSONDecoder().decode(Fixture.self, from: Data(contentsOf: url))
    }

    func testLossAndGradientMatchTheAuthorsLossInPyTorch() throws {
        let cases = try fixture().cases
        XCTAssertEqual(cases.count, 4)
        for (index, item) in cases.enumerated() {
            let alpha = ConfidenceLoss.alpha(progress: item.step_fraction, maximum: item.alpha_max, warmupFraction: item.warmup_fraction)
            XCTAssertEqual(alpha, item.alpha, accuracy: 1e-12, "case \(index)")
            XCTAssertEqual(ConfidenceLoss.hardenedPredictions(logits: item.logits, weakLabels: item.weak_labels), item.hardened, "case \(index)")
            let logits = Tensor(shape: [item.logits.count], scalars: item.logits)
            logits.requiresGrad = true
            let loss = ConfidenceLoss.auxiliaryConfidence(logits: logits, weakLabels: item.weak_labels, alpha: Float(alpha))
            XCTAssertEqual(loss.scalars[0], item.loss, accuracy: 1e-5, "case \(index)")
            loss.backward()
            let gradient = try XCTUnwrap(logits.grad).scalars
            for (ours, theirs) in zip(gradient, item.gradient) { XCTAssertEqual(ours, theirs, accuracy: 1e-6, "case \(index)") }
            let plain = ConfidenceLoss.crossEntropy(logits: Tensor(shape: [item.logits.count], scalars: item.logits), targets: item.weak_labels)
            XCTAssertEqual(plain.scalars[0], item.cross_entropy, accuracy: 1e-5, "case \(index)")
        }
        // The fixture exercises the schedule's warm-up and plateau, and hardens predictions that disagree with the weak labels.
        XCTAssertTrue(cases.contains { $0.alpha < $0.alpha_max } && cases.contains { $0.alpha == $0.alpha_max })
        XCTAssertTrue(cases.contains { item in zip(item.hardened, item.weak_labels).contains { ($0 > 0.5) != ($1 > 0.5) } })
    }

    func testScheduleWarmsUpLinearlyThenHolds() {
        XCTAssertEqual(ConfidenceLoss.alpha(progress: 0, maximum: 0.5, warmupFraction: 0.2), 0)
        XCTAssertEqual(ConfidenceLoss.alpha(progress: 0.1, maximum: 0.5, warmupFraction: 0.2), 0.25, accuracy: 1e-12)
        XCTAssertEqual(ConfidenceLoss.alpha(progress: 0.2, maximum: 0.5, warmupFraction: 0.2), 0.5)
        XCTAssertEqual(ConfidenceLoss.alpha(progress: 0.9, maximum: 0.5, warmupFraction: 0.2), 0.5)
        XCTAssertEqual(ConfidenceLoss.alpha(progress: 0, maximum: 0.5, warmupFraction: 0), 0.5)
    }

    func testThresholdHardensTheWeakLabelsShareOfPositives() {
        // A quarter of the weak labels' mass is positive: the two (of eight) most confident students' positives are kept.
        let logits: [Float] = [3, -1, 0.5, 2, -2, -0.5, 1, -3]
        let weak: [Float] = [0.9, 0.1, 0.2, 0.6, 0, 0.1, 0.1, 0.0]
        XCTAssertEqual(ConfidenceLoss.hardenedPredictions(logits: logits, weakLabels: weak), [1, 0, 0, 1, 0, 0, 0, 0])
        XCTAssertEqual(ConfidenceLoss.quantile([4, 1, 3, 2], 0.5), 2.5)
        XCTAssertEqual(ConfidenceLoss.quantile([4, 1, 3, 2], 1), 4)
    }

    func testZeroAlphaIsCrossEntropyOnTheWeakLabels() {
        let logits = Tensor(shape: [4], scalars: [1.5, -0.3, 0.2, -2])
        let weak: [Float] = [0.8, 0.4, 0.5, 0.1]
        XCTAssertEqual(ConfidenceLoss.auxiliaryConfidence(logits: logits, weakLabels: weak, alpha: 0).scalars[0],
                       ConfidenceLoss.crossEntropy(logits: logits, targets: weak).scalars[0], accuracy: 1e-7)
        // By hand: mean of −[y log σ(z) + (1 − y) log σ(−z)].
        let expected = zip([1.5, -0.3, 0.2, -2.0], [0.8, 0.4, 0.5, 0.1]).map { z, y in
            -(y * log(1 / (1 + exp(-z))) + (1 - y) * log(1 / (1 + exp(z))))
        }.reduce(0, +) / 4
        XCTAssertEqual(Double(ConfidenceLoss.crossEntropy(logits: logits, targets: weak).scalars[0]), expected, accuracy: 1e-6)
    }
}
