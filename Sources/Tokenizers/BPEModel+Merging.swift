extension BPEModel {
    /// Words longer than this use the heap; shorter ones a linear scan (cheaper for a few symbols).
    static let heapThreshold = 48

    /// Repeatedly merges the lowest-ranked adjacent pair, leftmost first — the order HF's
    /// `Word::merge_all` pops from its (rank, position) min-heap.
    func applyMerges(_ symbols: inout [Int32]) {
        guard symbols.count > 1 else { return }
        if symbols.count > BPEModel.heapThreshold {
            applyMergesWithHeap(&symbols)
        } else {
            applyMergesByScanning(&symbols)
        }
    }

    private func applyMergesByScanning(_ symbols: inout [Int32]) {
        let none = Merge(rank: Int32.max, result: -1)
        var pairs = (0..<(symbols.count - 1)).map { merges[BPEModel.pairKey(symbols[$0], symbols[$0 + 1])] ?? none }
        while true {
            var best = -1
            var bestRank = Int32.max
            for (index, pair) in pairs.enumerated() where pair.rank < bestRank {
                best = index
                bestRank = pair.rank
            }
            if best < 0 { return }
            symbols[best] = pairs[best].result
            symbols.remove(at: best + 1)
            pairs.remove(at: best)
            if best > 0 {
                pairs[best - 1] = merges[BPEModel.pairKey(symbols[best - 1], symbols[best])] ?? none
            }
            if best < pairs.count {
                pairs[best] = merges[BPEModel.pairKey(symbols[best], symbols[best + 1])] ?? none
            }
        }
    }

    /// O(n log n) merging for long words (a SentencePiece-style tokenizer encodes a whole prompt as one word).
    private func applyMergesWithHeap(_ symbols: inout [Int32]) {
        let count = symbols.count
        // Doubly linked list over the original positions; a merged-away symbol is marked removed.
        var next = Array(1...count)  // `count` means none
        var previous = Array(-1..<(count - 1))
        var removed = [Bool](repeating: false, count: count)
        var heap = MergeHeap()
        for position in 0..<(count - 1) {
            if let merge = merges[BPEModel.pairKey(symbols[position], symbols[position + 1])] {
                heap.push(MergeHeap.Entry(rank: merge.rank, position: Int32(position), result: merge.result))
            }
        }
        while let top = heap.pop() {
            let position = Int(top.position)
            guard !removed[position], next[position] < count else { continue }
            let right = next[position]
            // Skip entries made stale by an earlier merge at or next to this position.
            guard let current = merges[BPEModel.pairKey(symbols[position], symbols[right])], current.result == top.result,
                current.rank == top.rank
            else { continue }
            symbols[position] = top.result
            removed[right] = true
            next[position] = next[right]
            if next[right] < count { previous[next[right]] = position }
            if previous[position] >= 0 {
                let left = previous[position]
                if let merge = merges[BPEModel.pairKey(symbols[left], symbols[position])] {
                    heap.push(MergeHeap.Entry(rank: merge.rank, position: Int32(left), result: merge.result))
                }
            }
            if next[position] < count, let merge = merges[BPEModel.pairKey(symbols[position], symbols[next[position]])] {
                heap.push(MergeHeap.Entry(rank: merge.rank, position: Int32(position), result: merge.result))
            }
        }
        symbols = symbols.indices.filter { !removed[$0] }.map { symbols[$0] }
    }
}

/// A binary min-heap of candidate merges ordered by (rank, position).
struct MergeHeap {
    struct Entry {
        let rank: Int32
        let position: Int32
        let result: Int32

        func precedes(_ other: Entry) -> Bool {
            rank != other.rank ? rank < other.rank : position < other.position
        }
    }

    private var entries: [Entry] = []

    mutating func push(_ entry: Entry) {
        entries.append(entry)
        var child = entries.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard entries[child].precedes(entries[parent]) else { break }
            entries.swapAt(child, parent)
            child = parent
        }
    }

    mutating func pop() -> Entry? {
        guard let top = entries.first else { return nil }
        entries.swapAt(0, entries.count - 1)
        entries.removeLast()
        var parent = 0
        while true {
            let left = 2 * parent + 1, right = left + 1
            var best = parent
            if left < entries.count, entries[left].precedes(entries[best]) { best = left }
            if right < entries.count, entries[right].precedes(entries[best]) { best = right }
            if best == parent { return top }
            entries.swapAt(parent, best)
            parent = best
        }
    }
}
