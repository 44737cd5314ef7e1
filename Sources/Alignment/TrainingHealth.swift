import Foundation
import Tensors

/// Watches a run for divergence that raises no error by itself — the failure where a too-high learning rate leaves
/// a destroyed model and a run that "succeeds" (at learning rate 1e6: weights ~4e6, the loss stuck at ln V, the
/// gradient norm 0 from step 2). After each step `TrainingLoop` asks it whether training has collapsed:
///
/// - **non-finite weights** (a finite gradient can still push a weight to infinity or NaN);
/// - **exploding weights**: the largest trainable weight (in magnitude) grown to `weightGrowth` times what it was
///   when the run started (or 1, if that is larger);
/// - **a dead gradient**: a gradient norm of exactly 0 for `deadGradientSteps` steps in a row;
/// - **a pinned loss**: for next-token cross-entropy, a loss within `pinnedTolerance` of ln V (the loss of a model
///   that predicts every token as equally likely) for `pinnedLossSteps` steps in a row.
///
/// The thresholds are far from any healthy run. AdamW moves a weight by about the learning rate per step, so at
/// fine-tuning rates (≤ 1e-3) growing the largest weight a hundredfold takes tens of thousands of steps all pushing
/// the same way; a step that trains anything has a non-zero gradient; and a model's loss sits exactly at ln V only
/// when its predictions are uniform (the tiny test model starts 0.049 nats below ln V, 490 times the tolerance).
/// Measured on that model at learning rate 1e6: the largest weight jumps from 1 to 1e6 in step 1, the gradient norm
/// is 0 and the loss ln V from step 2; at 10: the largest weight grows by about 10 a step.
struct TrainingHealth {
    /// How many times its starting magnitude (at least 1) the largest weight may grow before the run is stopped.
    static let weightGrowth: Float = 100
    /// Steps in a row with a zero gradient norm that mean nothing can train any more.
    static let deadGradientSteps = 5
    /// Steps in a row with the loss at ln V that mean the model predicts nothing.
    static let pinnedLossSteps = 5
    /// How close to ln V (in nats) a pinned loss is.
    static let pinnedTolerance = 1e-4

    /// ln V for next-token cross-entropy objectives (nil: the loss has no such fixed point).
    let uniformLoss: Double?
    /// The largest |weight| when the run started, and the largest allowed: `weightGrowth` × that (or × 1).
    let startingWeight: Float
    let maximumWeight: Float
    /// The first step of the current run of zero gradient norms, and of losses at ln V.
    private var deadGradientSince: Int?
    private var pinnedLossSince: Int?
    /// Checkpoints known to this run (the resumed one, then each saved), oldest first.
    private var checkpoints: [(step: Int, path: String)] = []

    /// - Parameter parameters: the trainable weights as the run (or resume) starts.
    init(uniformLoss: Double?, parameters: [Tensor]) {
        self.uniformLoss = uniformLoss
        startingWeight = Self.largestMagnitude(parameters)
        maximumWeight = Self.weightGrowth * (startingWeight.isFinite ? max(1, startingWeight) : 1)
    }

    /// Records a checkpoint written (or resumed from) at `step`.
    mutating func checkpointed(step: Int, path: String) { checkpoints.append((step, path)) }

    /// The newest checkpoint written before `step` that still exists (`save_total_limit` may have removed it).
    func lastGoodCheckpoint(before step: Int) -> String? {
        checkpoints.last { $0.step < step && FileManager.default.fileExists(atPath: $0.path) }?.path
    }

    /// Checks step `step` (counting from 1) from its metrics (`loss`, `grad_norm`) and the trained weights.
    /// - Throws: `TrainingError.nonFinite` or `.collapsed`, naming the step and the last good checkpoint.
    mutating func check(step: Int, metrics: [String: Double], parameters: [Tensor]) throws {
        let largest = Self.largestMagnitude(parameters)
        guard largest.isFinite else {
            throw TrainingError.nonFinite(step: step, quantity: "a weight (\(largest))", lastCheckpoint: lastGoodCheckpoint(before: step))
        }
        if largest > maximumWeight {
            throw TrainingError.collapsed(step: step, symptom: "the largest weight is \(largest), over \(Int(Self.weightGrowth)) times the \(startingWeight) it started at: the weights are exploding",
                                          lastGoodCheckpoint: lastGoodCheckpoint(before: step))
        }
        if let norm = metrics["grad_norm"] {
            deadGradientSince = norm == 0 ? deadGradientSince ?? step : nil
        }
        if let since = deadGradientSince, step - since + 1 >= Self.deadGradientSteps {
            throw TrainingError.collapsed(step: step, symptom: "the gradient norm has been 0 since step \(since): nothing trains any more",
                                          lastGoodCheckpoint: lastGoodCheckpoint(before: since))
        }
        if let uniformLoss, let loss = metrics["loss"] {
            pinnedLossSince = abs(loss - uniformLoss) < Self.pinnedTolerance ? pinnedLossSince ?? step : nil
        }
        if let since = pinnedLossSince, let uniformLoss, step - since + 1 >= Self.pinnedLossSteps {
            throw TrainingError.collapsed(step: step, symptom: String(format: "the loss has been ln V = %.4f since step %d: the model predicts every token as equally likely", uniformLoss, since),
                                          lastGoodCheckpoint: lastGoodCheckpoint(before: since))
        }
    }

    /// The largest |weight| over `parameters` (NaN or infinity when one is not finite).
    static func largestMagnitude(_ parameters: [Tensor]) -> Float {
        var largest: Float = 0
        for parameter in parameters {
            let local = parameter.withUnsafeBufferPointer { values -> Float in
                var local: Float = 0
                for value in values {
                    let magnitude = abs(value)
                    if !(magnitude <= local) { local = magnitude }  // NaN compares false, so it is kept
                    if local.isNaN { break }
                }
                return local
            }
            if !(local <= largest) { largest = local }
            if largest.isNaN { break }
        }
        return largest
    }
}
