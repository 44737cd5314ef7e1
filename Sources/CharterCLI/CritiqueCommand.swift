import ArgumentParser
import Constitutional
import Endpoints
import Foundation
import LanguageModels
import Pipelines
import Runtime
import Tensors

/// `--model DIR | --endpoints CONFIG`: the model a Constitutional AI command runs on.
struct ModelSourceOptions: ParsableArguments {
    @Option(help: "A Hugging Face model folder run locally (or a PEFT adapter folder whose base_model_name_or_path is one).") var model: String?
    @Option(help: "A YAML/JSON endpoints file for OpenAI-compatible servers (urls, model, api_key_env, max_concurrency, …).") var endpoints: String?
    @Option(help: "A built-in chat template family, when the folder has none (then --prompting auto chooses chat).") var chatTemplate: String?
    @Option(help: "A PEFT LoRA adapter folder applied to --model.") var lora: String?
    @Option(help: "Kernel threads for a local model (default: CHARTER_THREADS or every core).") var threads: Int?
    @Option(help: "MiB of keys and values a local model keeps to reuse shared prompt prefixes (LRU; 0: off; results are identical either way).")
    var prefixCacheMb = PrefixCache.defaultByteBudget >> 20

    var source: ModelSource {
        get throws {
            switch (model, endpoints) {
            case let (model?, nil): return .local(path: model, chatTemplate: chatTemplate, lora: lora)
            case let (nil, endpoints?): return .endpoints(configuration: endpoints)
            default: throw CommandError("give exactly one of --model DIR and --endpoints CONFIG")
            }
        }
    }

    func makeModels() throws -> [any LanguageModel] {
        if let threads { ComputeThreads.count = threads }
        guard prefixCacheMb >= 0 else { throw CommandError("--prefix-cache-mb \(prefixCacheMb): give 0 (off) or more MiB") }
        return try ModelFactory.make(try source, connect: connectEndpoints, prefixCacheBytes: prefixCacheMb << 20)
    }
}

/// Prints (on standard error) what the local models' prefix caches saved: hits, reused and fed prompt tokens.
func notePrefixCaches(_ models: [any LanguageModel], command: String) {
    for case let local as LocalLanguageModel in models {
        guard let statistics = local.prefixCache?.statistics, statistics.lookups > 0 else { continue }
        let total = statistics.reusedTokens + statistics.fedTokens
        note("\(command): prefix cache reused \(statistics.reusedTokens) of \(total) prompt tokens "
             + String(format: "(%.1f%%)", 100 * Double(statistics.reusedTokens) / Double(max(total, 1)))
             + " in \(statistics.hits) of \(statistics.lookups) requests; \(statistics.evictions) evicted for --prefix-cache-mb")
    }
}

/// Local folders through the Constitutional layer's factory; endpoints files through charter's OpenAI client.
@Sendable func makeLanguageModels(_ source: ModelSource) throws -> [any LanguageModel] {
    try ModelFactory.make(source, connect: connectEndpoints)
}

/// One `OpenAIClient` for an endpoints file (it balances over the file's `urls` itself).
let connectEndpoints: EndpointConnector = { json, file in
    let configuration: EndpointConfiguration
    do {
        configuration = try JSONDecoder().decode(EndpointConfiguration.self, from: json)
    } catch let error as DecodingError {
        throw ConstitutionError(file: file, decoding: error)
    }
    return [try OpenAIClient(configuration: configuration)]
}

/// The prompting style a `--prompting` value asks for: `transcript`, `chat`, or `auto` (chat when the model has a chat
/// template, ``PromptingStyle/automatic(for:)``), which prints one line saying what it chose and why.
/// - Parameters:
///   - value: the flag's value; `flag` names it in errors, `command` in the printed line.
///   - models: the models prompted in this style.
/// - Throws: `CommandError` for any other value.
func promptingStyle(_ value: String, flag: String, command: String, models: [any LanguageModel]) throws -> PromptingStyle {
    if value == "auto" {
        let (style, reason) = PromptingStyle.automatic(for: models)
        note("\(command): \(style.rawValue) prompting, because \(reason) (\(flag) chat|transcript chooses)")
        return style
    }
    guard let style = PromptingStyle(rawValue: value) else { throw CommandError("\(flag) \(value): use auto, transcript or chat") }
    return style
}

/// Options of every item-by-item run.
struct RunFlags: ParsableArguments {
    @Option(help: "Items in flight at once (spread over the endpoints).") var concurrency = 4
    @Option(help: "Further attempts after an item fails; items that fail every attempt go to the failures file.") var retries = 2
    @Option(help: "Seconds before the first retry (doubled for each further one).") var retryDelay = 1.0
    @Flag(help: "No progress line.") var quiet = false
    @Flag(help: "Start afresh: delete the output (with its .run.json and failures file) instead of resuming it.") var overwrite = false

    var options: RunOptions { RunOptions(concurrency: concurrency, retries: retries, retryDelay: retryDelay, showProgress: !quiet) }

    /// With `--overwrite`, deletes what earlier runs left in `outputs`.
    func prepare(_ outputs: URL...) throws {
        if overwrite { for output in outputs { try Stages.discardRun(output: output) } }
    }
}

final class ResultBox<T>: @unchecked Sendable { var result: Result<T, Error>? }

/// Runs async work from a synchronous command (the root command is synchronous).
func waitFor<T: Sendable>(_ body: @escaping @Sendable () async throws -> T) throws -> T {
    let box = ResultBox<T>(), semaphore = DispatchSemaphore(value: 0)
    Task {
        do { box.result = .success(try await body()) } catch { box.result = .failure(error) }
        semaphore.signal()
    }
    semaphore.wait()
    return try box.result!.get()
}

/// `charter critique`: supervised Constitutional AI's critique → revision (Bai et al. 2022, §3).
struct CritiqueCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "critique",
        abstract: "Critique and revise a model's answers to red-team prompts by a constitution (SL-CAI).",
        discussion: """
        For each prompt ({"id"?, "prompt": text | messages} per line) the model answers, then in each of --rounds rounds \
        critiques its latest answer by a principle sampled (seeded per item) from the constitution and revises it. \
        --output gets the audit trail (every text, principle id, seed, model and sampling setting per item); --sft-output \
        the SFT dataset (prompt → final revision, TRL prompt-completion), optionally mixed with helpful data. \
        Re-running the same command resumes: items already in --output are skipped; failures go to \
        <output>.failures.jsonl, and the command exits with status 3 when any item failed.
        """)

    @OptionGroup var model: ModelSourceOptions
    @Option(help: "Red-team prompts (.jsonl).") var prompts: String
    @Option(help: "A constitution YAML, or 'default'.") var constitution = "default"
    @Option(help: "Critique → revision rounds per prompt.") var rounds = 4
    @Option(help: "transcript (Human:/Assistant:/CritiqueRequest:…, as the paper), chat (the model's chat template), or auto: chat when the model has a chat template, else transcript.") var prompting = "auto"
    @Option(help: "Few-shot critique examples shown (default: all of the constitution's).") var fewShot: Int?
    @Option(help: "Seed for principle choice and sampling.") var seed: UInt64 = 0
    @Option(help: "Most new tokens per generated turn.") var maxTokens = 256
    @Option(help: "Sampling temperature.") var temperature: Float = 0.7
    @Option(help: "Nucleus sampling (1 = off).") var topP: Float = 1
    @Option(help: "The audit trail (.jsonl).") var output: String
    @Option(help: "The SFT dataset (default: <output>.sft.jsonl).") var sftOutput: String?
    @Option(help: "Helpful prompt-completion data mixed into the SFT dataset.") var mixHelpful: String?
    @Option(help: "Fraction of the SFT dataset drawn from --mix-helpful.") var helpfulRatio = 0.5
    @Flag(inversion: .prefixedNo, help: "With a local model, generate the turns of the items in flight (--concurrency) together in one batch, reading the weights once per token for all of them (float32 weights give the same tokens as one at a time).")
    var batch = true
    @OptionGroup var runFlags: RunFlags

    func run() throws {
        if prompting != "auto" && PromptingStyle(rawValue: prompting) == nil { throw CommandError("--prompting \(prompting): use auto, transcript or chat") }
        var configuration = CritiqueConfiguration()
        configuration.rounds = rounds
        configuration.fewShot = fewShot
        configuration.seed = seed
        configuration.sampling = SamplingOptions(maximumTokens: maxTokens, temperature: temperature, topP: topP)
        let constitution = try loadConstitution(self.constitution)
        let models = try model.makeModels()
        configuration.prompting = try promptingStyle(prompting, flag: "--prompting", command: "critique", models: models)
        let output = URL(fileURLWithPath: self.output)
        let sft = URL(fileURLWithPath: sftOutput ?? output.deletingPathExtension().path + ".sft.jsonl")
        let prompts = URL(fileURLWithPath: self.prompts), helpful = mixHelpful.map { URL(fileURLWithPath: $0) }
        try runFlags.prepare(output)
        let (ratio, options, critiqueConfiguration) = (helpfulRatio, runFlags.options, configuration)
        // Concurrent items' turns reach a local model through one queue that batches them (as `charter serve` does).
        let workers: [any LanguageModel] = batch && runFlags.concurrency > 1
            ? models.map { $0 is LocalLanguageModel ? BatchingLanguageModel($0, maximumBatchSize: runFlags.concurrency) : $0 } : models
        let outcome = try waitFor {
            try await Stages.critique(prompts: prompts, output: output, constitution: constitution, configuration: critiqueConfiguration,
                                      models: workers, run: options, sft: sft, helpful: helpful, helpfulRatio: ratio)
        }
        notePrefixCaches(models, command: "critique")
        let count = Int(outcome.counts["sft_examples"] ?? 0)
        print("critique: \(outcome.report.summary); audit trail \(output.path); SFT data \(sft.path) (\(count) example\(count == 1 ? "" : "s")"
              + (outcome.counts["helpful_examples"].map { ", \(Int($0)) helpful" } ?? "") + ")")
        try exitIfItemsFailed([(outcome.report, output, "items")])
    }
}

/// The exit status of an item-by-item run in which some items failed every attempt (the others were written).
let itemsFailedExitCode = ExitCode(3)

/// Prints, on standard error, how many items of each run failed and where their failures file is, and exits with
/// ``itemsFailedExitCode`` when any did (so scripts and pipelines notice).
/// - Parameter runs: each run's report, output file and what its items are called ("items", "pairs").
func exitIfItemsFailed(_ runs: [(report: RunReport, output: URL, noun: String)]) throws {
    let failed = runs.filter { $0.report.failed > 0 }
    guard !failed.isEmpty else { return }
    for run in failed {
        note("\(run.report.failed) of \(run.report.total) \(run.noun) failed; their errors are in "
             + "\(Stages.failuresURL(for: run.output).path); re-run the same command to retry them")
    }
    throw itemsFailedExitCode
}
