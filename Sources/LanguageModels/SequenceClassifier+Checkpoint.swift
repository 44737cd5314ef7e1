import Foundation
import JSON
import Runtime
import SafeTensors
import Tensors
import Tokenizers

/// Reading and writing transformers sequence-classification folders: config.json with
/// `architectures: ["LlamaForSequenceClassification"]` (or Mistral/Qwen2/GPT2…), `num_labels` K (as `id2label`; 1 for
/// a reward model, K for a shared-trunk ensemble) and `pad_token_id`; weights with the base model's names
/// (`model.…` / `transformer.…`) plus `score.weight` (K, hidden), and no LM head.
extension SequenceClassifier {
    static let architectures = ["llama": "LlamaForSequenceClassification", "mistral": "MistralForSequenceClassification",
                                "qwen2": "Qwen2ForSequenceClassification", "gpt2": "GPT2ForSequenceClassification"]
    static let scoreName = "score.weight"

    /// Loads a sequence-classification folder, or a causal LM folder with a new head — the starting point of
    /// reward-model training, as `AutoModelForSequenceClassification.from_pretrained` does. A new head has `labels`
    /// rows, row k drawn from N(0, 0.02) with seed `seed + k` (so a K-head trunk starts each head where the K
    /// separately trained members would). `pad_token_id` comes from config.json, else from the tokenizer (pad, then
    /// eos, as TRL sets it).
    /// - Parameters:
    ///   - labels: the number of scores the caller needs (`num_labels`): 1 for a reward model; nil to accept a folder's
    ///     own count (a shared-trunk ensemble's K).
    /// - Throws: `CheckpointError` naming the file and field or tensor, and naming `num_labels` when the folder has a
    ///   different number of labels than `labels`.
    public static func load(directory: URL, seed: UInt64 = 42, labels: Int? = 1) throws -> SequenceClassifier {
        precondition(labels.map { $0 >= 1 } ?? true, "labels must be ≥ 1 (got \(labels ?? 0))")
        let folder = try ModelFolder(directory: directory)
        guard let modelType = folder.modelType, architectures[modelType] != nil else {
            throw CheckpointError("\(folder.configURL.path): model_type \(folder.config["model_type"]?.serialized() ?? "none") is not supported for sequence classification; supported: \(architectures.keys.sorted().joined(separator: ", "))")
        }
        let declared = try declaredLabelNames(folder)
        if let declared, let labels, declared.count != labels {
            throw CheckpointError("\(folder.configURL.path): id2label has \(declared.count) labels (num_labels = \(declared.count)); "
                                  + (labels == 1 ? "a reward model has num_labels = 1 (a shared-trunk ensemble's folder is read through its ensemble.json)"
                                                 : "expected num_labels = \(labels)"))
        }
        let labelCount = declared?.count ?? labels ?? 1
        let tokenizer = folder.tokenizerIfReadable
        let tensors = try ShardedSafeTensors(directory: directory)
        var generator = SeededGenerator(seed: 0)  // overwritten by the checkpoint
        let body: any CheckpointMapped
        switch modelType {
        case "gpt2":
            let configuration = try folder.configuration(GPTConfiguration.self)
            try check(folder, configuration, hiddenSize: configuration.width, labels: labelCount, tensors: tensors, tokenizer: tokenizer)
            body = GPTModel(configuration, generator: &generator)
        default:
            let configuration = try folder.configuration(LlamaConfiguration.self)
            try check(folder, configuration, hiddenSize: configuration.hiddenSize, labels: labelCount, tensors: tensors, tokenizer: tokenizer)
            body = LlamaModel(configuration, generator: &generator)
        }
        var unused = Set(tensors.names)
        for entry in body.checkpointEntries() {
            // GPT-2 checkpoints saved from the bare model have no "transformer." prefix.
            let candidates = [entry.name, entry.name.hasPrefix("transformer.") ? String(entry.name.dropFirst("transformer.".count)) : entry.name]
            guard let name = candidates.first(where: tensors.contains) else {
                if entry.name == "lm_head.weight" { continue }  // sequence classifiers have no LM head
                throw CheckpointError("\(directory.path): checkpoint has no tensor \"\(entry.name)\"")
            }
            let info = try tensors.info(name)
            guard info.shape == entry.shape else {
                throw CheckpointError("\(directory.path): tensor \"\(name)\" has shape \(info.shape), config.json implies \(entry.shape)")
            }
            entry.write(try tensors.weights(name))
            unused.remove(name)
        }
        let pad = folder.config["pad_token_id"]?.integerValue.map(Int32.init) ?? (tokenizer?.padTokenId ?? tokenizer?.eosTokenId).map(Int32.init)
        let classifier = SequenceClassifier(body: body, padTokenId: pad, headSeeds: (0..<labelCount).map { seed &+ UInt64($0) })
        classifier.tokenizer = tokenizer
        if let declared { classifier.labelNames = declared }
        if tensors.contains(scoreName) {
            let info = try tensors.info(scoreName)
            guard info.shape == classifier.score.weight.shape else {
                throw CheckpointError("\(directory.path): tensor \"\(scoreName)\" has shape \(info.shape), expected \(classifier.score.weight.shape) (num_labels = \(labelCount))")
            }
            classifier.score.weight.assign(Tensor(shape: info.shape, scalars: try tensors.weights(scoreName)))
            unused.remove(scoreName)
        }
        let ignored = type(of: body).ignoredCheckpointNames
        let unexpected = unused.filter { name in !ignored.contains { name.hasSuffix($0) } && !name.hasPrefix("lm_head.") }
        guard unexpected.isEmpty else {
            throw CheckpointError("\(directory.path): checkpoint tensors not used by the model: \(unexpected.sorted().prefix(10).joined(separator: ", "))")
        }
        return classifier
    }

    /// The number of labels a folder's config.json declares (`id2label`'s names in column order, else `num_labels`
    /// as LABEL_k), or nil when it declares none (a causal LM).
    /// - Throws: `CheckpointError` naming the file and field for an `id2label` whose keys are not 0 … K−1.
    static func declaredLabelNames(_ folder: ModelFolder) throws -> [String]? {
        if case let .object(entries)? = folder.config["id2label"] {
            var names = [String?](repeating: nil, count: entries.count)
            for entry in entries {
                guard let index = Int(entry.key), names.indices.contains(index), names[index] == nil else {
                    throw CheckpointError("\(folder.configURL.path): id2label key \(entry.key.debugDescription) is not one of 0 … \(entries.count - 1)")
                }
                names[index] = entry.value.stringValue ?? "LABEL_\(index)"
            }
            return names.map { $0 ?? "" }
        }
        if let count = folder.config["num_labels"]?.integerValue {
            guard count >= 1 else { throw CheckpointError("\(folder.configURL.path): num_labels must be ≥ 1 (got \(count))") }
            return defaultLabelNames(count: count)
        }
        return nil
    }

    /// The number of scores per sequence a folder's model gives (`num_labels`: its `id2label`'s size, 1 when none).
    /// - Throws: `CheckpointError` for an unreadable config.json or a malformed `id2label`.
    public static func labelCount(directory: URL) throws -> Int {
        try declaredLabelNames(try ModelFolder(directory: directory))?.count ?? 1
    }

    /// Checks config.json and the checkpoint before the body is built: the causal LM's tensors without its LM head,
    /// and `score.weight` (num_labels, hidden) when present (a causal LM folder gets a new head).
    static func check<Configuration: CheckpointConfiguration>(_ folder: ModelFolder, _ configuration: Configuration, hiddenSize: Int, labels: Int,
                                                              tensors: ShardedSafeTensors, tokenizer: Tokenizer?) throws {
        let layout = configuration.checkpointLayout().replacing(["lm_head.weight"], with: [.init(scoreName, [labels, hiddenSize])])
        try folder.check(configuration, layout: layout, tensors: tensors, optional: [scoreName], tokenizer: tokenizer,
                         resolve: { PretrainedModel.gpt2Name($0, in: tensors) })
    }

    /// Writes a folder that `AutoModelForSequenceClassification.from_pretrained` loads and that scores identically.
    public func save(to directory: URL) throws {
        guard let mapped = body as? any CheckpointMapped else {
            throw CheckpointError("\(type(of: body)) has no Hugging Face checkpoint layout")
        }
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        var writer = ShardedSafeTensorsWriter()
        for entry in mapped.checkpointEntries() where entry.name != "lm_head.weight" {
            try writer.add(entry.name, shape: entry.shape, values: entry.read(), as: .float32)
        }
        try writer.add(Self.scoreName, shape: score.weight.shape, values: score.weight.scalars, as: .float32)
        try writer.write(to: directory)
        let base = try mapped.configurationJSON()
        let modelType = base["model_type"]?.stringValue ?? "llama"
        let object = base.setting("architectures", .array([.string(Self.architectures[modelType] ?? "LlamaForSequenceClassification")]))
            .setting("id2label", .object(labelNames.enumerated().map { .init(String($0.offset), .string($0.element)) }))
            .setting("label2id", .object(labelNames.enumerated().map { .init($0.element, .number(JSONNumber($0.offset))) }))
            .setting("pad_token_id", padTokenId.map { .number(JSONNumber(Int($0))) } ?? .null)
        let data = PretrainedModel.configurationData(object)
        try AtomicFile.write(data, to: directory.appendingPathComponent("config.json"))
    }
}
