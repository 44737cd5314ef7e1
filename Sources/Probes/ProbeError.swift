import Foundation

/// A probe, activation set or labelled file that cannot be used as given; the message says what, where and what to do.
public enum ProbeError: Error, Equatable, CustomStringConvertible {
    /// A line of a labelled JSONL file lacks a usable field.
    case badExample(file: String, line: Int, field: String, reason: String)
    /// The probe or activations were made with a different model than the one given.
    case modelMismatch(file: String, field: String, expected: String, found: String)
    /// A requested layer is not among the model's hidden states (0 = embeddings … layerCount) or the collected ones.
    case layerOutOfRange(layer: Int, available: String)
    /// A probe.json / activations.json / safetensors file is missing or malformed.
    case badFile(file: String, reason: String)
    /// The data cannot train or evaluate a probe (one class only, too few examples).
    case unusableData(reason: String)

    public var description: String {
        switch self {
        case let .badExample(file, line, field, reason):
            return "\(file):\(line): field \"\(field)\" \(reason)"
        case let .modelMismatch(file, field, expected, found):
            return "\(file) was made for a model with \(field) \(expected), but the model given has \(found); "
                + "collect activations and train the probe on this model (charter probe collect/train --model …)"
        case let .layerOutOfRange(layer, available):
            return "layer \(layer) does not exist: the available hidden states are \(available) "
                + "(0 = embeddings, i = output of block i)"
        case let .badFile(file, reason):
            return "\(file): \(reason)"
        case let .unusableData(reason):
            return reason
        }
    }
}
