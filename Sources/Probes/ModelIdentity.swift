import Foundation
import LanguageModels
import Tensors

/// What a probe or an activation set was made with, so that using it on another model is an error, not noise.
///
/// Besides the sizes it keeps a functional fingerprint: the first values of the last hidden state for a fixed
/// 8-token input. Two models with different weights (a fine-tune of the same base, another seed) give different
/// fingerprints; the same weights give the same one on every kernel path up to rounding.
public struct ModelIdentity: Codable, Equatable, Sendable {
    /// The model folder's name (informational).
    public var name: String
    public var architecture: String
    public var hiddenSize: Int
    public var layerCount: Int
    public var vocabularySize: Int
    public var fingerprint: [Float]

    enum CodingKeys: String, CodingKey {
        case name, architecture, hiddenSize = "hidden_size", layerCount = "num_hidden_layers", vocabularySize = "vocab_size", fingerprint
    }

    public init(name: String, architecture: String, hiddenSize: Int, layerCount: Int, vocabularySize: Int, fingerprint: [Float]) {
        (self.name, self.architecture, self.hiddenSize) = (name, architecture, hiddenSize)
        (self.layerCount, self.vocabularySize, self.fingerprint) = (layerCount, vocabularySize, fingerprint)
    }

    /// Measures `model`'s identity (one forward pass over 8 tokens).
    public init(model: any CausalLanguageModel, name: String) {
        let ids = (0..<8).map { Int32(($0 * 7 + 1) % model.vocabularySize) }
        let output = withoutGradients {
            model.forward(ModelInput(ids: ids, batch: 1, time: ids.count, outputHiddenStates: true), cache: nil)
        }
        let last = output.hiddenStates[output.hiddenStates.count - 1]  // (1, T, C)
        let hiddenSize = last.shape[2]
        let values = last.scalars
        self.init(name: name, architecture: String(describing: type(of: model)), hiddenSize: hiddenSize, layerCount: model.layerCount,
                  vocabularySize: model.vocabularySize, fingerprint: Array(values[(values.count - hiddenSize)...].prefix(16)))
    }

    /// Throws unless `other` (the model at hand) is the model this identity describes.
    /// - Parameter file: the probe or activation file, named in the error.
    public func check(against other: ModelIdentity, file: String) throws {
        func mismatch(_ field: String, _ expected: String, _ found: String) -> ProbeError {
            .modelMismatch(file: file, field: field, expected: expected, found: found)
        }
        if hiddenSize != other.hiddenSize { throw mismatch("hidden size", "\(hiddenSize)", "\(other.hiddenSize)") }
        if layerCount != other.layerCount { throw mismatch("layer count", "\(layerCount)", "\(other.layerCount)") }
        if vocabularySize != other.vocabularySize { throw mismatch("vocabulary size", "\(vocabularySize)", "\(other.vocabularySize)") }
        if architecture != other.architecture { throw mismatch("architecture", architecture, other.architecture) }
        let largest = fingerprint.map(abs).max() ?? 0
        let difference = zip(fingerprint, other.fingerprint).map { abs($0 - $1) }.max() ?? 0
        if fingerprint.count != other.fingerprint.count || difference > 1e-3 * (1 + largest) {
            throw mismatch("weights", "fingerprint of \(name)", "different weights (\(other.name): fingerprint differs by \(difference))")
        }
    }
}
