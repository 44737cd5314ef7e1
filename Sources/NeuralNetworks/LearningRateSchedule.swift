#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Learning rate as a function of the optimizer step, as transformers' `get_scheduler` defines them:
/// linear warm-up from 0 over `warmupSteps`, then constant, linear decay to 0, or half-cosine decay to 0
/// at `totalSteps`.
public struct LearningRateSchedule: Codable, Equatable, Sendable {
    public enum Decay: String, Codable, Sendable, CaseIterable {
        case constant, linear, cosine
    }

    public var peak: Float
    public var warmupSteps: Int
    public var totalSteps: Int
    public var decay: Decay

    public init(peak: Float, warmupSteps: Int = 0, totalSteps: Int = 0, decay: Decay = .constant) {
        precondition(decay == .constant || totalSteps > 0, "a \(decay) schedule needs totalSteps > 0")
        self.peak = peak
        self.warmupSteps = warmupSteps
        self.totalSteps = totalSteps
        self.decay = decay
    }

    /// The learning rate for the update made at `step` (0-based).
    public func learningRate(at step: Int) -> Float {
        if step < warmupSteps { return peak * Float(step) / Float(Swift.max(1, warmupSteps)) }
        switch decay {
        case .constant:
            return peak
        case .linear:
            let remaining = Float(totalSteps - step) / Float(Swift.max(1, totalSteps - warmupSteps))
            return peak * Swift.max(0, remaining)
        case .cosine:
            let progress = Float(step - warmupSteps) / Float(Swift.max(1, totalSteps - warmupSteps))
            return peak * Swift.max(0, 0.5 * (1 + cos(Float.pi * progress)))
        }
    }
}
