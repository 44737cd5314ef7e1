import ArgumentParser
import Foundation
import LanguageModels
import Tokenizers

/// `charter tokenize`: encode or decode JSON lines with a Hugging Face `tokenizer.json`, or measure
/// encoding throughput.
///
///     charter tokenize --tokenizer models/llama-3 --input prompts.jsonl      # {"text": …} → {"ids": […]}
///     charter tokenize --tokenizer tokenizer.json --decode --input ids.jsonl  # {"ids": […]} → {"text": …}
///     charter tokenize --tokenizer tokenizer.json --input corpus.jsonl --benchmark
struct TokenizeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tokenize",
        abstract: "Encode or decode JSON lines with a Hugging Face tokenizer.json (ids identical to HF tokenizers).")

    @Option(name: .long, help: "A tokenizer.json file, a model directory holding tokenizer.json (and tokenizer_config.json), or a GGUF model file (its tokenizer metadata).")
    var tokenizer: String

    @Option(name: .long, help: "JSON-lines input: {\"text\": …} per line (or {\"ids\": […]} with --decode). Reads stdin when omitted.")
    var input: String?

    @Flag(name: .long, help: "Decode {\"ids\": […]} lines to {\"text\": …} instead of encoding.")
    var decode = false

    @Flag(name: .customLong("no-special-tokens"),
          help: "Encoding: do not add the post-processor's special tokens. Decoding: drop special tokens.")
    var noSpecialTokens = false

    @Flag(name: .long, help: "Time single-threaded encoding of every input text (release build) and print one JSON result.")
    var benchmark = false

    @Option(name: .long, help: "Benchmark repetitions; the median is reported.")
    var repeats = 3

    /// A line of the input that could not be used.
    struct InputError: Error, CustomStringConvertible {
        let file: String
        let line: Int
        let reason: String
        var description: String { "\(file):\(line): \(reason)" }
    }

    private struct TextLine: Decodable { let text: String }
    private struct IdsLine: Decodable { let ids: [Int] }

    mutating func run() throws {
        let url = URL(fileURLWithPath: tokenizer)
        let loaded = GGUFCheckpoint.isGGUF(url) ? try PretrainedModel.tokenizer(at: url) : try Tokenizer(url: url)
        let source = input ?? "<stdin>"
        let data: Data
        if let input = input {
            guard let contents = FileManager.default.contents(atPath: input) else {
                throw InputError(file: input, line: 0, reason: "cannot read the file")
            }
            data = contents
        } else {
            data = FileHandle.standardInput.readDataToEndOfFile()
        }
        let lines = data.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
        var output = TokenizeCommand.BufferedOutput()
        // Lines before a bad one are still written.
        defer { output.flush() }
        let decoder = JSONDecoder()

        if benchmark {
            let texts = try lines.enumerated().compactMap { index, line -> String? in
                guard !TokenizeCommand.isBlank(line) else { return nil }
                return try TokenizeCommand.parse(TextLine.self, Data(line), decoder, source, index + 1).text
            }
            try runBenchmark(texts: texts, url: url)
            return
        }

        for (index, line) in lines.enumerated() where !TokenizeCommand.isBlank(line) {
            if decode {
                let ids = try TokenizeCommand.parse(IdsLine.self, Data(line), decoder, source, index + 1).ids
                let text = loaded.decode(ids, skipSpecialTokens: noSpecialTokens)
                output.write(try TokenizeCommand.jsonLine(text: text))
            } else {
                let text = try TokenizeCommand.parse(TextLine.self, Data(line), decoder, source, index + 1).text
                let ids = loaded.encode(text, addSpecialTokens: !noSpecialTokens)
                output.write("{\"ids\":[" + ids.map(String.init).joined(separator: ",") + "]}\n")
            }
        }
    }

    /// Encodes all texts `repeats` times, each time with a freshly loaded tokenizer (cold cache,
    /// as the HF benchmark does), and prints the median throughput.
    private func runBenchmark(texts: [String], url: URL) throws {
        let bytes = texts.reduce(0) { $0 + $1.utf8.count }
        var rates: [(megabytesPerSecond: Double, tokensPerSecond: Double)] = []
        for _ in 0..<max(1, repeats) {
            let fresh = GGUFCheckpoint.isGGUF(url) ? try PretrainedModel.tokenizer(at: url) : try Tokenizer(url: url)
            var tokens = 0
            let start = DispatchTime.now().uptimeNanoseconds
            for text in texts { tokens += fresh.encode(text, addSpecialTokens: !noSpecialTokens).count }
            let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
            rates.append((Double(bytes) / 1e6 / seconds, Double(tokens) / seconds))
        }
        rates.sort { $0.megabytesPerSecond < $1.megabytesPerSecond }
        let median = rates[rates.count / 2]
        let name = url.lastPathComponent == "tokenizer.json" ? url.deletingLastPathComponent().lastPathComponent : url.lastPathComponent
        print(String(format: "{\"impl\":\"charter\",\"tokenizer\":\"%@\",\"mode\":\"encode\",\"mb_per_s\":%.3f,\"tokens_per_s\":%.0f,\"texts\":%d,\"bytes\":%d}",
                     name, median.megabytesPerSecond, median.tokensPerSecond, texts.count, bytes))
    }

    private static func isBlank(_ line: Data.SubSequence) -> Bool {
        line.allSatisfy { $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }
    }

    private static func parse<T: Decodable>(_ type: T.Type, _ line: Data, _ decoder: JSONDecoder, _ file: String,
                                            _ number: Int) throws -> T {
        do {
            return try decoder.decode(T.self, from: line)
        } catch {
            let expected = T.self == TextLine.self ? "{\"text\": \"…\"}" : "{\"ids\": [int, …]}"
            throw InputError(file: file, line: number, reason: "expected a JSON object \(expected) (\(error))")
        }
    }

    private static func jsonLine(text: String) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.withoutEscapingSlashes]
        let data = try encoder.encode(["text": text])
        return String(decoding: data, as: UTF8.self) + "\n"
    }

    /// Collects output and writes it to stdout in large chunks.
    struct BufferedOutput {
        private var buffer = ""

        mutating func write(_ text: String) {
            buffer += text
            if buffer.utf8.count > 1 << 16 { flush() }
        }

        mutating func flush() {
            FileHandle.standardOutput.write(Data(buffer.utf8))
            buffer = ""
        }
    }
}
