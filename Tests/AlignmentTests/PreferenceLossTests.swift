import Foundation
import XCTest
@testable import Alignment
import Tensors

final class PreferenceLossTests: XCTestCase {
    private func t(_ values: [Float]) -> Tensor { Tensor(shape: [values.count], scalars: values) }
    private func logSigmoid(_ x: Double) -> Double { -Foundation.log(1 + Foundation.exp(-x)) }

    func testLogSigmoidIsStableAtExtremes() {
        let values = PreferenceLoss.logSigmoid(t([-200, -1, 0, 2, 200])).scalars
        XCTAssertEqual(values[0], -200, accuracy: 1e-3)
        XCTAssertEqual(values[2], Float(-Foundation.log(2.0)), accuracy: 1e-6)
        XCTAssertEqual(values[4], 0, accuracy: 1e-6)
        XCTAssertTrue(values.allSatisfy(\.isFinite))
    }

    /// With the reference equal to the policy, every DPO logit is 0 and the sigmoid loss is ln 2.
    func testDPOWithReferenceEqualToPolicyIsLog2() {
        let chosen = t([-12, -3.5]), rejected = t([-9, -4])
        let loss = PreferenceLoss.dpo(.sigmoid, policyChosen: chosen, policyRejected: rejected,
                                      referenceChosen: chosen, referenceRejected: rejected, beta: 0.1)
        for value in loss.scalars { XCTAssertEqual(value, Float(Foundation.log(2.0)), accuracy: 1e-6) }
    }

    /// Every variant against its equation evaluated in Double.
    func testVariantsMatchTheirEquations() {
        let (pc, pr, rc, rr): (Float, Float, Float, Float) = (-10, -14, -11, -12)
        let beta: Float = 0.2, epsilon: Float = 0.1, gamma: Float = 0.5
        let h = Double((pc - pr) - (rc - rr)), b = Double(beta), e = Double(epsilon)
        func loss(_ kind: PreferenceLoss.Kind) -> Float {
            PreferenceLoss.dpo(kind, policyChosen: t([pc]), policyRejected: t([pr]), referenceChosen: t([rc]), referenceRejected: t([rr]),
                               beta: beta, labelSmoothing: epsilon, simpoGamma: gamma).item
        }
        XCTAssertEqual(Double(loss(.sigmoid)), -(1 - e) * logSigmoid(b * h) - e * logSigmoid(-b * h), accuracy: 1e-5)
        XCTAssertEqual(Double(loss(.ipo)), Foundation.pow(h - 1 / (2 * b), 2), accuracy: 1e-4)
        XCTAssertEqual(Double(loss(.hinge)), max(0, 1 - b * h), accuracy: 1e-5)
        XCTAssertEqual(Double(loss(.robust)), (-(1 - e) * logSigmoid(b * h) + e * logSigmoid(-b * h)) / (1 - 2 * e), accuracy: 1e-5)
        let s = Double(pc - pr) - Double(gamma) / b
        XCTAssertEqual(Double(loss(.simpo)), -(1 - e) * logSigmoid(b * s) - e * logSigmoid(-b * s), accuracy: 1e-5)
    }

    func testRewardLossHardSoftMarginAndCentering() {
        let chosen = t([1.5, -0.5]), rejected = t([0.5, 0.5])
        let hard = PreferenceLoss.reward(chosen: chosen, rejected: rejected).scalars
        XCTAssertEqual(Double(hard[0]), -logSigmoid(1), accuracy: 1e-6)
        XCTAssertEqual(Double(hard[1]), -logSigmoid(-1), accuracy: 1e-6)
        let margin = PreferenceLoss.reward(chosen: chosen, rejected: rejected, margin: t([0.5, 0])).scalars
        XCTAssertEqual(Double(margin[0]), -logSigmoid(0.5), accuracy: 1e-6)
        let soft = PreferenceLoss.reward(chosen: chosen, rejected: rejected, chosenProbability: t([0.7, 0.5])).scalars
        XCTAssertEqual(Double(soft[0]), -0.7 * logSigmoid(1) - 0.3 * logSigmoid(-1), accuracy: 1e-6)
        XCTAssertEqual(Double(soft[1]), -0.5 * logSigmoid(-1) - 0.5 * logSigmoid(1), accuracy: 1e-6)
        let centred = PreferenceLoss.reward(chosen: chosen, rejected: rejected, centerCoefficient: 0.01).scalars
        XCTAssertEqual(Double(centred[0]), -logSigmoid(1) + 0.01 * 4, accuracy: 1e-6)
    }

    func testGradientsFlowToPolicyOnly() {
        let chosen = t([-3, -5]), rejected = t([-4, -4])
        chosen.requiresGrad = true; rejected.requiresGrad = true
        let reference = t([-3.5, -4.5])
        PreferenceLoss.dpo(.sigmoid, policyChosen: chosen, policyRejected: rejected, referenceChosen: reference,
                           referenceRejected: reference, beta: 0.1).mean().backward()
        // ∂/∂π_c of −log σ(β h) = −β σ(−β h) / B: negative (raising the chosen log-prob lowers the loss).
        XCTAssertTrue(chosen.grad!.scalars.allSatisfy { $0 < 0 })
        XCTAssertTrue(rejected.grad!.scalars.allSatisfy { $0 > 0 })
        XCTAssertNil(reference.grad)
    }
}
