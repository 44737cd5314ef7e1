import ArgumentParser
import Foundation
import LanguageModels
import Probes
import Tokenizers

/// `charter chat`: an interactive conversation with a local model, streaming its tokens.
struct ChatCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "chat",
        abstract: "Chat with a local model using its chat template; tokens stream as they are generated.",
        discussion: """
            Type a message and press return. /reset starts a new conversation, /quit (or end of input) leaves. \
            With --probe a trained probe watches every turn: halt ends the reply where it triggered, refuse shows the \
            refusal instead (replies are then shown whole, not streamed, since a streamed reply cannot be taken back), \
            steer goes on steered. Each trigger is logged on standard error with its token index and score.
            """)

    @OptionGroup var model: ModelOptions
    @OptionGroup var precision: PrecisionOptions
    @OptionGroup var kvCache: KVCacheOptions
    @OptionGroup var sampling: SamplingFlags
    @Option(help: "Chat template family when tokenizer_config.json has none Charter recognises: \(ChatTemplate.builtInNames.joined(separator: ", ")).")
    var chatTemplate: String?
    @Option(help: "A system message that starts every conversation.") var system: String?
    @OptionGroup var circuit: SafetyCircuitOptions

    func run() throws {
        let (network, tokenizer) = try model.load(precision: try precision.precision)
        let folders = try model.folders()
        let template = try chatTemplate.map { try ChatTemplate(named: $0, bosToken: tokenizer.bosToken, eosToken: tokenizer.eosToken) }
            ?? ChatTemplate(directory: folders.files)
        let configuration = sampling.configuration(endOfSequence: try model.endOfSequenceTokens(tokenizer))
        let monitor = try circuit.monitor(for: network, modelPath: model.model)
        var generator = Generator(model: network, detokenize: { tokenizer.decode($0.map(Int.init), skipSpecialTokens: true) }, monitor: monitor)
        (generator.steering, generator.steeringOnTrigger) = try circuit.steering(for: network, modelPath: model.model)
        generator.kvCachePrecision = try kvCache.kvCachePrecision
        // A reply the circuit may replace is shown only once it is complete.
        let streams = monitor == nil || circuit.onTrigger != .refuse
        var messages: [ChatMessage] = system.map { [ChatMessage(role: "system", content: $0)] } ?? []
        var turn = 0
        FileHandle.standardError.write(Data((Self.banner(folders, template: template, chosen: chatTemplate != nil, system: system) + "\n").utf8))
        while true {
            FileHandle.standardError.write(Data("> ".utf8))
            guard let line = readLine() else { break }
            let input = line.trimmingCharacters(in: .whitespaces)
            if input == "/quit" { break }
            if input == "/reset" {
                messages = system.map { [ChatMessage(role: "system", content: $0)] } ?? []
                FileHandle.standardError.write(Data("(new conversation\(system == nil ? "" : ", same system prompt"))\n".utf8))
                continue
            }
            if input.isEmpty { continue }
            messages.append(ChatMessage(role: "user", content: input))
            turn += 1
            let prompt = try template.render(messages, addGenerationPrompt: true).text
            let ids = tokenizer.encode(prompt, addSpecialTokens: false).map(Int32.init)
            do { try model.checkPrompt(ids, of: network, item: "the conversation") } catch {
                FileHandle.standardError.write(Data("\(error); /reset starts a new one\n".utf8))
                messages.removeLast()
                continue
            }
            // Stream: decode everything generated so far and print what is new (a token may complete a
            // multi-byte character only together with the next one).
            var generated: [Int32] = [], printed = ""
            monitor?.reset()
            let result = generator.generate(prompts: [ids], configuration: configuration) { _, token, _ in
                generated.append(token)
                guard streams else { return }
                let text = tokenizer.decode(generated.map(Int.init), skipSpecialTokens: true)
                if text.hasPrefix(printed), !text.hasSuffix("\u{FFFD}") {
                    FileHandle.standardOutput.write(Data(text.dropFirst(printed.count).utf8))
                    printed = text
                }
            }[0]
            let reply = result.finishReason == .contentFilter && circuit.onTrigger == .refuse ? circuit.refusal : result.text ?? printed
            if !streams { FileHandle.standardOutput.write(Data(reply.utf8)) }
            else if reply.count > printed.count, reply.hasPrefix(printed) { FileHandle.standardOutput.write(Data(reply.dropFirst(printed.count).utf8)) }
            // Through the same unbuffered handle as the reply (print's buffer would reorder it when stdout is a pipe).
            FileHandle.standardOutput.write(Data("\n".utf8))
            for trigger in monitor?.triggers ?? [] { circuit.log(trigger, item: "turn \(turn)") }
            messages.append(ChatMessage(role: "assistant", content: reply))
        }
    }

    /// The first line: the model (and adapter), the chat template and where it came from, the system prompt.
    static func banner(_ folders: AdaptedModelFolder, template: ChatTemplate, chosen: Bool, system: String?) -> String {
        let model = folders.adapter.map { "\($0.lastPathComponent) (LoRA adapter on \(folders.base.path))" } ?? folders.base.lastPathComponent
        let source = chosen ? "chosen with --chat-template" : "recognised in \(folders.files.lastPathComponent)"
        // Some templates (Qwen2's, Llama 3.1's) write a default system turn when the conversation has none.
        let probe = (try? template.render([ChatMessage(role: "user", content: "x")], addGenerationPrompt: true).text) ?? ""
        let systemText = system.map { "system prompt: \"\($0)\"" }
            ?? (probe.lowercased().contains("system") ? "the template's default system prompt" : "no system prompt") + " (--system TEXT sets one)"
        return "charter chat — \(model); chat template \(template.name) (\(source)); \(systemText). /reset starts over, /quit leaves"
    }
}
