import Foundation
import Runtime

/// Lloyd's k-means with k-means++ seeding (Arthur & Vassilvitskii 2007), the best of `restarts` seeded runs by
/// within-group sum of squares.
struct KMeans {
    var assignment: [Int]
    var inertia: Double

    init(_ points: [[Double]], k: Int, restarts: Int, maximumIterations: Int = 100, random: inout SplitMix64) {
        precondition(k >= 1 && k <= points.count, "k-means needs 1 ≤ k ≤ points (k \(k), points \(points.count))")
        var best: (assignment: [Int], inertia: Double)?
        for _ in 0..<max(1, restarts) {
            var centres = Self.seedCentres(points, k: k, random: &random)
            var assignment = [Int](repeating: -1, count: points.count)
            for _ in 0..<maximumIterations {
                let next = points.map { point in
                    centres.indices.min { Self.distance(point, centres[$0]) < Self.distance(point, centres[$1]) } ?? 0
                }
                if next == assignment { break }
                assignment = next
                for group in 0..<k {
                    let members = points.indices.filter { assignment[$0] == group }
                    // An emptied group keeps its centre; the next assignment may refill it.
                    guard !members.isEmpty else { continue }
                    centres[group] = (0..<points[0].count).map { dimension in
                        members.reduce(0) { $0 + points[$1][dimension] } / Double(members.count)
                    }
                }
            }
            let inertia = points.indices.reduce(0) { $0 + Self.distance(points[$1], centres[assignment[$1]]) }
            if let current = best, inertia >= current.inertia - 1e-12 { continue }
            best = (assignment, inertia)
        }
        assignment = best?.assignment ?? []
        inertia = best?.inertia ?? 0
    }

    /// k-means++: the first centre uniformly, each next one with probability proportional to its squared distance.
    static func seedCentres(_ points: [[Double]], k: Int, random: inout SplitMix64) -> [[Double]] {
        var centres = [points[Int(random.next() % UInt64(points.count))]]
        while centres.count < k {
            let weights = points.map { point in centres.map { distance(point, $0) }.min() ?? 0 }
            let total = weights.reduce(0, +)
            centres.append(total > 0 ? points[random.weightedIndex(weights)] : points[Int(random.next() % UInt64(points.count))])
        }
        return centres
    }

    static func distance(_ a: [Double], _ b: [Double]) -> Double {
        zip(a, b).reduce(0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) }
    }

    /// The mean silhouette (Rousseeuw 1987) of an assignment: per point (b − a) / max(a, b) with a the mean
    /// distance to its own group and b to the nearest other group; a point alone in its group scores 0.
    static func meanSilhouette(_ points: [[Double]], assignment: [Int], k: Int) -> Double {
        guard points.count > 1 else { return 0 }
        var sum = 0.0
        for index in points.indices {
            var totals = [Double](repeating: 0, count: k)
            var counts = [Int](repeating: 0, count: k)
            for other in points.indices where other != index {
                totals[assignment[other]] += distance(points[index], points[other]).squareRoot()
                counts[assignment[other]] += 1
            }
            let own = assignment[index]
            guard counts[own] > 0 else { continue }
            let a = totals[own] / Double(counts[own])
            let b = (0..<k).filter { $0 != own && counts[$0] > 0 }.map { totals[$0] / Double(counts[$0]) }.min() ?? 0
            let denominator = max(a, b)
            sum += denominator > 0 ? (b - a) / denominator : 0
        }
        return sum / Double(points.count)
    }
}
