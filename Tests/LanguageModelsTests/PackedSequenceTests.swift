import LanguageModels
import Tensors
import XCTest

/// A packed row — sequences side by side, positions restarting at 0 and attention starting at each sequence's first
/// token (`ModelInput.segmentStarts`) — computes what its sequences compute one by one: the same per-token
/// log-probabilities and the same gradient of every parameter, for rotary (Llama) and learned (GPT) positions, with
/// and without gradient checkpointing.
final class PackedSequenceTests: XCTestCase {
    /// 63 tokens: the third sequence crosses the attention kernel's 32-row query tiles, the second is one token.
    static let lengths = [13, 1, 40, 9]

    static func llama() -> LlamaModel {
        var configuration = LlamaConfiguration()
        (configuration.vocabularySize, configuration.hiddenSize, configuration.intermediateSize) = (64, 16, 24)
        (configuration.layerCount, configuration.headCount, configuration.keyValueHeadCount) = (2, 4, 2)
        var generator = SeededGenerator(seed: 7)
        return LlamaModel(configuration, generator: &generator)
    }

    static func gpt() -> GPTModel {
        var configuration = GPTConfiguration()
        (configuration.vocabularySize, configuration.contextLength, configuration.layerCount) = (64, 64, 2)
        (configuration.headCount, configuration.width) = (2, 16)
        var generator = SeededGenerator(seed: 8)
        return GPTModel(configuration, generator: &generator)
    }

    /// Per-token log-probabilities of each sequence's next tokens (its last token has no target) and the gradient of
    /// their sum, run as separate sequences or as one packed row.
    func logProbabilitiesAndGradients(_ model: any CausalLanguageModel, _ sequences: [[Int32]], packed: Bool) -> (logProbabilities: [Float], gradients: [[Float]]) {
        func targets(_ ids: [Int32]) -> [Int32] { ids.indices.map { $0 + 1 < ids.count ? ids[$0 + 1] : -100 } }
        model.zeroGradients()
        var logProbabilities: [Float] = []
        let inputs: [ModelInput]
        if packed {
            let ids = sequences.flatMap { $0 }
            var positions: [Int32] = [], starts: [Int32] = []
            for sequence in sequences {
                let start = Int32(positions.count)
                for index in sequence.indices { positions.append(Int32(index)); starts.append(start) }
            }
            inputs = [ModelInput(ids: ids, batch: 1, time: ids.count, positions: positions, segmentStarts: starts)]
        } else {
            inputs = sequences.map { ModelInput(ids: $0, batch: 1, time: $0.count) }
        }
        let allTargets = packed ? [sequences.flatMap(targets)] : sequences.map(targets)
        for (input, targets) in zip(inputs, allTargets) {
            let (perToken, _) = model.forward(input, cache: nil).targetLogProbabilities(targets)
            perToken.sum().backward()
            logProbabilities += perToken.scalars
        }
        return (logProbabilities, model.parameters().map { $0.grad?.scalars ?? [] })
    }

    func assertPackedMatchesSeparate(_ model: any CausalLanguageModel) {
        var generator = SeededGenerator(seed: 11)
        let sequences = Self.lengths.map { length in (0..<length).map { _ in Int32.random(in: 0..<64, using: &generator) } }
        for checkpointing in [false, true] {
            model.gradientCheckpointing = checkpointing
            let name = "\(type(of: model)) checkpointing=\(checkpointing)"
            let separate = logProbabilitiesAndGradients(model, sequences, packed: false)
            let packed = logProbabilitiesAndGradients(model, sequences, packed: true)
            XCTAssertEqual(packed.logProbabilities.count, separate.logProbabilities.count, name)
            for (index, (a, b)) in zip(packed.logProbabilities, separate.logProbabilities).enumerated() {
                XCTAssertEqual(a, b, accuracy: 1e-5 * max(1, abs(b)), "\(name) token \(index)")
            }
            for (index, (a, b)) in zip(packed.gradients, separate.gradients).enumerated() {
                XCTAssertEqual(a.count, b.count, "\(name) parameter \(index)")
                XCTAssertFalse(b.allSatisfy { $0 == 0 }, "\(name) parameter \(index): no gradient")
                let scale = max(b.map(abs).max() ?? 0, 1e-6)
                let worst = zip(a, b).map { abs($0 - $1) / scale }.max() ?? 0
                // Float sums in another order (one backward pass against four): measured up to 1.3e-4 of the largest entry.
                XCTAssertLessThan(worst, 5e-4, "\(name) parameter \(index)")
            }
        }
    }

    func testLlamaPackedRowMatchesSeparateSequences() { assertPackedMatchesSeparate(Self.llama()) }

    func testGPTPackedRowMatchesSeparateSequences() { assertPackedMatchesSeparate(Self.gpt()) }

    /// Without segment starts the same packed row attends across sequences: the test above would see it.
    func testWithoutSegmentStartsSequencesSeeEachOther() {
        let model = Self.llama()
        let ids: [Int32] = [5, 9, 3, 7, 1, 2]
        let positions: [Int32] = [0, 1, 2, 0, 1, 2]
        let separated = model.forward(ModelInput(ids: ids, batch: 1, time: 6, positions: positions, segmentStarts: [0, 0, 0, 3, 3, 3]), cache: nil)
        let mixed = model.forward(ModelInput(ids: ids, batch: 1, time: 6, positions: positions), cache: nil)
        let alone = model.forward(ModelInput(ids: [7, 1, 2], batch: 1, time: 3), cache: nil)
        let last = Array(separated.finalHidden.scalars.suffix(16)), expected = Array(alone.finalHidden.scalars.suffix(16))
        for (a, b) in zip(last, expected) { XCTAssertEqual(a, b, accuracy: 1e-5) }
        XCTAssertGreaterThan(zip(mixed.finalHidden.scalars.suffix(16), expected).map { abs($0 - $1) }.max() ?? 0, 1e-3)
    }
}
