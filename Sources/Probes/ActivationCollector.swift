import Foundation
import LanguageModels
import Runtime
import SafeTensors
import Tensors
import Tokenizers

/// Runs a model over labelled texts and streams the chosen layers' hidden states to an ``ActivationSet`` folder.
///
/// One text at a time (no padding to reason about), rows buffered up to ``maximumShardBytes`` and then written as a
/// shard, so memory stays bounded by one shard whatever the data size.
public struct ActivationCollector {
    public let model: any CausalLanguageModel
    public let tokenizer: Tokenizer
    public let identity: ModelIdentity
    /// Hidden-state indices to keep (0 = embeddings, i = output of block i).
    public var layers: [Int]
    public var position: ActivationPosition
    /// Bytes of activations per shard before it is written (all layers together).
    public var maximumShardBytes = 64 << 20

    /// - Throws: ``ProbeError/layerOutOfRange(layer:available:)`` for a layer the model does not have.
    public init(model: any CausalLanguageModel, tokenizer: Tokenizer, identity: ModelIdentity, layers: [Int], position: ActivationPosition) throws {
        for layer in layers where !(0...model.layerCount).contains(layer) {
            throw ProbeError.layerOutOfRange(layer: layer, available: "0...\(model.layerCount) for this \(model.layerCount)-block model")
        }
        precondition(!layers.isEmpty, "collect at least one layer")
        (self.model, self.tokenizer, self.identity, self.layers, self.position) = (model, tokenizer, identity, layers, position)
    }

    /// Token ids of an example and the range of positions that are scored (the response's, else the whole text's).
    func tokens(of example: LabelledText) -> (ids: [Int32], scored: Range<Int>) {
        let prompt = tokenizer.encode(example.prompt).map(Int32.init)
        guard let response = example.response else { return (prompt, 0..<prompt.count) }
        // The response is tokenised on its own, as generation produces it after the prompt.
        let continuation = tokenizer.encode(response, addSpecialTokens: false).map(Int32.init)
        return (prompt + continuation, prompt.count..<(prompt.count + continuation.count))
    }

    /// Hidden-state rows of one example per collected layer: (rows, hiddenSize) each, in `layers` order.
    /// - Throws: ``ProbeError/badExample(file:line:field:reason:)`` for an empty or over-long text.
    func activations(of example: LabelledText, file: String) throws -> [[Float]] {
        let (ids, scored) = tokens(of: example)
        let field = example.response == nil ? "text" : "response"
        guard !scored.isEmpty else { throw ProbeError.badExample(file: file, line: example.line, field: field, reason: "encodes to no tokens") }
        if let limit = model.maximumSequenceLength, ids.count > limit {
            throw ProbeError.badExample(file: file, line: example.line, field: field,
                                        reason: "has \(ids.count) tokens with its prompt, more than the model's context of \(limit); shorten it")
        }
        let output = withoutGradients {
            model.forward(ModelInput(ids: ids, batch: 1, time: ids.count, outputHiddenStates: true), cache: nil)
        }
        let hiddenSize = identity.hiddenSize
        return layers.map { layer in
            let values = output.hiddenStates[layer].scalars  // (1, T, C)
            func row(_ t: Int) -> ArraySlice<Float> { values[(t * hiddenSize)..<((t + 1) * hiddenSize)] }
            switch position {
            case .last:
                return Array(row(scored.upperBound - 1))
            case .mean:
                var sum = [Float](repeating: 0, count: hiddenSize)
                for t in scored { for (j, value) in row(t).enumerated() { sum[j] += value } }
                return sum.map { $0 / Float(scored.count) }
            case .eachToken:
                return scored.flatMap { row($0) }
            }
        }
    }

    /// Collects every example of `examples` (read from `source`) into `folder`.
    /// - Parameter progress: called with the number of examples done.
    public func collect(_ examples: [LabelledText], source: URL, into folder: URL, progress: (Int) -> Void = { _ in }) throws -> ActivationSet {
        guard examples.contains(where: \.label), examples.contains(where: { !$0.label }) else {
            throw ProbeError.unusableData(reason: "\(source.path): a probe needs both labels; every example is \(examples.first?.label ?? false)")
        }
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let scope = examples.contains { $0.response != nil } ? "response" : "prompt"
        var set = ActivationSet(model: identity, layers: layers, position: position, scope: scope, source: source.lastPathComponent,
                                examples: [], shards: [])
        var buffers = layers.map { _ in [Float]() }, labels: [Float] = [], indices: [Float] = []
        func flush() throws {
            guard !labels.isEmpty else { return }
            var writer = SafeTensorsWriter(metadata: ["format": "pt"])
            for (layer, buffer) in zip(layers, buffers) { try writer.add("layer.\(layer)", shape: [labels.count, identity.hiddenSize], values: buffer) }
            try writer.add("labels", shape: [labels.count], values: labels)
            try writer.add("examples", shape: [indices.count], values: indices)
            let name = String(format: "activations-%05d.safetensors", set.shards.count + 1)
            try writer.write(to: folder.appendingPathComponent(name))
            set.shards.append(.init(file: name, rows: labels.count))
            buffers = layers.map { _ in [Float]() }
            labels = []
            indices = []
        }
        for (index, example) in examples.enumerated() {
            let rows = try activations(of: example, file: source.lastPathComponent)
            let count = rows[0].count / identity.hiddenSize
            for (layer, values) in rows.enumerated() { buffers[layer] += values }
            labels += [Float](repeating: example.label ? 1 : 0, count: count)
            indices += [Float](repeating: Float(index), count: count)
            set.examples.append(.init(line: example.line, label: example.label, group: example.group,
                                      split: example.heldOut.map { $0 ? "held-out" : "train" }, rows: count))
            if labels.count * identity.hiddenSize * layers.count * 4 >= maximumShardBytes { try flush() }
            progress(index + 1)
        }
        try flush()
        try set.write(to: folder)
        return set
    }
}
