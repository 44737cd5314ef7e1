import ArgumentParser
import Foundation
import JSON
import LanguageModels
import Tokenizers

/// `charter logprobs`: per-token log-probabilities of given texts.
struct LogprobsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "logprobs",
        abstract: "Score texts: log p(token | tokens before) for each token of each JSONL line.",
        discussion: """
        Each input line is {"text": …} or {"prompt": …, "completion": …}. Output lines have "ids" and
        "token_logprobs" (one per token after the first). "text" is encoded as the tokenizer encodes it, with any
        special tokens its post-processor adds. For prompt/completion, the prompt is encoded that way and the
        completion without special tokens, then concatenated (TRL's convention), and "completion_logprob" is the
        sum over the completion's tokens.
        """)

    @OptionGroup var model: ModelOptions
    @OptionGroup var precision: PrecisionOptions
    @Option(help: "A .jsonl or .jsonl.gz file.") var input: String
    @Option(help: "Sequences scored together in one batch.") var batchSize = 8

    func run() throws {
        let (network, tokenizer) = try model.load(precision: try precision.precision)
        var items: [(ids: [Int32], completionCount: Int?)] = []
        try readJSONLines(input) { line, object in
            if let text = object["text"]?.stringValue {
                items.append((tokenizer.encode(text).map(Int32.init), nil))
            } else if let prompt = object["prompt"]?.stringValue, let completion = object["completion"]?.stringValue {
                let completionIds = tokenizer.encode(completion, addSpecialTokens: false).map(Int32.init)
                items.append((tokenizer.encode(prompt).map(Int32.init) + completionIds, completionIds.count))
            } else {
                throw CommandError("\(input):\(line): expected a string \"text\", or string \"prompt\" and \"completion\" fields")
            }
            guard let ids = items.last?.ids, !ids.isEmpty else { throw CommandError("\(input):\(line): the text encodes to no tokens") }
            try network.checkContext(tokens: ids.count, item: "\(input):\(line)")
        }
        for start in stride(from: 0, to: items.count, by: max(1, batchSize)) {
            let group = Array(items[start..<min(start + batchSize, items.count)])
            for (item, logProbabilities) in zip(group, try network.tokenLogProbabilities(group.map(\.ids), batchSize: batchSize)) {
                var members: [String: JSONValue] = ["ids": .array(item.ids.map { .integer(Int($0)) }),
                                                    "token_logprobs": .array(logProbabilities.map(JSONValue.float))]
                if let count = item.completionCount {
                    members["completion_logprob"] = .numeric(logProbabilities.suffix(count).reduce(0.0) { $0 + Double($1) })
                }
                printJSONLine(JSONValue(sortingKeys: members))
            }
        }
    }
}
