import Checksums
import Foundation

/// The record of a pipeline run (`manifest.json` in the run folder): the recipe, Charter's version, and per stage
/// its configuration, input hashes, cache key, status, timings and counts.
public struct PipelineManifest: Codable, Equatable, Sendable {
    public var name: String
    public var charterVersion: String
    public var recipeSHA256: String
    public var constitution: String
    public var stages: [StageManifest]

    enum CodingKeys: String, CodingKey {
        case name, charterVersion = "charter_version", recipeSHA256 = "recipe_sha256", constitution, stages
    }
}

public struct StageManifest: Codable, Equatable, Sendable {
    public var name: String
    public var type: String
    /// SHA-256 over the type, Charter's version, the stage's configuration and its input hashes: the cache key.
    public var key: String
    /// The stage's YAML (sorted keys).
    public var configuration: String
    /// Input → SHA-256 of its content (files), fingerprint (model folders) or the producing stage's key.
    public var inputs: [String: String]
    /// "running", "complete" or "failed".
    public var status: String
    public var started: String
    public var finished: String?
    public var seconds: Double?
    /// How many times the stage was started with this key (> 1 after resumes).
    public var attempts: Int
    public var counts: [String: Double]
    public var outputs: [String]
    public var error: String?
}
