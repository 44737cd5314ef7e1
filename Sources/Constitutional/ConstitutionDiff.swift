import Foundation

/// What changed between two constitutions, principle by principle (matched by id), for reviewers.
public struct ConstitutionDiff: Equatable, Sendable {
    public enum Change: Equatable, Sendable, CustomStringConvertible {
        case metadata(field: String, old: String, new: String)
        case added(id: String, category: String)
        case removed(id: String, category: String)
        case changed(id: String, field: String, old: String, new: String)
        case moved(id: String, oldIndex: Int, newIndex: Int)
        case examples(kind: String, old: Int, new: Int, changed: Int)

        public var description: String {
            switch self {
            case let .metadata(field, old, new): return "~ \(field): \(Self.quote(old)) → \(Self.quote(new))"
            case let .added(id, category): return "+ principle \(id) (\(category))"
            case let .removed(id, category): return "- principle \(id) (\(category))"
            case let .changed(id, field, old, new): return "~ principle \(id).\(field): \(Self.quote(old)) → \(Self.quote(new))"
            case let .moved(id, oldIndex, newIndex): return "~ principle \(id) moved from position \(oldIndex) to \(newIndex)"
            case let .examples(kind, old, new, changed): return "~ \(kind): \(old) → \(new) examples (\(changed) differ)"
            }
        }

        static func quote(_ text: String) -> String { text.isEmpty ? "(none)" : "\"\(text)\"" }
    }

    public let changes: [Change]

    public init(from old: Constitution, to new: Constitution) {
        var changes: [Change] = []
        for (field, a, b) in [("name", old.name, new.name), ("version", old.version, new.version),
                              ("description", old.description, new.description)] where a != b {
            changes.append(.metadata(field: field, old: a, new: b))
        }
        let oldIDs = old.principles.map(\.id), newIDs = new.principles.map(\.id)
        for principle in old.principles where !newIDs.contains(principle.id) {
            changes.append(.removed(id: principle.id, category: principle.category))
        }
        for (newIndex, principle) in new.principles.enumerated() {
            guard let oldIndex = oldIDs.firstIndex(of: principle.id) else {
                changes.append(.added(id: principle.id, category: principle.category))
                continue
            }
            let before = old.principles[oldIndex]
            let fields: [(String, String?, String?)] = [
                ("category", before.category, principle.category),
                ("critique_request", before.critiqueRequest, principle.critiqueRequest),
                ("revision_request", before.revisionRequest, principle.revisionRequest),
                ("comparison", before.comparison, principle.comparison),
                ("source", before.source, principle.source),
                ("weight", before.weight.map { "\($0)" }, principle.weight.map { "\($0)" }),
            ]
            for (field, a, b) in fields where a != b {
                changes.append(.changed(id: principle.id, field: field, old: a ?? "", new: b ?? ""))
            }
            let sharedOld = oldIDs.filter(newIDs.contains), sharedNew = newIDs.filter(oldIDs.contains)
            if let a = sharedOld.firstIndex(of: principle.id), let b = sharedNew.firstIndex(of: principle.id), a != b {
                changes.append(.moved(id: principle.id, oldIndex: oldIndex, newIndex: newIndex))
            }
        }
        func compare<T: Equatable>(_ kind: String, _ a: [T], _ b: [T]) {
            let differing = zip(a, b).filter { $0 != $1 }.count + abs(a.count - b.count)
            if differing > 0 { changes.append(.examples(kind: kind, old: a.count, new: b.count, changed: differing)) }
        }
        compare("critique_examples", old.critiqueExamples, new.critiqueExamples)
        compare("comparison_examples", old.comparisonExamples, new.comparisonExamples)
        self.changes = changes
    }

    public var isEmpty: Bool { changes.isEmpty }

    /// One line per change, or "no differences".
    public var report: String { changes.isEmpty ? "no differences" : changes.map(\.description).joined(separator: "\n") }
}
