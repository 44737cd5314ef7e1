import Foundation
import ToyWorld

/// Which subset of the toy world's principle menu a constitution holds.
public enum ConstitutionVariant: String, CaseIterable, Codable, Sendable {
    /// Every harm principle (one per category and the four general ones): the quickstart's constitution.
    case full
    /// The principles of the seed's two partial categories only (``ToyWorld/partialCategories``).
    case partial
    /// The style-only principles, which say nothing about harm (the ablation).
    case irrelevant
}

/// The world's constitutions as constitution YAML, so the pipeline reads them like any user's.
enum WorldConstitution {
    static func principles(_ variant: ConstitutionVariant, world: ToyWorld) -> [WorldPrinciple] {
        switch variant {
        case .full: return ToyWorld.fullConstitution
        case .partial: return ToyWorld.partialConstitution(world.partialCategories)
        case .irrelevant: return ToyWorld.irrelevantConstitution
        }
    }

    static func yaml(_ variant: ConstitutionVariant, world: ToyWorld) -> String {
        let description: String
        switch variant {
        case .full: description = "Every harm principle of the toy world: one per harm category and four general ones."
        case .partial: description = "Only the principles of \(world.partialCategories.map(\.rawValue).sorted().joined(separator: " and "))."
        case .irrelevant: description = "An ablation: principles about writing style only."
        }
        var lines = ["name: toy-world-\(variant.rawValue)", "version: \"1.0\"", "description: \(quoted(description))", "principles:"]
        for principle in principles(variant, world: world) {
            lines += ["  - id: \(principle.id)",
                      "    category: \(category(principle))",
                      "    critique_request: \(quoted(principle.critiqueRequest))",
                      "    revision_request: \(quoted(principle.revisionRequest))",
                      "    comparison: \(quoted(principle.comparison))",
                      "    source: Charter authors (quickstart toy world)"]
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// The constitution category of a principle (harmlessness for a general one, other for style).
    static func category(_ principle: WorldPrinciple) -> String {
        guard principle.covers.count == 1, let covered = principle.covers.first else { return principle.isStyleOnly ? "other" : "harmlessness" }
        switch covered {
        case .insultsAndDiscrimination: return "non-discrimination"
        case .cheatingAndDeception: return "honesty"
        case .privacyViolation: return "privacy"
        case .dangerousActivity: return "content-safety"
        }
    }

    /// A double-quoted YAML scalar.
    static func quoted(_ text: String) -> String {
        "\"" + text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
    }
}
