import Alignment
import Foundation
import JSON
import LanguageModels
import Settings

/// The LoRA keys of a trainer recipe (TRL's `ModelConfig`: `use_peft`, `lora_r`, `lora_alpha`, `lora_dropout`,
/// `lora_target_modules`), typed and range-checked like every other recipe key: `lora_r: x` or `lora_r: 1.5` is an
/// error naming the key and the value, never a silent default.
struct LoRARecipe: KeyedSettings {
    var usePEFT = false
    /// nil: LoRA is off unless `use_peft` turns it on with rank 16 (TRL's default).
    var rank: Int?
    var alpha: Float = 32
    var dropout: Float = 0.05
    /// nil: PEFT's default modules for the architecture.
    var targetModules: LoRAConfiguration.TargetModules?

    init() {}

    /// TRL's defaults (r 16, alpha 32, dropout 0.05); ranges as `LoRAConfiguration`'s.
    static var fields: [SettingsField<Self>] {
        [.init("use_peft", \.usePEFT), .init("lora_r", \.rank, where: .from(1, to: LoRAConfiguration.maximumRank)),
         .init("lora_alpha", \.alpha, where: SettingsCheck.positive.and(.atMost(65_536))),
         .init("lora_dropout", \.dropout, where: .within(0..<1)), targetModulesField]
    }

    /// `lora_target_modules`: a list of names, `all-linear`, or names separated by commas (as the flag takes them).
    static var targetModulesField: SettingsField<Self> {
        let key = SettingsKey("lora_target_modules")
        return SettingsField(keys: [key.stringValue], read: { recipe, container in
            guard container.contains(key), try !container.decodeNil(forKey: key) else { return }
            if let names = try? container.decode([String].self, forKey: key) {
                recipe.targetModules = .names(names)
                return
            }
            let text = try SettingsField<Self>.decodeIfPresent(String.self, forKey: key, in: container) ?? ""
            recipe.targetModules = text == "all-linear" ? .allLinear : .names(text.split(separator: ",").map(String.init))
        }, write: { recipe, container in try container.encodeIfPresent(recipe.targetModules, forKey: key) })
    }

    /// The LoRA keys of `recipe`, decoded and range-checked.
    /// - Throws: `SettingsError` naming the key and the value.
    init(_ recipe: TrainingRecipe) throws {
        let object = JSONValue.object(try Self.keys.compactMap { key in
            try recipe[key].map { value in
                do { return JSONValue.Member(key, try JSONValue(foundation: value)) } catch let error as JSONConversionError {
                    throw SettingsError(key: key, message: "must be a number, text or list (got a value of type \(error.typeName))")
                }
            }
        })
        self = try JSONDecoder().decode(Self.self, from: Data(object.serialized().utf8))
        try checkRanges()
    }

    /// The adapter configuration asked for (`use_peft`, or any `lora_r`), or nil for full fine-tuning.
    var configuration: LoRAConfiguration? {
        guard usePEFT || rank != nil else { return nil }
        var configuration = LoRAConfiguration(rank: rank ?? 16, alpha: alpha, dropout: dropout)
        configuration.targetModules = targetModules
        return configuration
    }
}
