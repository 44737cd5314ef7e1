import Foundation
import XCTest
@testable import Alignment
import Tensors

/// PPO's math on hand-computed examples (the arithmetic is written out next to each expectation).
final class PPOLossTests: XCTestCase {
    func assertClose(_ actual: [Float], _ expected: [Float], accuracy: Float = 1e-5, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(actual.count, expected.count, file: file, line: line)
        for (a, e) in zip(actual, expected) { XCTAssertEqual(a, e, accuracy: accuracy, "\(actual) vs \(expected)", file: file, line: line) }
    }

    func testGeneralizedAdvantagesByHand() {
        // γ = 1, λ = 0.5, V after the end = 0:
        // t=2: δ = 1 − 0.3 = 0.7,          A = 0.7
        // t=1: δ = 0 + 0.3 − 0.4 = −0.1,   A = −0.1 + 0.5·0.7 = 0.25
        // t=0: δ = 0 + 0.4 − 0.5 = −0.1,   A = −0.1 + 0.5·0.25 = 0.025
        let (advantages, returns) = PPOLoss.generalizedAdvantages(rewards: [0, 0, 1], values: [0.5, 0.4, 0.3], gamma: 1, lambda: 0.5)
        assertClose(advantages, [0.025, 0.25, 0.7])
        assertClose(returns, [0.525, 0.65, 1.0])
        // λ = 1 gives Monte-Carlo returns: R_0 = γ²·1 = 0.81 whatever the values.
        let monteCarlo = PPOLoss.generalizedAdvantages(rewards: [0, 0, 1], values: [0.5, 0.4, 0.3], gamma: 0.9, lambda: 1)
        assertClose(monteCarlo.returns, [0.81, 0.9, 1.0])
        assertClose(monteCarlo.advantages, [0.31, 0.5, 0.7])
        // λ = 0 is the one-step TD error.
        let td = PPOLoss.generalizedAdvantages(rewards: [0.2, 1], values: [0.5, 0.3], gamma: 1, lambda: 0)
        assertClose(td.advantages, [0.2 + 0.3 - 0.5, 1 - 0.3])
    }

    func testKLEstimatorsByHand() {
        // log r = ref − logp = [−0.5, 1]; k1 = −log r; k3 = (e^{log r} − 1) − log r.
        let logP: [Float] = [-1, -2], reference: [Float] = [-1.5, -1]
        assertClose(PPOLoss.kl(logProbabilities: logP, referenceLogProbabilities: reference, estimator: .k1), [0.5, -1])
        assertClose(PPOLoss.kl(logProbabilities: logP, referenceLogProbabilities: reference, estimator: .k3),
                    [Float(exp(-0.5) - 1 + 0.5), Float(exp(1.0) - 1 - 1)])
    }

    /// Both estimators average to KL(p ‖ q) on samples from p; k3 with a smaller variance (Schulman 2020).
    func testKLEstimatorsAreUnbiased() {
        let p: [Double] = [0.5, 0.3, 0.2], q: [Double] = [0.2, 0.3, 0.5]
        let exact = zip(p, q).reduce(0) { $0 + $1.0 * log($1.0 / $1.1) }
        var generator = SeededGenerator(seed: 7)
        var samplesP: [Float] = [], samplesQ: [Float] = []
        for _ in 0..<20_000 {
            let u = Double(generator.nextUniform())
            let index = u < 0.5 ? 0 : (u < 0.8 ? 1 : 2)
            samplesP.append(Float(log(p[index]))); samplesQ.append(Float(log(q[index])))
        }
        func stats(_ values: [Float]) -> (mean: Double, variance: Double) {
            let mean = values.reduce(0) { $0 + Double($1) } / Double(values.count)
            return (mean, values.reduce(0) { $0 + (Double($1) - mean) * (Double($1) - mean) } / Double(values.count))
        }
        let k1 = stats(PPOLoss.kl(logProbabilities: samplesP, referenceLogProbabilities: samplesQ, estimator: .k1))
        let k3 = stats(PPOLoss.kl(logProbabilities: samplesP, referenceLogProbabilities: samplesQ, estimator: .k3))
        XCTAssertEqual(k1.mean, exact, accuracy: 0.02)
        XCTAssertEqual(k3.mean, exact, accuracy: 0.02)
        XCTAssertLessThan(k3.variance, k1.variance)
    }

    func testShapedRewardsPutTheScoreOnTheLastToken() {
        let (rewards, nonScore) = PPOLoss.shapedRewards(kl: [0.5, -1, 0.2], score: 2, coefficient: 0.1)
        assertClose(nonScore, [-0.05, 0.1, -0.02])
        assertClose(rewards, [-0.05, 0.1, 1.98])
    }

    func testWhitening() {
        // mean 2, unbiased variance (1 + 0 + 1) / 2 = 1.
        let whitened = PPOLoss.whiten([[1, 2], [3]])
        assertClose(whitened[0], [-1, 0], accuracy: 1e-4)
        assertClose(whitened[1], [1], accuracy: 1e-4)
        let kept = PPOLoss.whiten([[1, 2], [3]], shiftMean: false)
        assertClose(kept[0] + kept[1], [1, 2, 3], accuracy: 1e-4)
    }

    func testClippedPolicyLossValuesClipFractionAndGradient() {
        // ε = 0.2; the 4th token is padding (mask 0) with values that would dominate if counted.
        // t0: ρ = 1.5, A = 1:  −1.5 vs −1.2 (clipped, larger)        → −1.2, clipped
        // t1: ρ = 0.5, A = 1:  −0.5 vs −0.8                           → −0.5
        // t2: ρ = 1.1, A = −1: 1.1 vs 1.1 (inside the range)           → 1.1
        // loss = (−1.2 − 0.5 + 1.1) / 3 = −0.2
        let newLogP = Tensor(shape: [1, 4], scalars: [log(1.5), log(0.5), log(1.1), 5])
        newLogP.requiresGrad = true
        let (loss, statistics) = PPOLoss.clippedPolicyLoss(
            logProbabilities: newLogP, oldLogProbabilities: .zeros([1, 4]),
            advantages: Tensor(shape: [1, 4], scalars: [1, 1, -1, 100]), mask: Tensor(shape: [1, 4], scalars: [1, 1, 1, 0]),
            clipRange: 0.2)
        XCTAssertEqual(loss.item, -0.2, accuracy: 1e-6)
        XCTAssertEqual(statistics.clipFraction, 1.0 / 3, accuracy: 1e-9)
        XCTAssertEqual(statistics.ratio, (1.5 + 0.5 + 1.1) / 3, accuracy: 1e-6)
        let squares = [log(1.5), log(0.5), log(1.1)].map { $0 * $0 }.reduce(0, +)
        XCTAssertEqual(statistics.approximateKL, 0.5 * squares / 3, accuracy: 1e-6)
        // ∂/∂log π of −Aρ is −Aρ where the unclipped term is taken, 0 where the clipped one is (ρ outside the range).
        loss.backward()
        assertClose(newLogP.grad?.scalars ?? [], [0, -0.5 / 3, 1.1 / 3, 0])
    }

    func testClippedValueLossValuesClipFractionAndGradient() {
        // ε_v = 0.2, V_old = 0.5:
        // t0: V = 1.0 → clipped 0.7; (1 − 2)² = 1 vs (0.7 − 2)² = 1.69 → 1.69, clipped
        // t1: V = 0.0 → clipped 0.3; (0 − 0.4)² = 0.16 vs 0.01          → 0.16
        // t2: V = 0.5 = R                                                 → 0
        // loss = ½ (1.69 + 0.16) / 3
        let values = Tensor(shape: [1, 3], scalars: [1, 0, 0.5])
        values.requiresGrad = true
        let (loss, clipFraction) = PPOLoss.clippedValueLoss(
            values: values, oldValues: .full([1, 3], 0.5), returns: Tensor(shape: [1, 3], scalars: [2, 0.4, 0.5]),
            mask: .ones([1, 3]), clipRange: 0.2)
        XCTAssertEqual(loss.item, 0.5 * 1.85 / 3, accuracy: 1e-6)
        XCTAssertEqual(clipFraction, 1.0 / 3, accuracy: 1e-9)
        loss.backward()
        assertClose(values.grad?.scalars ?? [], [0, -0.4 / 3, 0])
    }

    func testAdaptiveKLController() {
        // Ziegler et al.: e = clip(KL/target − 1, ±0.2), β ← β (1 + e·n/horizon).
        var controller = PPOKLController(coefficient: 0.1, target: 6, horizon: 10_000)
        controller.update(kl: 12, episodes: 1000)  // e = +0.2 (clipped from 1)
        XCTAssertEqual(controller.coefficient, 0.1 * 1.02, accuracy: 1e-7)
        let before = controller.coefficient
        controller.update(kl: 5.7, episodes: 1000)  // e = −0.05
        XCTAssertEqual(controller.coefficient, before * (1 - 0.005), accuracy: 1e-7)
        var fixed = PPOKLController(coefficient: 0.05)
        fixed.update(kl: 100, episodes: 64)
        XCTAssertEqual(fixed.coefficient, 0.05)
    }

    func testConfigurationReadsTRLKeysAndRejectsBadValues() throws {
        let json = #"{"kl_coef": 0.2, "target_kl": 6, "num_ppo_epochs": 2, "learning_rate": 1e-5, "kl_estimator": "k3", "missing_eos_penalty": 1.0, "per_device_train_batch_size": 4, "gradient_accumulation_steps": 2, "num_mini_batches": 4}"#
        let configuration = try JSONDecoder().decode(PPOConfiguration.self, from: Data(json.utf8))
        XCTAssertEqual(configuration.klCoefficient, 0.2)
        XCTAssertEqual(configuration.klTarget, 6)
        XCTAssertEqual(configuration.ppoEpochs, 2)
        XCTAssertEqual(configuration.klEstimator, .k3)
        XCTAssertEqual(configuration.missingEOSPenalty, 1)
        XCTAssertEqual(configuration.training.learningRate, 1e-5)
        XCTAssertEqual(configuration.batchSize, 8)
        XCTAssertNoThrow(try configuration.validate())
        XCTAssertEqual(configuration.iterations(promptCount: 20), 3)  // ⌈20 / 8⌉
        // Round trip through the effective-config encoding.
        let again = try JSONDecoder().decode(PPOConfiguration.self, from: JSONEncoder().encode(configuration))
        XCTAssertEqual(again, configuration)
        XCTAssertThrowsError(try JSONDecoder().decode(PPOConfiguration.self, from: Data(#"{"kl_estimator": "k2"}"#.utf8)))
        var bad = configuration
        bad.miniBatchCount = 3
        XCTAssertThrowsError(try bad.validate()) { XCTAssertTrue("\($0)".hasPrefix("num_mini_batches")) }
    }
}
