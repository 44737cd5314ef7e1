import Foundation

/// The tensors a configuration implies — names and shapes in transformers' naming — computed without allocating
/// them, so that a checkpoint's header is compared with config.json, and the model's memory estimated, before
/// any weight exists. Blocks are listed lazily: a config.json with an absurd layer count fails at its first
/// missing tensor instead of building a list first.
struct CheckpointLayout {
    /// One tensor of the checkpoint.
    struct Entry: Equatable, CustomStringConvertible {
        let name: String
        let shape: [Int]
        var description: String { "\(name) \(shape)" }
        init(_ name: String, _ shape: [Int]) {
            self.name = name
            self.shape = shape
        }
    }

    /// Tensors before the blocks (embeddings).
    var leading: [Entry]
    /// Number of blocks (`num_hidden_layers`, `n_layer`).
    var blockCount: Int
    /// The tensors of block `index`; every block has the same shapes.
    var block: (Int) -> [Entry]
    /// Tensors after the blocks (final norm, output head).
    var trailing: [Entry]

    /// Calls `body` with every tensor, embeddings first, block by block.
    func forEach(_ body: (Entry) throws -> Void) rethrows {
        for entry in leading { try body(entry) }
        for index in 0..<blockCount {
            for entry in block(index) { try body(entry) }
        }
        for entry in trailing { try body(entry) }
    }

    /// Every tensor (for small configurations and tests).
    var entries: [Entry] {
        var result: [Entry] = []
        forEach { result.append($0) }
        return result
    }

    /// The number of parameters, in `Double` so that any config.json, however large its sizes, is counted exactly
    /// enough to be refused rather than overflowing.
    var parameterCount: Double {
        func count(_ entries: [Entry]) -> Double { entries.reduce(0) { $0 + Self.elementCount($1.shape) } }
        return count(leading) + Double(blockCount) * (blockCount > 0 ? count(block(0)) : 0) + count(trailing)
    }

    /// The product of `shape`, in `Double`.
    static func elementCount(_ shape: [Int]) -> Double { shape.reduce(1.0) { $0 * Double($1) } }

    /// This layout without the tensors named in `names`, plus `extra` at the end (a sequence classifier has no
    /// LM head and a `score` layer).
    func replacing(_ names: Set<String>, with extra: [Entry]) -> CheckpointLayout {
        let block = self.block
        return CheckpointLayout(leading: leading.filter { !names.contains($0.name) }, blockCount: blockCount,
                                block: { index in block(index).filter { !names.contains($0.name) } },
                                trailing: trailing.filter { !names.contains($0.name) } + extra)
    }
}
