import Foundation
import Runtime

/// The leading principal axes of a centred matrix (rows × columns) by power iteration on XᵀX, applied as Xᵀ(Xv)
/// so that the columns' covariance (columns² entries) is never formed; each further axis is kept orthogonal to the
/// ones before it (deflation). Signs are fixed so that an axis's largest-magnitude entry is positive.
struct PrincipalComponents {
    /// Unit axes, one per component, each of `columns` entries.
    var axes: [[Double]]
    /// Each axis's share of the total variance.
    var explainedVariance: [Double]

    init(_ centred: [[Double]], count: Int, iterations: Int = 500, random: inout SplitMix64) {
        let columns = centred.first?.count ?? 0
        let total = centred.reduce(0) { $0 + $1.reduce(0) { $0 + $1 * $1 } }
        axes = []
        explainedVariance = []
        for _ in 0..<count {
            var axis = (0..<columns).map { _ in random.nextUnit() - 0.5 }
            var eigenvalue = 0.0
            for _ in 0..<iterations {
                var next = [Double](repeating: 0, count: columns)
                for row in centred {
                    let projection = zip(row, axis).reduce(0) { $0 + $1.0 * $1.1 }
                    for column in 0..<columns { next[column] += projection * row[column] }
                }
                for previous in axes {
                    let overlap = zip(next, previous).reduce(0) { $0 + $1.0 * $1.1 }
                    for column in 0..<columns { next[column] -= overlap * previous[column] }
                }
                let norm = next.reduce(0) { $0 + $1 * $1 }.squareRoot()
                guard norm > 1e-12 else { eigenvalue = 0; break }
                let change = zip(next, axis).reduce(0) { $0 + abs($1.0 / norm - $1.1) }
                axis = next.map { $0 / norm }
                eigenvalue = norm
                if change < 1e-10 { break }
            }
            if let largest = axis.indices.max(by: { abs(axis[$0]) < abs(axis[$1]) }), axis[largest] < 0 {
                axis = axis.map { -$0 }
            }
            axes.append(axis)
            explainedVariance.append(total > 0 ? eigenvalue / total : 0)
        }
    }

    /// A row's coordinates along each axis.
    func project(_ row: [Double]) -> [Double] {
        axes.map { axis in zip(row, axis).reduce(0) { $0 + $1.0 * $1.1 } }
    }
}
