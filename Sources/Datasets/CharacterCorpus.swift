import Foundation
import Runtime

/// A text file prepared as nanoGPT's shakespeare-char `prepare.py` prepares it: its distinct characters (Unicode
/// scalars, sorted by code point as Python's `sorted(set(text))`) numbered from 0, and batches of windows of
/// `context + 1` characters at offsets drawn with SplitMix64 (offset = next() mod (characters − context − 1)), as
/// `charter bench train --data` and `Benchmarks/pytorch/bench_train.py --data` draw them.
public struct CharacterCorpus: Sendable {
    public let file: URL
    /// Every character of the file as its vocabulary index.
    public let tokens: [Int32]
    /// The distinct characters, in index order.
    public let vocabulary: [Unicode.Scalar]
    public let context: Int

    public var vocabularySize: Int { vocabulary.count }

    /// - Throws: `DatasetError` naming the file when it cannot be read, is not UTF-8, or is too short for one window.
    public init(file: URL, context: Int) throws {
        guard let bytes = FileManager.default.contents(atPath: file.path) else {
            throw DatasetError(file: file.lastPathComponent, line: 0, kind: .io, reason: "cannot read the file")
        }
        guard let text = String(data: bytes, encoding: .utf8) else { throw DatasetError(file: file.lastPathComponent, line: 0, kind: .io, reason: "not UTF-8 text")  }
        let characters = Array(text.unicodeScalars)
        guard characters.count > context + 1 else {
            throw DatasetError(file: file.lastPathComponent, line: 0, kind: .noExamples,
                               reason: "\(characters.count) characters; a batch window needs more than context + 1 = \(context + 1)")
        }
        vocabulary = Set(characters).sorted { $0.value < $1.value }
        let index = Dictionary(uniqueKeysWithValues: vocabulary.enumerated().map { ($1, Int32($0)) })
        (self.file, self.context) = (file, context)
        tokens = characters.map { index[$0]! }
    }

    /// `rows` windows of context + 1 characters: inputs are the first `context` of each, targets the last `context`.
    public func batch(rows: Int, offsets: inout SplitMix64) -> (inputs: [Int32], targets: [Int32]) {
        var inputs: [Int32] = [], targets: [Int32] = []
        inputs.reserveCapacity(rows * context)
        targets.reserveCapacity(rows * context)
        for _ in 0..<rows {
            let start = Int(offsets.next() % UInt64(tokens.count - context - 1))
            inputs += tokens[start..<(start + context)]
            targets += tokens[(start + 1)...(start + context)]
        }
        return (inputs, targets)
    }
}
