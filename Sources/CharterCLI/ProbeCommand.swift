import ArgumentParser
import Foundation
import JSON
import LanguageModels
import Probes
import Runtime

/// `charter probe collect|train|eval`: linear probes on a model's hidden states.
struct ProbeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "probe",
        abstract: "Activation probes: collect hidden states of labelled texts, train a probe on every layer, evaluate it.",
        subcommands: [Collect.self, Train.self, Evaluate.self])

    struct Collect: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Run the model over labelled texts and stream the chosen layers' hidden states to safetensors shards.")
        @OptionGroup var model: ModelOptions
        @Option(help: "A .jsonl(.gz) file: \"text\" (or \"prompt\" + optional \"response\"), \"label\" (true/false or 1/0), optional \"group\" and \"split\" (train|held-out).")
        var data: String
        @Option(help: "Hidden states to keep: all, or a comma list (0 = embeddings, i = output of block i).") var layers = "all"
        @Option(help: "Rows per text: last (last token), mean (over the scored tokens), each-token (one row per scored token). Responses are the scored tokens when given.")
        var position: ActivationPosition = .last
        @Option(help: "Folder for activations.json and the shards.") var output: String

        func run() throws {
            let (network, tokenizer) = try model.load()
            let identity = ModelIdentity(model: network, name: URL(fileURLWithPath: model.model).lastPathComponent)
            let chosen = try parseLayers(layers, layerCount: network.layerCount)
            let source = URL(fileURLWithPath: data)
            let examples = try LabelledText.read(source)
            let collector = try ActivationCollector(model: network, tokenizer: tokenizer, identity: identity, layers: chosen, position: position)
            let progress = ProgressLine(label: "probe collect", total: examples.count, unit: "texts")
            let set = try collector.collect(examples, source: source, into: URL(fileURLWithPath: output)) { progress.update($0) }
            progress.finish()
            let rows = set.shards.reduce(0) { $0 + $1.rows }
            print("\(output): \(rows) rows of \(chosen.count) layer(s) × \(identity.hiddenSize) from \(examples.count) texts in \(set.shards.count) shard(s)")
        }
    }

    struct Train: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Fit logistic regression and the difference-of-means direction on every collected layer; keep the best held-out AUROC.")
        @Argument(help: "An activations folder from charter probe collect.") var activations: String
        @Option(help: "Folder for probe.json, probe.safetensors and report.html (held-out AUROC by layer and method).") var output: String
        @Option(help: "Layers to sweep: all (every collected one) or a comma list.") var layers = "all"
        @Option(help: "Methods: logistic, difference-of-means, or both.") var method = "both"
        @Option(help: "L2 penalty λ of the logistic regression.") var penalty = 1e-2
        @Option(help: "Fraction of held-out negatives allowed to trigger; sets the threshold.") var targetFalsePositiveRate = 0.05
        @Option(help: "Fraction of groups held out when the data has no split field.") var heldOutFraction = 0.25
        @Option(help: "Seed of the held-out split.") var seed: UInt64 = 0

        func validate() throws {
            guard (0..<1).contains(targetFalsePositiveRate) else { throw ValidationError("--target-false-positive-rate must be in [0, 1)") }
            guard heldOutFraction > 0 && heldOutFraction < 1 else { throw ValidationError("--held-out-fraction must be in (0, 1)") }
            guard penalty >= 0 else { throw ValidationError("--penalty must be non-negative") }
        }

        func run() throws {
            let folder = URL(fileURLWithPath: activations)
            let set = try ActivationSet.read(folder)
            var trainer = ProbeTrainer()
            if layers != "all" {
                trainer.layers = try parseLayers(layers, layerCount: set.model.layerCount)
            }
            switch method {
            case "both": trainer.methods = Probe.Method.allCases
            default:
                guard let one = Probe.Method(rawValue: method) else {
                    throw ValidationError("--method must be logistic, difference-of-means or both, not \(method)")
                }
                trainer.methods = [one]
            }
            trainer.regression.penalty = penalty
            trainer.targetFalsePositiveRate = targetFalsePositiveRate
            trainer.heldOutFraction = heldOutFraction
            trainer.seed = seed
            let probe = try trainer.train(set, folder: folder) { print($0) }
            try probe.save(to: URL(fileURLWithPath: output))
            try ProbeReport.training(probe.description, activations: activations).write(to: URL(fileURLWithPath: output))
            let d = probe.description
            print("\(output): layer \(d.layer), \(d.method.rawValue), "
                  + String(format: "held-out AUROC %.4f; threshold %.4f (held-out TPR %.3f at FPR %.3f, target %.3f)",
                           d.metrics.auroc, d.threshold, d.truePositiveRate, d.falsePositiveRate, d.targetFalsePositiveRate))
        }
    }

    struct Evaluate: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "eval",
            abstract: "Score a labelled set with a probe: AUROC, accuracy, calibration error, and the rates at its threshold.")
        @Argument(help: "A probe folder from charter probe train.") var probe: String
        @Option(help: "An activations folder collected from the same model at the probe's position.") var activations: String
        @Option(help: "Write one JSON line per example (line, label, score, triggered) here.") var scores: String?
        @Option(help: "Write report.html (the metrics and the score histograms of positives and negatives) into this folder.") var report: String?

        func run() throws {
            let loaded = try Probe.load(from: URL(fileURLWithPath: probe))
            let folder = URL(fileURLWithPath: activations)
            let set = try ActivationSet.read(folder)
            let result = try loaded.evaluate(set, folder: folder)
            let threshold = loaded.description.threshold
            let positives = zip(result.scores, result.labels).filter { $0.1 }, negatives = zip(result.scores, result.labels).filter { !$0.1 }
            let truePositiveRate = Double(positives.filter { $0.0 >= threshold }.count) / Double(max(1, positives.count))
            let falsePositiveRate = Double(negatives.filter { $0.0 >= threshold }.count) / Double(max(1, negatives.count))
            if let scores {
                var text = ""
                for (example, score) in zip(set.examples, result.scores) {
                    let line: JSONValue = ["line": .integer(example.line), "label": .bool(example.label), "score": .numeric(score),
                                           "triggered": .bool(score >= threshold)]
                    text += line.serialized(.compactLines) + "\n"
                }
                try AtomicFile.write(Data(text.utf8), to: URL(fileURLWithPath: scores))
            }
            if let report {
                try FileManager.default.createDirectory(at: URL(fileURLWithPath: report), withIntermediateDirectories: true)
                try ProbeReport.evaluation(loaded.description, activations: activations, scores: result.scores, labels: result.labels)
                    .write(to: URL(fileURLWithPath: report))
            }
            printJSONLine(["auroc": .numeric(result.metrics.auroc), "accuracy": .numeric(result.metrics.accuracy),
                           "calibration_error": .numeric(result.metrics.calibrationError), "positives": .integer(result.metrics.positives),
                           "negatives": .integer(result.metrics.negatives), "threshold": .numeric(threshold),
                           "true_positive_rate": .numeric(truePositiveRate), "false_positive_rate": .numeric(falsePositiveRate)])
        }
    }
}

extension ActivationPosition: ExpressibleByArgument {}

/// "all" or a comma list of hidden-state indices, each checked against 0...layerCount.
func parseLayers(_ text: String, layerCount: Int) throws -> [Int] {
    if text == "all" { return Array(0...layerCount) }
    return try text.split(separator: ",").map { part in
        guard let layer = Int(part.trimmingCharacters(in: .whitespaces)) else {
            throw ValidationError("--layers must be all or a comma list of integers, not \(text)")
        }
        guard (0...layerCount).contains(layer) else {
            throw ProbeError.layerOutOfRange(layer: layer, available: "0...\(layerCount) for this \(layerCount)-block model")
        }
        return layer
    }
}
