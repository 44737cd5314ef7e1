import JSON

/// Contradictions and preference cycles among the pairs of each prompt.
///
/// A prompt's responses (by normalised text) are the nodes; each pair is an edge from chosen to rejected.
/// Contradiction: one unordered pair with edges both ways from the same annotator (or with no annotator recorded;
/// disagreement between different annotators is ``AnnotatorAgreement``'s). Cycle: after keeping each unordered pair's
/// majority direction (ties dropped), a strongly connected component of three or more responses contains a cycle
/// A > B > … > A; every pair whose edge lies inside one is flagged.
enum PreferenceGraph {
    /// Adds `contradiction` findings.
    static func contradictions(_ pairs: [AuditPair], into evidence: inout [[Finding]]) {
        struct Key: Hashable { let pair: PairKey, annotator: String? }
        var groups: [Key: [Int]] = [:]
        for (row, pair) in pairs.enumerated() where pair.chosenKey != pair.rejectedKey {
            groups[Key(pair: pair.unorderedKey, annotator: pair.annotator), default: []].append(row)
        }
        for rows in groups.values where rows.count > 1 {
            let forward = rows.filter { pairs[$0].prefersFirst }
            let backward = rows.filter { !pairs[$0].prefersFirst }
            guard !forward.isEmpty, !backward.isEmpty else { continue }
            for row in rows {
                let (same, other) = pairs[row].prefersFirst ? (forward, backward) : (backward, forward)
                var members: [JSONValue.Member] = [
                    JSONValue.Member("same_way", .integer(same.count)), JSONValue.Member("other_way", .integer(other.count)),
                    JSONValue.Member("agrees_with_majority", same.count == other.count ? .null : .bool(same.count > other.count)),
                    JSONValue.Member("other_way_lines", .array(other.prefix(10).map { .integer(pairs[$0].line) })),
                ]
                if let annotator = pairs[row].annotator { members.append(JSONValue.Member("annotator", .string(annotator))) }
                evidence[row].append(Finding(.contradiction, .object(members)))
            }
        }
    }

    /// Adds `preference_cycle` findings.
    static func cycles(_ pairs: [AuditPair], into evidence: inout [[Finding]]) {
        var byPrompt: [UInt64: [Int]] = [:]
        for (row, pair) in pairs.enumerated() where pair.chosenKey != pair.rejectedKey {
            byPrompt[pair.promptKey, default: []].append(row)
        }
        for rows in byPrompt.values where rows.count >= 3 {
            // Majority direction per unordered pair of responses.
            var votes: [PairKey: Int] = [:]
            for row in rows { votes[pairs[row].unorderedKey, default: 0] += pairs[row].prefersFirst ? 1 : -1 }
            var edges: [UInt64: [UInt64]] = [:]
            for (key, balance) in votes where balance != 0 {
                let (winner, loser) = balance > 0 ? (key.first, key.second) : (key.second, key.first)
                edges[winner, default: []].append(loser)
                edges[loser, default: []] = edges[loser, default: []]
            }
            guard edges.count >= 3 else { continue }
            let component = stronglyConnectedComponents(edges)
            var sizes: [Int: Int] = [:]
            for id in component.values { sizes[id, default: 0] += 1 }
            let cyclic = rows.filter { row in
                let pair = pairs[row]
                guard let from = component[pair.chosenKey], from == component[pair.rejectedKey], (sizes[from] ?? 0) >= 3 else { return false }
                let balance = votes[pair.unorderedKey] ?? 0
                return balance != 0 && (balance > 0) == pair.prefersFirst
            }
            for row in cyclic {
                let size = sizes[component[pairs[row].chosenKey] ?? 0] ?? 0
                let others = cyclic.filter { $0 != row }.prefix(10).map { JSONValue.integer(pairs[$0].line) }
                evidence[row].append(Finding(.preferenceCycle, .object([
                    JSONValue.Member("responses_in_cycle", .integer(size)), JSONValue.Member("other_lines", .array(Array(others))),
                ])))
            }
        }
    }

    /// Tarjan's algorithm: each node's component number. Nodes are visited in sorted order, so numbering is stable.
    static func stronglyConnectedComponents(_ edges: [UInt64: [UInt64]]) -> [UInt64: Int] {
        var index: [UInt64: Int] = [:], lowLink: [UInt64: Int] = [:], onStack: Set<UInt64> = []
        var stack: [UInt64] = [], component: [UInt64: Int] = [:]
        var counter = 0, components = 0
        func visit(_ node: UInt64) {
            index[node] = counter
            lowLink[node] = counter
            counter += 1
            stack.append(node)
            onStack.insert(node)
            for next in edges[node, default: []].sorted() {
                if index[next] == nil {
                    visit(next)
                    lowLink[node] = min(lowLink[node] ?? 0, lowLink[next] ?? 0)
                } else if onStack.contains(next) {
                    lowLink[node] = min(lowLink[node] ?? 0, index[next] ?? 0)
                }
            }
            if lowLink[node] == index[node] {
                while let top = stack.popLast() {
                    onStack.remove(top)
                    component[top] = components
                    if top == node { break }
                }
                components += 1
            }
        }
        for node in edges.keys.sorted() where index[node] == nil { visit(node) }
        return component
    }
}
