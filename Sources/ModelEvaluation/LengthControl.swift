import Foundation

/// The length-controlled win rate of AlpacaEval 2 (Dubois et al. 2024, "Length-Controlled AlpacaEval: A Simple Way
/// to Debias Automatic Evaluators", arXiv:2404.04475), in the form of its `length_controlled_minimal` GLM.
///
/// The judge's preference for the model over the baseline on item i, pᵢ ∈ [0, 1], is fitted by a logistic regression
///
///     logit P(model preferred | i) = θ + φ · tanh(Δᵢ / sd(Δ)),   Δᵢ = len(modelᵢ) − len(baselineᵢ)
///
/// (lengths in characters, as AlpacaEval's `str.len()`; sd with n − 1, as pandas' `std()`), with the soft
/// preferences as targets (the cross-entropy Σ pᵢ log σ(zᵢ) + (1 − pᵢ) log(1 − σ(zᵢ)), as AlpacaEval's duplicated
/// weighted rows give). The length-controlled win rate is the prediction at zero length difference, σ(θ): what the
/// judge would prefer if both outputs had the same length. AlpacaEval's full `length_controlled_v1` GLM adds an
/// instruction-difficulty term fitted on its 805 instructions across many models and a regularisation towards the
/// baseline; neither exists for a user's own prompt set, so they are left out (for one model against one baseline the
/// difficulty term averages out of σ(θ + ψγᵢ) only approximately — this is the minimal GLM, not the leaderboard's).
public enum LengthControl {
    /// A fitted length GLM.
    public struct Fit: Codable, Equatable, Sendable {
        /// θ: the log-odds of preferring the model at equal length.
        public var intercept: Double
        /// φ: how much the judge's log-odds rise with the standardised (tanh-squashed) length difference.
        public var lengthCoefficient: Double
        /// sd(Δ) in characters (0 when every difference is equal; then φ is 0 and σ(θ) is the raw mean).
        public var lengthStandardDeviation: Double
        /// σ(θ), the length-controlled win rate.
        public var winRate: Double

        enum CodingKeys: String, CodingKey {
            case intercept, lengthCoefficient = "length_coefficient", lengthStandardDeviation = "length_difference_sd", winRate = "length_controlled_win_rate"
        }
    }

    /// Fits the GLM by Newton's method on the soft cross-entropy with a small ridge `l2` on both weights (so that a
    /// judge who always prefers one side still has a finite fit; 1e-4 moves nothing measurably otherwise).
    /// - Parameters:
    ///   - preferences: per item, the probability that the model's output is better (ties as ½).
    ///   - lengthDifferences: per item, len(model) − len(baseline).
    public static func fit(preferences: [Double], lengthDifferences: [Double], l2: Double = 1e-4) -> Fit {
        precondition(preferences.count == lengthDifferences.count && !preferences.isEmpty,
                     "length control needs one length difference per preference (\(preferences.count), \(lengthDifferences.count))")
        let n = Double(preferences.count)
        let mean = lengthDifferences.reduce(0, +) / n
        let sd = preferences.count > 1 ? (lengthDifferences.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / (n - 1)).squareRoot() : 0
        let feature = lengthDifferences.map { sd > 0 ? tanh($0 / sd) : 0 }
        var theta = 0.0, phi = 0.0
        for _ in 0..<100 {
            // Gradient and Hessian of the mean negative log-likelihood plus ½·l2·(θ² + φ²).
            var g0 = l2 * theta, g1 = l2 * phi, h00 = l2, h01 = 0.0, h11 = l2
            for (p, x) in zip(preferences, feature) {
                let q = sigmoid(theta + phi * x), w = q * (1 - q)
                g0 += (q - p) / n; g1 += (q - p) * x / n
                h00 += w / n; h01 += w * x / n; h11 += w * x * x / n
            }
            let determinant = h00 * h11 - h01 * h01
            guard determinant > 0 else { break }
            let step0 = (h11 * g0 - h01 * g1) / determinant, step1 = (h00 * g1 - h01 * g0) / determinant
            theta -= step0; phi -= step1
            if abs(step0) + abs(step1) < 1e-12 { break }
        }
        return Fit(intercept: theta, lengthCoefficient: phi, lengthStandardDeviation: sd, winRate: sigmoid(theta))
    }

    /// σ(z), computed without overflow.
    static func sigmoid(_ z: Double) -> Double {
        z >= 0 ? 1 / (1 + exp(-z)) : exp(z) / (1 + exp(z))
    }
}
