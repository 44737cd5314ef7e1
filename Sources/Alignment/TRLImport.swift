import Foundation
import JSON
import LanguageModels

/// `charter import trl`: a TRL config as a Charter recipe that trains the same way. Charter reads TRL's keys
/// directly (`charter dpo --config trl.yaml` runs), but a key the config leaves out takes each tool's own default,
/// and a few of Charter's differ from TRL's (`num_train_epochs` 1 against 3, SFT's `assistant_only_loss`): the
/// import writes TRL's default for each of those, so the recipe means in Charter what the config meant in TRL.
public struct TRLImport {
    /// The recipe's keys and values: the config's own, then TRL's defaults where Charter's differ.
    public private(set) var values: [String: Any]
    /// One line per default filled in.
    public private(set) var notes: [String] = []

    /// - Parameters:
    ///   - config: the TRL config read as a Charter recipe of `trainer` (foreign keys noted, unknown keys refused).
    ///   - charterDefaults: the trainer's effective recipe with no key set (Charter's defaults).
    /// - Throws: `TrainingError.data` for a trainer TRL has no defaults for, or a `dataset_name` that is not a local
    ///   file or folder (a Hub id).
    public init(trainer: String, config: TrainingRecipe, charterDefaults: [String: Any]) throws {
        guard let text = TRLConfigKeys.defaultsJSON[trainer], let parsed = try? JSONParser.parse(Data(text.utf8)),
              let trl = parsed.foundationValue as? [String: Any] else {
            throw TrainingError.data("no TRL \(TRLConfigKeys.version) defaults for \(trainer); TRL's scripts are \(TRLConfigKeys.trainerKeys.keys.sorted().joined(separator: ", "))")
        }
        if let dataset = config["dataset_name"] as? String, !FileManager.default.fileExists(atPath: dataset) {
            let folder = dataset.split(separator: "/").last.map(String.init) ?? "data"
            throw TrainingError.data("dataset_name \(dataset) is not a local file or folder, and Charter downloads no Hub datasets; save it as JSON Lines first (python3 -c 'from datasets import load_dataset; load_dataset(\"\(dataset)\")[\"train\"].to_json(\"\(folder)/train.jsonl\")') and give dataset_name: \(folder)")
        }
        values = config.values
        // An exported charter_rewards.NAME is Charter's reward of that kind; TRL's own reward functions are not.
        if let names = values[BuiltInRewards.recipeKey].map(BuiltInRewards.names) {
            values[BuiltInRewards.recipeKey] = try names.map { name -> String in
                switch name {
                case "\(TRLExport.rewardModule).exact_match": return "exact-match"
                case "\(TRLExport.rewardModule).length": return "length"
                default:
                    throw TrainingError.data("reward_funcs: \(name) has no Charter equivalent; Charter's rewards are exact-match, length, cmd:PROGRAM ARGS and http(s):// URLs (a charter_rewards.command or .http function: give its command or URL again)")
                }
            }
        }
        // A chat_template_path holding a built-in format's template is that format.
        if let path = values["chat_template_name"] as? String, path.hasSuffix(".jinja") || path.hasSuffix(".j2"),
           let template = try? ChatTemplate(named: path), template.jinjaSource != nil {
            values["chat_template_name"] = template.name
            notes.append("chat_template_path: \(path) is the built-in chat format \(template.name): chat_template_name: \(template.name)")
        }
        // Settings that change memory and speed, not what is computed, keep Charter's default (TRL turns gradient
        // checkpointing on by default; on a CPU it costs a forward pass per block).
        let resultNeutral: Set = ["gradient_checkpointing"]
        for key in charterDefaults.keys.sorted() where values[key] == nil && !resultNeutral.contains(key) {
            guard let trlDefault = trl[key], !(trlDefault is NSNull), let charterDefault = charterDefaults[key] else { continue }
            guard Self.normalised(trlDefault) != Self.normalised(charterDefault) else { continue }
            values[key] = trlDefault
            notes.append("\(key): \(TRLExport.yamlValue(trlDefault)) (TRL's default; Charter's is \(TRLExport.yamlValue(charterDefault)))")
        }
    }

    /// The recipe as YAML (keys sorted; values typed as PyYAML and Yams read them back).
    public var yaml: String {
        values.keys.sorted().map { "\($0): \(TRLExport.yamlValue(values[$0]!))" }.joined(separator: "\n") + "\n"
    }

    /// A value in a form that compares equal across tools: numbers as Double, a one-element list as its element.
    static func normalised(_ value: Any) -> String {
        switch value {
        case let list as [Any] where list.count == 1: return normalised(list[0])
        case let list as [Any]: return "[" + list.map(normalised).joined(separator: ",") + "]"
        case let flag as Bool: return flag ? "true" : "false"
        case let number as Int: return "\(Double(number))"
        case let number as Double: return "\(number)"
        case let number as Float: return "\(Double("\(number)") ?? Double(number))"
        case is NSNull: return "null"
        default: return "\(value)"
        }
    }
}
