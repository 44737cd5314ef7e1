import Foundation
import Settings

/// A model configuration read from config.json that is checked before any weight is allocated: its values
/// (`validate()`: ranges declared on the `fields`, relations between fields), and the tensors it implies
/// (`checkpointLayout()`), which are compared with the checkpoint's header and give the memory estimate.
protocol CheckpointConfiguration: KeyedSettings {
    /// Keys that set a size (vocab_size, hidden_size, …). An absent one takes transformers' default, which is
    /// pointed out in every error message, since those defaults (4096 wide, 32 layers) are far from a small model.
    static var sizeKeys: [String] { get }
    /// Rows of the token embedding: every id the tokenizer produces must be below it.
    var vocabularySize: Int { get }
    /// Every field in its range and the fields consistent with each other.
    /// - Throws: `SettingsError` naming the key and the value.
    func validate() throws
    /// The checkpoint tensors this configuration implies, in transformers' naming (a causal LM with its head).
    func checkpointLayout() -> CheckpointLayout
}

extension SettingsCheck where Value == Int {
    /// A tensor dimension or count: a whole number from 1 to 2³¹ − 1. Larger values are typos, and bounding them
    /// keeps every product of two dimensions exact; the memory check refuses far smaller models anyway.
    static var dimension: Self {
        Self { (1...Int(Int32.max)).contains($0) ? nil : "must be a whole number from 1 to \(Int32.max)" }
    }
}

extension SettingsCheck where Value == Float {
    /// A normalisation epsilon: finite and not negative.
    static var epsilon: Self { Self { $0.isFinite && $0 >= 0 ? nil : "must be a finite number ≥ 0" } }
}

extension CheckpointConfiguration {
    /// Throws `SettingsError(key:message:)` unless `condition` holds.
    static func require(_ condition: Bool, _ key: String, _ message: @autoclosure () -> String) throws {
        if !condition { throw SettingsError(key: key, message: message()) }
    }
}
