import ArgumentParser
import Foundation
import LanguageModels
import Probes

/// `--probe DIR --on-trigger halt|refuse|steer`: a trained probe watching generation (shared by generate and serve), and
/// `--steer DIR`: activation steering along a probe's direction, from the first token or from a trigger on.
struct SafetyCircuitOptions: ParsableArguments {
    enum Action: String, ExpressibleByArgument, CaseIterable {
        /// Stop and keep what was generated before the trigger (finish_reason "content_filter").
        case halt
        /// Stop and replace the output with the refusal text.
        case refuse
        /// Go on, steered (`--steer-alpha` or `--steer-ablate`) from the next token.
        case steer
    }

    @Option(help: "A probe folder (charter probe train) that watches the generation and stops it when its score reaches the probe's threshold.")
    var probe: String?
    @Option(help: "What a trigger does: halt (keep the text so far, finish_reason content_filter), refuse (replace it with --refusal) or steer (go on steered along --steer's direction from the next token).")
    var onTrigger: Action = .halt
    @Option(help: "What the probe scores: prompt, tokens (each generated token), or both (default: prompt for a probe trained on prompts, tokens for one trained on responses).")
    var probeWatch: String?
    @Option(help: "The text that replaces a triggered output with --on-trigger refuse.")
    var refusal = "I can't help with that."
    @Option(help: "A probe folder whose direction steers the residual stream (its layer unless --steer-layers): from the first token, or with --on-trigger steer from a trigger on (default there: --probe's direction).")
    var steer: String?
    @Option(help: "Hidden states to steer, comma-separated (transformers' convention: 0 the embeddings, i the output of block i); default: the probe's layer.")
    var steerLayers: String?
    @Option(help: "Steering strength α: adds α × the unit direction (negative: away from it).")
    var steerAlpha: Float?
    @Flag(help: "Remove the direction's component instead of adding to it (directional ablation, Arditi et al. 2024).")
    var steerAblate = false

    /// The steering of every sequence from the first token (`always`) and of a sequence from its trigger on
    /// (`onTrigger`), for `model`.
    /// - Throws: `ValidationError` for flags that do not fit together, ``ProbeError`` for a probe made for another
    ///   model, `SteeringError` for a layer the model lacks.
    func steering(for model: any CausalLanguageModel, modelPath: String) throws -> (always: ActivationSteering?, onTrigger: ActivationSteering?) {
        let steers = onTrigger == .steer
        if steers && probe == nil { throw ValidationError("--on-trigger steer needs --probe (the probe that triggers)") }
        guard let folder = steer ?? (steers ? probe : nil) else {
            if steerAlpha != nil || steerAblate || steerLayers != nil {
                throw ValidationError("--steer-alpha, --steer-ablate and --steer-layers need --steer DIR or --on-trigger steer")
            }
            return (nil, nil)
        }
        let operation: ActivationSteering.Operation
        switch (steerAlpha, steerAblate) {
        case (let alpha?, false): operation = .add(alpha)
        case (nil, true): operation = .ablate
        default: throw ValidationError("steering needs exactly one of --steer-alpha A and --steer-ablate")
        }
        let url = URL(fileURLWithPath: folder)
        let loaded = try Probe.load(from: url)
        try loaded.check(model: ModelIdentity(model: model, name: URL(fileURLWithPath: modelPath).lastPathComponent), folder: url)
        var layers: Set<Int> = [loaded.description.layer]
        if let steerLayers {
            layers = Set(try steerLayers.split(separator: ",").map { part -> Int in
                guard let layer = Int(part.trimmingCharacters(in: .whitespaces)) else {
                    throw ValidationError("--steer-layers: \(String(part).debugDescription) is not a layer number (give e.g. 2,3)")
                }
                return layer
            })
        }
        let steering = try ActivationSteering(direction: loaded.scorer.direction, layers: layers, operation: operation)
        try steering.check(hiddenSize: loaded.scorer.hiddenSize, layerCount: model.layerCount)
        return steers ? (nil, steering) : (steering, nil)
    }

    /// The monitor for `model`, or nil without --probe.
    /// - Throws: ``ProbeError`` when the probe was made for another model or reads a layer this model lacks.
    func monitor(for model: any CausalLanguageModel, modelPath: String) throws -> ProbeMonitor? {
        guard let probe else { return nil }
        return try Self.monitor(probe: probe, watch: probeWatch, for: model, modelPath: modelPath)
    }

    /// The monitor of the probe folder `probe` for `model` (also `charter serve --probe`).
    static func monitor(probe: String, watch probeWatch: String?, for model: any CausalLanguageModel, modelPath: String) throws -> ProbeMonitor {
        var watch: ProbeMonitor.Watch?
        if let probeWatch {
            guard let value = ProbeMonitor.Watch(rawValue: probeWatch) else {
                throw ValidationError("--probe-watch must be prompt, tokens or both, not \(probeWatch)")
            }
            watch = value
        }
        let folder = URL(fileURLWithPath: probe)
        let loaded = try Probe.load(from: folder)
        try loaded.check(model: ModelIdentity(model: model, name: URL(fileURLWithPath: modelPath).lastPathComponent), folder: folder)
        return ProbeMonitor(probe: loaded, watch: watch)
    }

    /// The text to show for `result`: the refusal when the circuit stopped it and the action is refuse.
    func text(of result: GeneratedSequence) -> String {
        result.finishReason == .contentFilter && onTrigger == .refuse ? refusal : result.text ?? ""
    }

    /// Logs a trigger on standard error.
    func log(_ trigger: ProbeMonitor.Trigger, item: String) { Self.log(trigger, item: item, action: onTrigger.rawValue) }

    static func log(_ trigger: ProbeMonitor.Trigger, item: String, action: String) {
        let place = trigger.tokenIndex.map { "at generated token \($0)" } ?? "on the prompt"
        let message = "probe: \(item) triggered \(place) (score \(String(format: "%.4f", trigger.score)) ≥ threshold) → \(action)\n"
        FileHandle.standardError.write(Data(message.utf8))
    }
}
