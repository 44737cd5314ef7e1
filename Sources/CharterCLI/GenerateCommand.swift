import ArgumentParser
import Foundation
import JSON
import LanguageModels
import Probes
import Runtime
import Tokenizers

/// `charter generate`: continue prompts with a local model.
struct GenerateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "generate",
        abstract: "Continue a prompt (--prompt) or every prompt of a JSONL file (--input, lines {\"prompt\": …}).")

    @OptionGroup var model: ModelOptions
    @OptionGroup var precision: PrecisionOptions
    @OptionGroup var kvCache: KVCacheOptions
    @OptionGroup var sampling: SamplingFlags
    @Option(help: "Text to continue.") var prompt: String?
    @Option(help: "A .jsonl/.jsonl.gz file whose lines have a \"prompt\" string; prints one JSON line per prompt.") var input: String?
    @Option(help: "Prompts generated together in one batch (--input).") var batchSize = 8
    @OptionGroup var circuit: SafetyCircuitOptions

    func validate() throws {
        guard (prompt == nil) != (input == nil) else { throw ValidationError("give exactly one of --prompt and --input") }
        guard batchSize >= 1 else { throw ValidationError("--batch-size must be at least 1") }
    }

    func run() throws {
        let (network, tokenizer) = try model.load(precision: try precision.precision)
        let monitor = try circuit.monitor(for: network, modelPath: model.model)
        var generator = Generator(model: network, detokenize: { tokenizer.decode($0.map(Int.init), skipSpecialTokens: true) }, monitor: monitor)
        (generator.steering, generator.steeringOnTrigger) = try circuit.steering(for: network, modelPath: model.model)
        generator.kvCachePrecision = try kvCache.kvCachePrecision
        let configuration = sampling.configuration(endOfSequence: try model.endOfSequenceTokens(tokenizer))
        if let prompt {
            let ids = tokenizer.encode(prompt).map(Int32.init)
            guard !ids.isEmpty else { throw CommandError("the prompt encodes to no tokens") }
            try model.checkPrompt(ids, of: network, item: "the prompt")
            let progress = ProgressLine(label: "generate", total: 1, unit: "prompts")
            let result = progress.generating("prompt 1") { generator.generate(prompts: [ids], configuration: configuration)[0] }
            progress.update(1)
            progress.finish()
            for trigger in monitor?.triggers ?? [] { circuit.log(trigger, item: "the prompt") }
            print(circuit.text(of: result))
            return
        }
        var prompts: [(line: Int, text: String)] = []
        try readJSONLines(input!) { line, object in
            guard let text = object["prompt"]?.stringValue else { throw CommandError("\(input!):\(line): field \"prompt\" must be a string") }
            prompts.append((line, text))
        }
        let progress = ProgressLine(label: "generate", total: prompts.count, unit: "prompts")
        defer { progress.finish() }
        for start in stride(from: 0, to: prompts.count, by: batchSize) {
            let group = prompts[start..<min(start + batchSize, prompts.count)]
            let ids = try group.map { item -> [Int32] in
                let ids = tokenizer.encode(item.text).map(Int32.init)
                guard !ids.isEmpty else { throw CommandError("\(input!):\(item.line): the prompt encodes to no tokens") }
                try model.checkPrompt(ids, of: network, item: "\(input!):\(item.line): the prompt")
                return ids
            }
            let part = group.count == 1 ? "prompt \(start + 1)" : "prompts \(start + 1)-\(start + group.count)"
            monitor?.reset()
            let results = progress.generating(part) { generator.generate(prompts: ids, configuration: configuration) }
            progress.update(start + group.count)
            for (index, (item, result)) in zip(group, results).enumerated() {
                var line: [String: JSONValue] = [
                    "prompt": .string(item.text), "completion": .string(circuit.text(of: result)),
                    "finish_reason": .string(result.finishReason.rawValue),
                    "completion_ids": .array(result.tokens.map { .integer(Int($0)) }),
                    "completion_logprobs": .array(result.logProbabilities.map(JSONValue.float))]
                if let monitor {
                    let triggers = monitor.triggers.filter { $0.sequence == index }
                    for trigger in triggers { circuit.log(trigger, item: "\(input!):\(item.line)") }
                    line["probe_score"] = .numeric(monitor.highestScores[index] ?? 0)
                    line["probe_triggers"] = .array(triggers.map { trigger in
                        ["token_index": trigger.tokenIndex.map(JSONValue.integer) ?? .null, "score": .numeric(trigger.score)]
                    })
                }
                printJSONLine(JSONValue(sortingKeys: line))
            }
        }
    }
}
