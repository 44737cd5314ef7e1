import Foundation
import Settings
import Yams

/// What `charter clean` does with a pair, per kind of finding, read from a YAML file:
///
/// ```yaml
/// actions:                 # finding kind → drop | flip | soften | tie | keep (kinds not listed: keep)
///   exact_duplicate: drop
///   contradiction: soften
///   low_confidence: tie
/// soften_to: 0.75          # chosen_probability for `soften` when the finding has no vote share (default 0.75)
/// ```
///
/// A pair with several findings gets the strongest of their actions: drop, then flip, tie, soften, keep.
public struct CleaningPolicy: Sendable, Equatable {
    /// What to do with a pair.
    public enum Action: String, Sendable, CaseIterable, Comparable {
        /// Remove the pair.
        case drop
        /// Swap chosen and rejected (for contradictions and annotator disagreement: only pairs on the minority side).
        case flip
        /// Mark as a tie: `chosen_probability` ½.
        case tie
        /// Replace the label with a soft label: the share of judgements agreeing with it (contradictions, annotator
        /// disagreement), else ``CleaningPolicy/softenTo`` (never raising a lower existing `chosen_probability`).
        case soften
        /// Leave the pair as it is.
        case keep

        /// Lower is stronger.
        public static func < (lhs: Action, rhs: Action) -> Bool {
            (allCases.firstIndex(of: lhs) ?? 0) < (allCases.firstIndex(of: rhs) ?? 0)
        }
    }

    /// The action per finding kind (kinds absent: keep).
    public var actions: [Finding.Kind: Action]
    /// `chosen_probability` for `soften` without a vote share.
    public var softenTo: Double

    public init(actions: [Finding.Kind: Action] = [:], softenTo: Double = 0.75) {
        self.actions = actions
        self.softenTo = softenTo
    }

    /// The action for a pair with these findings.
    public func action(for kinds: [Finding.Kind]) -> Action {
        kinds.map { actions[$0] ?? .keep }.min() ?? .keep
    }

    /// Reads a policy file.
    /// - Throws: ``AuditError`` naming the file, line and field.
    public static func load(_ url: URL) throws -> CleaningPolicy {
        let text: String
        do {
            text = try String(contentsOf: url, encoding: .utf8)
        } catch {
            throw AuditError("\(url.path): cannot read the policy (\(error.localizedDescription))")
        }
        return try parse(text, file: url.path)
    }

    /// Parses policy YAML; `file` names the source in errors.
    /// - Throws: ``AuditError`` naming `file:line` and the field, e.g. `policy.yaml:3: actions.contradiction: …`.
    public static func parse(_ text: String, file: String) throws -> CleaningPolicy {
        let root: Node?
        do {
            try YAMLPrecheck.check(text, file: file)
            root = try Yams.compose(yaml: text)
        } catch let error as YAMLLimitError {
            throw AuditError("\(error)")
        } catch {
            throw AuditError("\(file): not valid YAML: \(error)")
        }
        func fail(_ node: Node, _ field: String, _ reason: String) -> AuditError {
            AuditError("\(file)\(node.mark.map { ":\($0.line)" } ?? ""): \(field): \(reason)")
        }
        guard let root, let mapping = root.mapping else {
            throw AuditError("\(file): expected a mapping with \"actions\" (finding → drop, flip, soften, tie or keep) and optionally \"soften_to\"")
        }
        var policy = CleaningPolicy()
        let kinds = Finding.Kind.allCases.map(\.rawValue).joined(separator: ", ")
        let actionNames = Action.allCases.map(\.rawValue).joined(separator: ", ")
        for (key, value) in mapping {
            switch key.string {
            case "actions":
                guard let actions = value.mapping else { throw fail(value, "actions", "expected a mapping of finding → action") }
                for (kindNode, actionNode) in actions {
                    let name = kindNode.string ?? ""
                    guard let kind = Finding.Kind(rawValue: name) else {
                        throw fail(kindNode, "actions.\(name)", "unknown finding; known findings: \(kinds)")
                    }
                    guard let action = actionNode.string.flatMap(Action.init(rawValue:)) else {
                        throw fail(actionNode, "actions.\(name)", "unknown action \"\(actionNode.string ?? "")\"; use \(actionNames)")
                    }
                    policy.actions[kind] = action
                }
            case "soften_to":
                guard let probability = value.string.flatMap(Double.init), (0.5...1).contains(probability) else {
                    throw fail(value, "soften_to", "must be a number from 0.5 to 1, got \(value.string ?? "a collection")")
                }
                policy.softenTo = probability
            default:
                throw fail(key, key.string ?? "?", "unknown key; a policy has \"actions\" and \"soften_to\"")
            }
        }
        return policy
    }
}
