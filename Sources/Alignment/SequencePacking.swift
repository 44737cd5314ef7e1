/// How SFT packs tokenized examples into rows of `max_length` tokens (TRL's `packing_strategy`, as
/// `trl.data_utils.pack_dataset` computes it).
public enum SequencePacking: String, Codable, CaseIterable, Sendable {
    /// Best-fit decreasing (TRL's default): examples are truncated to `max_length`, then placed longest first, each
    /// into the fullest row it still fits. Rows keep their examples' boundaries (`sequenceLengths`), so no example
    /// attends to another and positions restart at each (Krell et al. 2021; Ding et al. 2024, "Fewer Truncations").
    case bestFitDecreasing = "bfd"
    /// As `bestFitDecreasing`, but an example longer than `max_length` is split into `max_length` pieces (the last
    /// shorter) that are packed as examples of their own instead of being cut.
    case bestFitDecreasingSplit = "bfd_split"
    /// Concatenates every example and cuts blocks of `max_length` (the last one shorter): tokens attend across
    /// example boundaries.
    case wrapped

    /// TRL packs a dataset through `Dataset.map(batched=True)`, whose batches hold 1000 examples: bins never mix
    /// examples of two batches.
    static let mapBatchSize = 1000

    /// Packs `sequences` into rows of at most `length` tokens, in TRL's row order.
    func pack(_ sequences: [TokenizedSequence], length: Int) -> [TokenizedSequence] {
        switch self {
        case .wrapped: return Self.wrap(sequences, length: length)
        case .bestFitDecreasing, .bestFitDecreasingSplit:
            return stride(from: 0, to: sequences.count, by: Self.mapBatchSize).flatMap { start in
                Self.bestFitDecreasing(Array(sequences[start..<min(start + Self.mapBatchSize, sequences.count)]), length: length,
                                       split: self == .bestFitDecreasingSplit)
            }
        }
    }

    /// TRL's `_pack_wrapped`: one stream cut every `length` tokens (the last partial block is kept).
    static func wrap(_ sequences: [TokenizedSequence], length: Int) -> [TokenizedSequence] {
        let ids = sequences.flatMap(\.ids), mask = sequences.flatMap(\.lossMask)
        return stride(from: 0, to: ids.count, by: length).map { start in
            let end = min(start + length, ids.count)
            return TokenizedSequence(ids: Array(ids[start..<end]), lossMask: Array(mask[start..<end]))
        }
    }

    /// TRL's `_pack_bfd` on one map batch: empty sequences dropped, longer ones truncated (or split), then sorted by
    /// length, longest first (a stable sort: equal lengths keep their order), and each placed in the row whose free
    /// space is the smallest that fits it, the oldest such row first; a new row when none fits.
    static func bestFitDecreasing(_ sequences: [TokenizedSequence], length: Int, split: Bool) -> [TokenizedSequence] {
        var pieces: [TokenizedSequence] = []
        for sequence in sequences where !sequence.ids.isEmpty {
            if split {
                for start in stride(from: 0, to: sequence.ids.count, by: length) {
                    let end = min(start + length, sequence.ids.count)
                    pieces.append(TokenizedSequence(ids: Array(sequence.ids[start..<end]), lossMask: Array(sequence.lossMask[start..<end])))
                }
            } else {
                var piece = sequence
                piece.truncate(to: length)
                piece.sequenceLengths = nil
                pieces.append(piece)
            }
        }
        let order = pieces.indices.sorted { pieces[$0].ids.count > pieces[$1].ids.count || (pieces[$0].ids.count == pieces[$1].ids.count && $0 < $1) }
        var spaces = FreeSpaceTree(maximum: length)
        spaces.add(length)  // a new, empty row is always available
        var rowsWithSpace: [Int: [Int]] = [:]  // free space → rows with exactly that much, oldest first
        var rows: [[Int]] = []
        var used: [Int] = []
        for index in order {
            let size = pieces[index].ids.count
            let space = spaces.smallest(atLeast: size)
            let row: Int
            if space < length {
                guard var waiting = rowsWithSpace[space], !waiting.isEmpty else { preconditionFailure("no row with free space \(space)") }
                row = waiting.removeFirst()
                rowsWithSpace[space] = waiting
                if waiting.isEmpty { spaces.remove(space) }
            } else {
                row = rows.count
                rows.append([])
                used.append(0)
            }
            rows[row].append(index)
            used[row] += size
            let left = space - size
            rowsWithSpace[left, default: []].append(row)
            if left > 0 { spaces.add(left) }
        }
        return rows.map { members in
            var packed = TokenizedSequence(ids: members.flatMap { pieces[$0].ids }, lossMask: members.flatMap { pieces[$0].lossMask })
            packed.sequenceLengths = members.map { pieces[$0].ids.count }
            return packed
        }
    }
}

/// TRL's `_SegmentTree`: which free-space values (1...maximum) some row has, finding the smallest one ≥ a size in
/// O(log maximum).
struct FreeSpaceTree {
    private let leaves: Int
    private var tree: [Int]

    init(maximum: Int) {
        var leaves = 1
        while leaves < maximum { leaves <<= 1 }
        self.leaves = leaves
        tree = [Int](repeating: 0, count: 2 * leaves)
    }

    mutating func add(_ value: Int) { set(value, to: value) }
    mutating func remove(_ value: Int) { set(value, to: 0) }

    /// The smallest present value ≥ `value` (TRL's `search`; the maximum is always present in its use).
    func smallest(atLeast value: Int) -> Int {
        var node = 1
        while node < leaves { node = tree[2 * node] >= value ? 2 * node : 2 * node + 1 }
        return tree[node]
    }

    private mutating func set(_ value: Int, to stored: Int) {
        precondition(value > 0 && value <= leaves, "free space \(value) outside 1...\(leaves)")
        var node = leaves + value - 1
        tree[node] = stored
        while node > 1 {
            node >>= 1
            tree[node] = max(tree[2 * node], tree[2 * node + 1])
        }
    }
}
