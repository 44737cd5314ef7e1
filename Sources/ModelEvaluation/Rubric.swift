import Foundation
import Settings
import Yams

/// A holistic rubric: named dimensions, each with the question a judge model answers about a response on a 1–5 scale.
///
/// YAML:
///
///     name: flourishing
///     source: "Hilliard et al. 2025, Measuring AI Alignment with Human Flourishing (arXiv:2507.07787)"
///     dimensions:
///       - id: character
///         name: Character and Virtue
///         question: How well does the assistant's last response …?
public struct Rubric: Codable, Equatable, Sendable {
    public struct Dimension: Codable, Equatable, Sendable {
        public var id: String
        public var name: String
        public var question: String
        public init(id: String, name: String, question: String) {
            self.id = id
            self.name = name
            self.question = question
        }
    }

    public var name: String
    public var source: String?
    public var dimensions: [Dimension]

    /// The rubric a `--rubric` value names: `flourishing` (the shipped ``flourishing`` set) or a YAML file.
    public static func load(_ specification: String) throws -> Rubric {
        if specification == "flourishing" { return try flourishing }
        let text: String
        do { text = try String(contentsOfFile: specification, encoding: .utf8) } catch {
            throw EvaluationError("\(specification): cannot read the rubric (\(error.localizedDescription)); give a YAML file or 'flourishing'")
        }
        return try parse(text, file: specification)
    }

    /// Parses rubric YAML.
    /// - Throws: ``EvaluationError`` naming the file and the field (`dimensions[2].question`) and what it must be.
    public static func parse(_ text: String, file: String) throws -> Rubric {
        let value: Any?
        do {
            try YAMLPrecheck.check(text, file: file)
            value = try Yams.load(yaml: text)
        } catch {
            throw EvaluationError("\(file): not valid YAML (\(error))")
        }
        guard let mapping = value as? [String: Any] else {
            throw EvaluationError("\(file): expected a mapping with name and dimensions (a list of {id, name, question})")
        }
        let known: Set<String> = ["name", "source", "dimensions"]
        if let unknown = mapping.keys.filter({ !known.contains($0) }).sorted().first {
            throw EvaluationError("\(file): \(unknown): unknown key (a rubric has name, source and dimensions)")
        }
        guard let name = mapping["name"] as? String, !name.isEmpty else { throw EvaluationError("\(file): name: missing (a string)") }
        guard let list = mapping["dimensions"] as? [Any], !list.isEmpty else {
            throw EvaluationError("\(file): dimensions: missing or empty (a list of {id, name, question})")
        }
        var seen = Set<String>()
        let dimensions = try list.enumerated().map { index, item -> Dimension in
            guard let entry = item as? [String: Any] else { throw EvaluationError("\(file): dimensions[\(index)]: expected a mapping {id, name, question}") }
            func field(_ key: String) throws -> String {
                guard let text = entry[key] as? String, !text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
                    throw EvaluationError("\(file): dimensions[\(index)].\(key): missing (a non-empty string)")
                }
                return text.trimmingCharacters(in: .whitespacesAndNewlines)
            }
            if let unknown = entry.keys.filter({ !["id", "name", "question"].contains($0) }).sorted().first {
                throw EvaluationError("\(file): dimensions[\(index)].\(unknown): unknown key (a dimension has id, name and question)")
            }
            let dimension = Dimension(id: try field("id"), name: try field("name"), question: try field("question"))
            guard seen.insert(dimension.id).inserted else { throw EvaluationError("\(file): dimensions[\(index)].id: \"\(dimension.id)\" appears twice") }
            return dimension
        }
        return Rubric(name: name, source: mapping["source"] as? String, dimensions: dimensions)
    }
}
