import Foundation
import Runtime

/// The leading principal axes of a centred matrix by power iteration on XᵀX, applied as Xᵀ(Xv) so that the
/// columns' covariance (columns² entries) is never formed; each further axis is kept orthogonal to the ones before
/// it (deflation). Signs are fixed so that an axis's largest-magnitude entry is positive.
///
/// Rows are sparse: a vote matrix centred after mean imputation is zero wherever a participant did not vote, so only
/// the cast votes are stored (CCAI's 38,252 votes, not its 1,000 × 1,127 cells).
struct PrincipalComponents {
    /// One row's nonzero entries.
    typealias SparseRow = [(column: Int, value: Double)]

    /// Unit axes, one per component, each of `columns` entries.
    var axes: [[Double]]
    /// Each axis's share of the total variance.
    var explainedVariance: [Double]

    init(_ rows: [SparseRow], columns: Int, count: Int, iterations: Int = 1000, random: inout SplitMix64) {
        let total = rows.reduce(0) { $0 + $1.reduce(0) { $0 + $1.value * $1.value } }
        axes = []
        explainedVariance = []
        for _ in 0..<count {
            var axis = (0..<columns).map { _ in random.nextUnit() - 0.5 }
            var eigenvalue = 0.0
            for _ in 0..<iterations {
                var next = [Double](repeating: 0, count: columns)
                for row in rows {
                    var projection = 0.0
                    for entry in row { projection += entry.value * axis[entry.column] }
                    for entry in row { next[entry.column] += projection * entry.value }
                }
                for previous in axes {
                    var overlap = 0.0
                    for column in 0..<columns { overlap += next[column] * previous[column] }
                    for column in 0..<columns { next[column] -= overlap * previous[column] }
                }
                var norm = 0.0
                for value in next { norm += value * value }
                norm = norm.squareRoot()
                guard norm > 1e-12 else { eigenvalue = 0; break }
                var change = 0.0
                for column in 0..<columns {
                    next[column] /= norm
                    change += abs(next[column] - axis[column])
                }
                axis = next
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
    func project(_ row: SparseRow) -> [Double] {
        axes.map { axis in row.reduce(0) { $0 + $1.value * axis[$1.column] } }
    }
}
