import ArgumentParser
import Foundation
import LanguageModels
import Probes

/// `--probe DIR --on-trigger halt|refuse`: a trained probe watching generation (shared by generate and serve).
struct SafetyCircuitOptions: ParsableArguments {
    enum Action: String, ExpressibleByArgument, CaseIterable {
        /// Stop and keep what was generated before the trigger (finish_reason "content_filter").
        case halt
        /// Stop and replace the output with the refusal text.
        case refuse
    }

    @Option(help: "A probe folder (charter probe train) that watches the generation and stops it when its score reaches the probe's threshold.")
    var probe: String?
    @Option(help: "What a trigger does: halt (keep the text so far, finish_reason content_filter) or refuse (replace it with --refusal).")
    var onTrigger: Action = .halt
    @Option(help: "What the probe scores: prompt, tokens (each generated token), or both (default: prompt for a probe trained on prompts, tokens for one trained on responses).")
    var probeWatch: String?
    @Option(help: "The text that replaces a triggered output with --on-trigger refuse.")
    var refusal = "I can't help with that."

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
