import ArgumentParser
import Endpoints
import Foundation
import LanguageModels
import Probes

/// `charter serve`: an OpenAI-compatible server for a Charter model (`/v1/models`, `/v1/completions`,
/// `/v1/chat/completions` with SSE streaming and log-probs).
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve a model over the OpenAI HTTP API (loopback by default; SIGINT/SIGTERM stop it gracefully).")

    @Option(help: "Model folder (a Hugging Face checkpoint, or one Charter saved), or a GGUF file. 'scripted:' serves a deterministic stand-in with no weights, for testing the HTTP layer.")
    var model: String

    @Option(help: "LoRA adapter folder (PEFT layout) applied on top of --model.")
    var lora: String?

    @OptionGroup var precision: PrecisionOptions
    @OptionGroup var kvCache: KVCacheOptions

    @Option(help: "A built-in chat template family, when the folder has none.")
    var chatTemplate: String?

    @Option(help: "Address to bind. Anything but loopback exposes the model to the network.")
    var host = "127.0.0.1"

    @Option(help: "Port to listen on (0: any free port).")
    var port = 8080

    @Option(name: .customLong("api-key-env"),
            help: "Name of the environment variable holding the bearer token clients must send (the token itself never goes on the command line).")
    var apiKeyEnv: String?

    @Option(name: .customLong("served-model-name"), help: "Model id in /v1/models and requests (default: the folder's name).")
    var servedModelName: String?

    @Option(help: "Largest max_tokens a request may ask for.")
    var maxTokensLimit = 4096

    @Option(help: "Largest request body in bytes.")
    var maxBodyBytes = 1 << 20

    @Option(help: "Most prompt tokens a request may send (default: the model's context, which always bounds prompt + max_tokens). One request runs at a time, so this bounds how long one can hold up the others.")
    var maxPromptTokens: Int?

    @Option(help: "Seconds a connection may take to send its request head, or stay idle between requests, before it is closed (0: never). Generation time does not count.")
    var idleTimeout = 30.0

    @Option(help: "Seconds a request reaching an idle model waits for others to join its batch (requests arriving while a batch runs always join the next).")
    var batchWindow = 0.0

    @Option(help: "Largest batch handed to the model at once.")
    var maxBatchSize = 16

    @Option(help: "MiB of keys and values kept to reuse prompt prefixes shared by requests (LRU; 0: off; responses are identical either way).")
    var prefixCacheMb = PrefixCache.defaultByteBudget >> 20

    @OptionGroup(title: "Safety circuit and steering (every request)")
    var circuit: SafetyCircuitOptions

    func validate() throws {
        guard (0...65535).contains(port) else { throw ValidationError("--port must be in 0...65535") }
        guard maxTokensLimit > 0, maxBodyBytes > 0, maxBatchSize > 0, batchWindow >= 0, (maxPromptTokens ?? 1) > 0 else {
            throw ValidationError("--max-tokens-limit, --max-body-bytes, --max-batch-size and --max-prompt-tokens must be positive")
        }
        guard idleTimeout >= 0, idleTimeout.isFinite else { throw ValidationError("--idle-timeout must be 0 (never) or a number of seconds") }
    }

    func run() async throws {
        guard #available(macOS 14, iOS 17, tvOS 17, *) else { throw ValidationError("charter serve needs macOS 14 or newer (Hummingbird 2)") }
        var apiKey: String?
        if let apiKeyEnv {
            guard let value = ProcessInfo.processInfo.environment[apiKeyEnv], !value.isEmpty else {
                throw ValidationError("--api-key-env names \(apiKeyEnv), which is not set: export \(apiKeyEnv)=<token>")
            }
            apiKey = value
        }
        let (languageModel, measure) = try makeModel()
        let modelID = servedModelName ?? (model == "scripted:" ? "scripted" : URL(fileURLWithPath: model).lastPathComponent)
        var configuration = ServerConfiguration(
            modelID: modelID, host: host, port: port, apiKey: apiKey, maximumTokensLimit: maxTokensLimit,
            maximumBodyBytes: maxBodyBytes)
        configuration.batchWindowSeconds = batchWindow
        configuration.maximumBatchSize = maxBatchSize
        configuration.maximumPromptTokens = maxPromptTokens
        configuration.idleTimeoutSeconds = idleTimeout > 0 ? idleTimeout : nil
        if !["127.0.0.1", "::1", "localhost"].contains(host) {
            FileHandle.standardError.write(Data("charter serve: binding \(host) — reachable from other machines\(apiKey == nil ? ", with no --api-key-env" : "")\n".utf8))
        }
        let host = self.host
        try await OpenAIServer(model: languageModel, configuration: configuration, measure: measure).run { port in
            print("charter serve: \(modelID) on http://\(host):\(port)/v1 (Ctrl-C stops after requests in flight)")
            fflush(stdout)
        }
    }

    /// The model to serve — the local engine on `--model DIR` (with `--lora DIR`), or the scripted stand-in — and
    /// what measures its prompts before they are queued.
    func makeModel() throws -> (any LanguageModel, any PromptMeasuring) {
        if model == "scripted:" {
            if lora != nil { throw ValidationError("--lora needs a real model, not 'scripted:'") }
            let scripted = ScriptedLanguageModel(name: "scripted")
            return (scripted, scripted)
        }
        let directory = URL(fileURLWithPath: model), adapter = lora.map { URL(fileURLWithPath: $0) }
        let folders = try AdaptedModelFolder(model: directory, lora: adapter)
        guard GGUFCheckpoint.isGGUF(folders.base) || FileManager.default.fileExists(atPath: folders.base.appendingPathComponent("config.json").path) else {
            throw ValidationError("\(model) is not a model folder (no config.json) or PEFT adapter folder (no adapter_config.json); "
                                  + "give a Hugging Face folder, or 'scripted:' to test the HTTP layer")
        }
        guard prefixCacheMb >= 0 else { throw ValidationError("--prefix-cache-mb \(prefixCacheMb): give 0 (off) or more MiB") }
        let local = try LocalLanguageModel.load(directory: directory, chatTemplate: chatTemplate, lora: adapter, prefixCacheBytes: prefixCacheMb << 20,
                                                precision: try precision.precision)
        if circuit.onTrigger == .refuse {
            throw ValidationError("charter serve does not take --on-trigger refuse (a streamed reply cannot be taken back): use halt (finish_reason content_filter) or steer")
        }
        if let monitor = try circuit.monitor(for: local.model, modelPath: model) {
            monitor.recordsTriggers = false
            let action = circuit.onTrigger.rawValue
            monitor.onTrigger = { SafetyCircuitOptions.log($0, item: "a request (batch row \($0.sequence))", action: action) }
            local.monitor = monitor
        }
        (local.steering, local.steeringOnTrigger) = try circuit.steering(for: local.model, modelPath: model)
        local.kvCachePrecision = try kvCache.kvCachePrecision
        return (local, try TokenizerPromptMeasure.load(directory: folders.files, chatTemplate: chatTemplate))
    }
}
