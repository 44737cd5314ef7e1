import Datasets
import Foundation
import JSON

/// `charter annotate export`: the judgements as TRL preference lines (`prompt`, `chosen`, `rejected`,
/// `chosen_probability`) that `charter dpo`, `reward` and `audit` read.
///
/// One line per regular task (gold questions stay out), its `chosen_probability` the mean over the task's labels of
/// P(first ≻ second) under the 5-point mapping much better 1, better 0.75, tie 0.5, worse 0.25, much worse 0
/// (``Judgement/firstProbability(strength:)``); the response with the higher share is `chosen`. A task is a **tie**
/// when the share is exactly ½ and **both bad** when more than half its labels say so; both are written as flagged
/// records (`"label": "tie"` / `"both_bad"`, chosen = the first response as imported) or left out (`ties: .exclude`).
/// With `perAnnotator`, one line per label instead, carrying the `annotator` field that `charter audit` reads for
/// multi-annotator agreement. Skips are never exported.
public struct LabelExport {
    public enum Ties: String, Sendable, CaseIterable {
        /// Written with `"label": "tie"` or `"label": "both_bad"`.
        case flag
        /// Left out of the file.
        case exclude
    }

    public struct Summary: Sendable, Equatable {
        public var written = 0
        public var preferences = 0
        public var ties = 0
        public var bothBad = 0
        /// Ties and both-bad records left out by `ties: .exclude`.
        public var excluded = 0
    }

    public var ties: Ties = .flag
    public var perAnnotator = false

    public init(ties: Ties = .flag, perAnnotator: Bool = false) {
        self.ties = ties
        self.perAnnotator = perAnnotator
    }

    /// Writes the file atomically (a crash leaves the old file or none, never half a file).
    /// - Throws: ``AnnotationError/noJudgements(path:)`` when nothing is labelled; ``DatasetError`` when the output
    ///   cannot be written.
    @discardableResult
    public func write(_ store: AnnotationStore, to url: URL) throws -> Summary {
        let judgements = try store.judgements().filter { !$0.isGoldTask && $0.label != nil }
        guard !judgements.isEmpty else { throw AnnotationError.noJudgements(path: store.path) }
        let tasks = try store.tasks()
        let writer = try JSONLWriter(url: url)
        var summary = Summary()
        func emit(_ record: JSONValue?, _ label: StoredJudgement.Label?) throws {
            guard let record else { return }
            switch label {
            case .tie?: summary.ties += 1
            case .bothBad?: summary.bothBad += 1
            default: summary.preferences += 1
            }
            if ties == .exclude && (label == .tie || label == .bothBad) {
                summary.excluded += 1
                return
            }
            try writer.write(record)
            summary.written += 1
        }
        if perAnnotator {
            for judgement in judgements {
                guard let task = tasks[judgement.judgement.taskID] else { continue }
                try emit(Self.record(judgement, task), judgement.label)
            }
        } else {
            var order: [String] = [], byTask: [String: [StoredJudgement]] = [:]
            for judgement in judgements {
                if byTask[judgement.judgement.taskID] == nil { order.append(judgement.judgement.taskID) }
                byTask[judgement.judgement.taskID, default: []].append(judgement)
            }
            for id in order {
                guard let task = tasks[id], let labels = byTask[id] else { continue }
                let (record, label) = Self.record(labels, task)
                try emit(record, label)
            }
        }
        try writer.finish()
        return summary
    }

    /// One task's labels as one line.
    static func record(_ labels: [StoredJudgement], _ task: AnnotationStore.StoredTask) -> (JSONValue, StoredJudgement.Label) {
        let scored = labels.compactMap(\.judgement.strength)
        let bothBad = labels.filter { $0.label == .bothBad }
        let share = scored.isEmpty ? 0.5 : scored.map(Judgement.firstProbability(strength:)).reduce(0, +) / Double(scored.count)
        let label: StoredJudgement.Label = bothBad.count * 2 > labels.count ? .bothBad : share == 0.5 ? .tie : share > 0.5 ? .first : .second
        let firstChosen = label != .second
        // Votes as seen from the chosen response.
        var votes: [String: Int] = [:]
        for judgement in labels {
            let name: String
            if let strength = judgement.judgement.strength {
                let towardChosen = firstChosen ? strength : -strength
                name = ["rejected_much_better", "rejected_better", "tie", "chosen_better", "chosen_much_better"][towardChosen + 2]
            } else {
                name = "both_bad"
            }
            votes[name, default: 0] += 1
        }
        var members = Self.texts(task, firstChosen: firstChosen)
        if label != .bothBad { members.append(JSONValue.Member("chosen_probability", .numeric(firstChosen ? share : 1 - share))) }
        members += [
            JSONValue.Member("label", .string(label == .first || label == .second ? "preference" : label.rawValue)),
            JSONValue.Member("task_id", .string(task.id)),
            JSONValue.Member("annotations", .integer(labels.count)),
            JSONValue.Member("votes", JSONValue(sortingKeys: votes.mapValues { .integer($0) })),
            JSONValue.Member("annotators", .array(Array(Set(labels.map(\.annotator))).sorted().map { .string($0) })),
        ]
        if !bothBad.isEmpty {
            let reasons = Dictionary(bothBad.flatMap(\.judgement.reasons).map { ($0.rawValue, 1) }, uniquingKeysWith: +)
            members.append(JSONValue.Member("both_bad_reasons", JSONValue(sortingKeys: reasons.mapValues { .integer($0) })))
        }
        return (.object(members), label)
    }

    /// One label as one line, with the fields of Charter's multi-annotator format (`annotator`).
    static func record(_ stored: StoredJudgement, _ task: AnnotationStore.StoredTask) -> JSONValue {
        let judgement = stored.judgement
        let firstChosen = (judgement.strength ?? 0) >= 0
        var members = Self.texts(task, firstChosen: firstChosen)
        if let strength = judgement.strength {
            members.append(JSONValue.Member("chosen_probability", .numeric(Judgement.firstProbability(strength: abs(strength)))))
        }
        let label = stored.label.map { $0 == .first || $0 == .second ? "preference" : $0.rawValue } ?? "skip"
        func ratings(_ value: Judgement.Ratings) -> JSONValue {
            let pairs: [(String, Int?)] = [("helpful", value.helpful), ("harmless", value.harmless), ("honest", value.honest)]
            return .object(pairs.compactMap { name, score in score.map { JSONValue.Member(name, .integer($0)) } })
        }
        members += [
            JSONValue.Member("annotator", .string(stored.annotator)),
            JSONValue.Member("label", .string(label)),
            JSONValue.Member("strength", judgement.strength.map { .integer(abs($0)) } ?? .null),
            JSONValue.Member("task_id", .string(task.id)),
            JSONValue.Member("judgement_id", .integer(Int(stored.id))),
            // Which side the chosen response was shown on (the page randomises it per annotator and task).
            JSONValue.Member("chosen_shown", .string(stored.swapped == firstChosen ? "right" : "left")),
            JSONValue.Member("reasons", .array(judgement.reasons.map { .string($0.rawValue) })),
            JSONValue.Member("ratings", .object([
                JSONValue.Member("chosen", ratings(firstChosen ? judgement.ratings.first : judgement.ratings.second)),
                JSONValue.Member("rejected", ratings(firstChosen ? judgement.ratings.second : judgement.ratings.first)),
            ])),
            JSONValue.Member("rationale", .string(judgement.rationale)),
            JSONValue.Member("seconds", .numeric((stored.seconds * 10).rounded() / 10)),
            JSONValue.Member("assisted", .bool(stored.assisted)),
        ]
        return .object(members)
    }

    static func texts(_ task: AnnotationStore.StoredTask, firstChosen: Bool) -> [JSONValue.Member] {
        [JSONValue.Member("prompt", task.prompt),
         JSONValue.Member("chosen", firstChosen ? task.first : task.second),
         JSONValue.Member("rejected", firstChosen ? task.second : task.first)]
    }
}
