/// Near-duplicate pairs by MinHash with banded LSH (``MinHash``): each later pair is matched with the earliest
/// earlier pair whose prompt and responses both reach the similarity threshold.
enum NearDuplicates {
    /// A near-duplicate match.
    struct Match: Equatable {
        /// The earlier pair's row.
        let original: Int
        /// Estimated Jaccard similarities of the prompts and of the responses (chosen and rejected shingles kept apart).
        let promptSimilarity: Double
        let responseSimilarity: Double
    }

    /// Pairs compared per LSH bucket: a later pair is compared with at most this many earlier members of a bucket,
    /// which bounds the work on buckets of many near-identical texts.
    static let bucketLimit = 32

    /// - Parameters:
    ///   - prompts, responses: ``MinHash/count`` entries per row, rows one after another.
    ///   - excluded: rows not to match in either role (exact duplicates, already reported as such).
    /// - Returns: per matched row, its match.
    static func find(prompts: [UInt32], responses: [UInt32], rows: Int, excluded: Set<Int>, threshold: Double) -> [Int: Match] {
        func signature(_ values: [UInt32], _ row: Int) -> ArraySlice<UInt32> { values[(row * MinHash.count)..<((row + 1) * MinHash.count)] }
        var matches: [Int: Match] = [:]
        var entries: [(key: UInt64, row: Int32)] = []
        entries.reserveCapacity(rows)
        for band in 0..<MinHash.bands {
            entries.removeAll(keepingCapacity: true)
            for row in 0..<rows where !excluded.contains(row) {
                entries.append((MinHash.bandKey(signature(responses, row), band: band), Int32(row)))
            }
            entries.sort { $0.key != $1.key ? $0.key < $1.key : $0.row < $1.row }
            var start = 0
            while start < entries.count {
                var end = start + 1
                while end < entries.count && entries[end].key == entries[start].key { end += 1 }
                if end - start > 1 {
                    for later in (start + 1)..<end {
                        let row = Int(entries[later].row)
                        for earlier in start..<min(later, start + bucketLimit) {
                            let original = Int(entries[earlier].row)
                            if let known = matches[row], known.original <= original { break }
                            let responseSimilarity = MinHash.similarity(signature(responses, row), signature(responses, original))
                            guard responseSimilarity >= threshold else { continue }
                            let promptSimilarity = MinHash.similarity(signature(prompts, row), signature(prompts, original))
                            guard promptSimilarity >= threshold else { continue }
                            matches[row] = Match(original: original, promptSimilarity: promptSimilarity, responseSimilarity: responseSimilarity)
                            break
                        }
                    }
                }
                start = end
            }
        }
        return matches
    }
}
