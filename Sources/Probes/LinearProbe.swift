import Foundation

/// A linear scorer on one layer's hidden state: p(positive | x) = σ(w · (x − μ) / s + b), with the standardisation
/// (μ, s) of the training rows kept explicit.
public struct LinearProbe: Equatable, Sendable {
    /// Per-feature mean μ and scale s of the training rows (0 and 1 when not standardised).
    public var mean: [Float]
    public var scale: [Float]
    public var weight: [Float]
    public var bias: Float

    public init(mean: [Float], scale: [Float], weight: [Float], bias: Float) {
        precondition(mean.count == weight.count && scale.count == weight.count, "probe sizes \(mean.count), \(scale.count), \(weight.count) differ")
        (self.mean, self.scale, self.weight, self.bias) = (mean, scale, weight, bias)
    }

    public var hiddenSize: Int { weight.count }

    /// The logit w · (x − μ) / s + b of one row.
    public func logit(_ row: UnsafeBufferPointer<Float>) -> Double {
        precondition(row.count == weight.count, "a row of \(row.count) values for a probe of hidden size \(weight.count)")
        var sum = Double(bias)
        for index in 0..<row.count { sum += Double(weight[index]) * Double((row[index] - mean[index]) / scale[index]) }
        return sum
    }

    public func probability(_ row: UnsafeBufferPointer<Float>) -> Double { Self.sigmoid(logit(row)) }

    public func probability(_ row: [Float]) -> Double { row.withUnsafeBufferPointer(probability) }

    /// The unit vector, in the raw hidden-state space, along which the score grows (w / s, normalised).
    public var direction: [Float] {
        let raw = zip(weight, scale).map { $0 / $1 }
        let norm = raw.reduce(Float(0)) { $0 + $1 * $1 }.squareRoot()
        return norm > 0 ? raw.map { $0 / norm } : raw
    }

    static func sigmoid(_ z: Double) -> Double { z >= 0 ? 1 / (1 + exp(-z)) : exp(z) / (1 + exp(z)) }
}
