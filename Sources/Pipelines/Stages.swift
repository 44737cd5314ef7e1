import Checksums
import Alignment
import Constitutional
import Datasets
import Foundation
import JSON
import LanguageModels
import Runtime

/// The work of each stage, shared by the CLI commands and ``Pipeline``: read inputs, run items with bounded
/// concurrency into an append-only output (resuming from whatever it already holds), then order the output by
/// input and write derived files.
public enum Stages {
    /// What a generation or labelling stage did.
    public struct Outcome: Sendable {
        public var report: RunReport
        /// Stage-specific counts for the manifest (e.g. `sft_examples`, `position_bias_rate`).
        public var counts: [String: Double]
    }

    /// Refuses to resume `output` when it was started with other settings: the settings (configuration, constitution,
    /// input and model) are written to `<output without extension>.run.json` when a run starts, and a later run into a
    /// non-empty output must match them, so a resumed file never mixes two configurations.
    public static func checkResumable(output: URL, settings: [String: String]) throws {
        let record = recordURL(for: output)
        let hasItems = ((try? FileManager.default.attributesOfItem(atPath: output.path)[.size] as? NSNumber)?.intValue ?? 0) > 0
        if hasItems {
            guard let data = try? Data(contentsOf: record), let earlier = try? JSONDecoder().decode([String: String].self, from: data) else {
                throw ConstitutionalError("\(output.path) already has items but no \(record.lastPathComponent) saying how they were made; start afresh with --overwrite (or delete it), or choose another output")
            }
            let changed = Set(earlier.keys).union(settings.keys).filter { earlier[$0] != settings[$0] }.sorted()
            guard changed.isEmpty else {
                let changes = changed.map { describeChange($0, from: earlier[$0], to: settings[$0]) }
                throw ConstitutionalError("\(output.path) was started with other settings (changed: \(changes.joined(separator: "; ")); see \(record.lastPathComponent)); "
                                          + "resuming would mix them — start afresh with --overwrite (or delete it), or choose another output")
            }
            return
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        try FileManager.default.createDirectory(at: record.deletingLastPathComponent(), withIntermediateDirectories: true)
        try AtomicFile.write(try encoder.encode(settings), to: record)
    }

    /// One changed resume setting, named down to the configuration key: `configuration.rounds: 1 → 2`,
    /// `models: a → b`, `input_sha256 (the file's contents changed)`.
    static func describeChange(_ key: String, from old: String?, to new: String?) -> String {
        if key.hasSuffix("_sha256") { return "\(key) (the file's contents changed)" }
        guard key == "configuration", let old, let new,
              let before = try? JSONParser.parse(Data(old.utf8)), let after = try? JSONParser.parse(Data(new.utf8)) else {
            return "\(key): \(old ?? "unset") → \(new ?? "unset")"
        }
        let changes = differences(before, after, path: key)
        return changes.isEmpty ? key : changes.joined(separator: "; ")
    }

    /// "path.key: old → new" for every leaf that differs between two JSON values, descending into objects.
    static func differences(_ before: JSONValue?, _ after: JSONValue?, path: String) -> [String] {
        guard before != after else { return [] }
        if let before, let after, case .object = before, case .object = after {
            return Set(before.keys).union(after.keys).sorted().flatMap { differences(before[$0], after[$0], path: "\(path).\($0)") }
        }
        return ["\(path): \(before?.serialized() ?? "unset") → \(after?.serialized() ?? "unset")"]
    }

    /// `<output without extension>.run.json`: the settings a run into `output` started with.
    static func recordURL(for output: URL) -> URL {
        let base = output.deletingPathExtension()
        return base.deletingLastPathComponent().appendingPathComponent(base.lastPathComponent + ".run.json")
    }

    /// Deletes a run's output, its settings record and its failures file, so the next run into `output` starts
    /// afresh (`--overwrite`).
    public static func discardRun(output: URL) throws {
        for url in [output, recordURL(for: output), failuresURL(for: output)] where FileManager.default.fileExists(atPath: url.path) {
            try FileManager.default.removeItem(at: url)
        }
    }

    /// The settings that must match for a resume.
    static func settings<Configuration: Encodable>(_ configuration: Configuration, input: URL, constitution: Constitution?,
                                                   models: [any LanguageModel]) throws -> [String: String] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        var settings = ["configuration": String(decoding: try encoder.encode(configuration), as: UTF8.self),
                        "input_sha256": try SHA256.hex(file: input), "models": models.map(\.name).joined(separator: ", ")]
        if let constitution { settings["constitution_sha256"] = SHA256.hex(try constitution.yaml()) }
        return settings
    }

    /// Where a run's failures go: `<output without extension>.failures.jsonl`.
    public static func failuresURL(for output: URL) -> URL {
        let base = output.deletingPathExtension()
        return base.deletingLastPathComponent().appendingPathComponent(base.lastPathComponent + ".failures.jsonl")
    }

    /// SL-CAI: critique → revision for every prompt into `output` (the audit trail); then, when `sft` is given,
    /// the SFT dataset (optionally mixed with helpful data).
    public static func critique(prompts: URL, output: URL, failures: URL? = nil, constitution: Constitution, configuration: CritiqueConfiguration,
                                models: [any LanguageModel], run: RunOptions, sft: URL?, helpful: URL? = nil, helpfulRatio: Double = 0.5) async throws -> Outcome {
        let items = try InputFiles.prompts(prompts)
        let critic = try CritiqueRevision(constitution: constitution, configuration: configuration)
        let helpfulExamples = try helpful.map(SFTData.helpfulExamples)
        try checkResumable(output: output, settings: try settings(configuration, input: prompts, constitution: constitution, models: models))
        let log = try ItemLog(url: output)
        let failureLog = try FailureLog(url: failures ?? failuresURL(for: output))
        let report = try await ItemRunner(options: run, label: "critique").run(items.map { ($0.id, $0) }, workers: models, log: log, failures: failureLog) {
            try await critic.run($0, model: $1)
        }
        try log.sort(by: items.map(\.id))
        var counts: [String: Double] = ["items": Double(items.count), "failed": Double(report.failed)]
        if let sft {
            let records = try readRecords(RevisionRecord.self, from: output)
            var examples = try SFTData.examples(from: records)
            counts["revisions"] = Double(examples.count)
            if let helpfulExamples {
                let mixed = try SFTData.mix(examples, helpful: helpfulExamples, ratio: helpfulRatio, seed: configuration.seed)
                examples = mixed.examples
                counts["helpful_examples"] = Double(mixed.helpfulCount)
            }
            try SFTData.write(examples, to: sft)
            counts["sft_examples"] = Double(examples.count)
        }
        return Outcome(report: report, counts: counts)
    }

    /// Samples k responses per prompt into `output` (`SampleRecord` lines).
    public static func sample(prompts: URL, output: URL, failures: URL? = nil, configuration: SampleConfiguration,
                              models: [any LanguageModel], run: RunOptions) async throws -> Outcome {
        let items = try InputFiles.prompts(prompts)
        let sampler = try ResponseSampler(configuration: configuration)
        try checkResumable(output: output, settings: try settings(configuration, input: prompts, constitution: nil, models: models))
        let log = try ItemLog(url: output)
        let report = try await ItemRunner(options: run, label: "sample").run(
            items.map { ($0.id, $0) }, workers: models, log: log, failures: try FailureLog(url: failures ?? failuresURL(for: output))
        ) { try await sampler.run($0, model: $1) }
        try log.sort(by: items.map(\.id))
        var counts = ["items": Double(items.count), "responses": Double((items.count - report.failed) * configuration.k)]
        if configuration.k >= 2 {
            // Pairs no judge can decide because their texts are equal, and the redraws spent avoiding them.
            let records = try readRecords(SampleRecord.self, from: output)
            counts["prompts_with_identical_responses"] = Double(records.filter { Set($0.responses).count < $0.responses.count }.count)
            counts["redraws"] = Double(records.compactMap(\.redraws).joined().reduce(0, +))
        }
        return Outcome(report: report, counts: counts)
    }

    /// RLAIF: labels every pair into `output` (TRL preference lines with `chosen_probability` and the audit trail)
    /// and measures the position-bias rate over every principle asked in both orders.
    public static func label(pairs: URL, output: URL, failures: URL? = nil, constitution: Constitution, configuration: FeedbackConfiguration,
                             models: [any LanguageModel], run: RunOptions) async throws -> Outcome {
        let items = try InputFiles.pairs(pairs)
        let feedback = try AIFeedback(constitution: constitution, configuration: configuration)
        try checkResumable(output: output, settings: try settings(configuration, input: pairs, constitution: constitution, models: models))
        let log = try ItemLog(url: output)
        let report = try await ItemRunner(options: run, label: "label").run(
            items.map { ($0.id, $0) }, workers: models, log: log, failures: try FailureLog(url: failures ?? failuresURL(for: output))
        ) { try await feedback.label($0, model: $1) }
        try log.sort(by: items.map(\.id))
        let records = try readRecords(LabelRecord.self, from: output)
        let swapped = records.flatMap(\.judgements).filter { $0.orders.count == 2 }
        let rate = PreferenceLabel.positionBiasRate(swapped.map { ($0.orders[0].probabilityFirst, $0.orders[1].probabilityFirst) })
        let meanLabel = records.isEmpty ? 0 : records.map(\.chosenProbability).reduce(0, +) / Double(records.count)
        return Outcome(report: report, counts: ["items": Double(items.count), "labelled": Double(records.count), "failed": Double(report.failed),
                                                "position_bias_rate": rate, "judgements_both_orders": Double(swapped.count),
                                                "mean_chosen_probability": meanLabel])
    }

    /// Supervised fine-tuning of a local model on `dataset` (Alignment's `SFTTrainer` and `TrainingLoop`); the trained
    /// model is saved in `output` (a transformers folder). Resumes from the newest checkpoint in `output`.
    public static func sft(dataset: URL, model: URL, output: URL, configuration: SFTConfiguration, chatTemplate: String? = nil) throws -> TrainingLoop.Summary {
        var configuration = configuration
        configuration.training.outputDirectory = output.path
        let examples = try Dataset.load(dataset).examples
        let policy = try TrainableModel(directory: model)
        let encoder = try ExampleEncoder.load(directory: model, chatTemplate: chatTemplate)
        let trainer = try SFTTrainer(configuration: configuration, policy: policy, encoder: encoder, train: examples)
        // training_config.json records the effective keys (and bf16: true when the stage ran in bf16), as the other
        // trainers' stages do.
        return try TrainingLoop(arguments: configuration.training).run(
            trainer, resume: true, effectiveConfiguration: try TrainingRecipe(allowedKeys: SFTConfiguration.keys).effective(configuration))
    }

    /// Every line of a finished item file, decoded.
    public static func readRecords<Record: Decodable>(_ type: Record.Type, from url: URL) throws -> [Record] {
        let data = try Data(contentsOf: url)
        let decoder = JSONDecoder()
        return try data.split(separator: UInt8(ascii: "\n")).enumerated().map { index, line in
            do { return try decoder.decode(Record.self, from: Data(line)) } catch {
                throw ConstitutionalError("\(url.path):\(index + 1): not a \(Record.self) line (\(error))")
            }
        }
    }
}
