/// Adjacent-pair counts for BPE training, with a lazily updated max-heap to find the best pair.
struct PairStatistics {
    struct Pair: Hashable {
        let left: Int32
        let right: Int32
    }

    /// Token strings by id, for tie-breaking (grows as merges add tokens).
    var tokens: [String]
    private var counts: [Pair: Int] = [:]
    private var occurrences: [Pair: Set<Int>] = [:]
    /// Candidates (count, pair); entries whose count is stale are skipped when popped.
    private var heap: [(count: Int, pair: Pair)] = []
    private var dirty: Set<Pair> = []

    init(tokens: [String]) {
        self.tokens = tokens
    }

    mutating func add(_ word: [Int32], weight: Int, wordIndex: Int) {
        guard word.count > 1 else { return }
        for index in 0..<(word.count - 1) {
            let pair = Pair(left: word[index], right: word[index + 1])
            counts[pair, default: 0] += weight
            occurrences[pair, default: []].insert(wordIndex)
            dirty.insert(pair)
        }
    }

    mutating func remove(_ word: [Int32], weight: Int) {
        guard word.count > 1 else { return }
        for index in 0..<(word.count - 1) {
            let pair = Pair(left: word[index], right: word[index + 1])
            counts[pair, default: 0] -= weight
            dirty.insert(pair)
        }
    }

    /// Word indices that contained `pair` (some may no longer contain it), in ascending order.
    func wordsContaining(_ pair: Pair) -> [Int] {
        (occurrences[pair] ?? []).sorted()
    }

    mutating func forget(_ pair: Pair) {
        counts[pair] = nil
        occurrences[pair] = nil
        dirty.remove(pair)
    }

    /// Highest count first; among equal counts the smaller (left, right) token bytes.
    private func precedes(_ a: (count: Int, pair: Pair), _ b: (count: Int, pair: Pair)) -> Bool {
        if a.count != b.count { return a.count > b.count }
        let aLeft = tokens[Int(a.pair.left)].utf8, bLeft = tokens[Int(b.pair.left)].utf8
        if !aLeft.elementsEqual(bLeft) { return aLeft.lexicographicallyPrecedes(bLeft) }
        return tokens[Int(a.pair.right)].utf8.lexicographicallyPrecedes(tokens[Int(b.pair.right)].utf8)
    }

    /// Removes and returns the best pair with a current count of at least `minimumCount`.
    mutating func popBest(minimumCount: Int) -> Pair? {
        for pair in dirty {
            if let count = counts[pair], count > 0 { push((count, pair)) }
        }
        dirty.removeAll(keepingCapacity: true)
        while let top = heap.first {
            pop()
            guard let current = counts[top.pair], current == top.count else { continue }  // stale entry
            if current < max(minimumCount, 1) { return nil }
            return top.pair
        }
        return nil
    }

    private mutating func push(_ entry: (count: Int, pair: Pair)) {
        heap.append(entry)
        var child = heap.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard precedes(heap[child], heap[parent]) else { break }
            heap.swapAt(child, parent)
            child = parent
        }
    }

    private mutating func pop() {
        heap.swapAt(0, heap.count - 1)
        heap.removeLast()
        var parent = 0
        while true {
            let left = 2 * parent + 1, right = left + 1
            var best = parent
            if left < heap.count, precedes(heap[left], heap[best]) { best = left }
            if right < heap.count, precedes(heap[right], heap[best]) { best = right }
            if best == parent { return }
            heap.swapAt(parent, best)
            parent = best
        }
    }
}
