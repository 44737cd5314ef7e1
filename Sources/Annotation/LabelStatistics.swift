import Foundation

/// The dashboard's numbers, from every stored judgement: throughput, each annotator's agreement with the majority
/// of the others and with gold answers, Krippendorff's alpha over the regular (non-gold) tasks, and Cohen's kappa for
/// every pair of annotators who judged common tasks, and the same speed and agreement for labels given with and
/// without AI critiques. Skips count towards throughput only.
public struct LabelStatistics: Sendable {
    public struct AnnotatorSummary: Sendable, Equatable {
        public var name: String
        /// Judgements that are labels (not skips), and skips.
        public var judgements: Int
        public var skips: Int
        /// Median seconds from a task being shown to its answer.
        public var medianSeconds: Double?
        /// Labels on regular tasks whose other labels have a strict majority label, and how many match it.
        public var majorityCompared: Int
        public var majorityAgreed: Int
        /// Gold questions answered (skips excluded), and how many prefer the known better response.
        public var goldAnswered: Int
        public var goldCorrect: Int

        public var majorityAgreement: Double? { majorityCompared > 0 ? Double(majorityAgreed) / Double(majorityCompared) : nil }
        public var goldAccuracy: Double? { goldAnswered > 0 ? Double(goldCorrect) / Double(goldAnswered) : nil }
    }

    public struct PairSummary: Sendable, Equatable {
        public var first: String, second: String
        /// Regular tasks both labelled.
        public var shared: Int
        /// Cohen's kappa over the nominal labels (first, second, tie, both bad).
        public var kappa: Double?
    }

    /// Labels given with (`assisted`) or without AI critiques shown: the experiment of ``AssistantCritic``.
    public struct AssistanceSummary: Sendable, Equatable {
        public var assisted: Bool
        public var labels: Int
        public var medianSeconds: Double?
        public var majorityCompared: Int
        public var majorityAgreed: Int
        public var goldAnswered: Int
        public var goldCorrect: Int

        public var majorityAgreement: Double? { majorityCompared > 0 ? Double(majorityAgreed) / Double(majorityCompared) : nil }
        public var goldAccuracy: Double? { goldAnswered > 0 ? Double(goldCorrect) / Double(goldAnswered) : nil }
    }

    public var labels: Int
    public var skips: Int
    /// Labels recorded in the hour before `now`.
    public var lastHour: Int
    /// Labels an hour over the span from the first to the last label (nil under a minute of data).
    public var perHour: Double?
    public var annotators: [AnnotatorSummary]
    public var pairs: [PairSummary]
    /// Regular tasks with two or more labels.
    public var overlappingTasks: Int
    /// Krippendorff's alpha, ordinal, over the 5-point strength (−2 … +2, tie 0; both-bad labels left out).
    public var ordinalAlpha: Double?
    /// Krippendorff's alpha, nominal, over the labels first / second / tie / both bad.
    public var nominalAlpha: Double?
    /// Without and with AI critiques; empty when no label was given with them.
    public var assistance: [AssistanceSummary]

    public init(_ judgements: [StoredJudgement], now: Double = Date().timeIntervalSince1970) {
        let answered = judgements.filter { $0.label != nil }
        labels = answered.count
        skips = judgements.count - answered.count
        lastHour = answered.filter { $0.createdAt > now - 3600 }.count
        if let first = answered.map(\.createdAt).min(), let last = answered.map(\.createdAt).max(), last - first >= 60 {
            perHour = Double(answered.count) / ((last - first) / 3600)
        }
        let regular = answered.filter { !$0.isGoldTask }
        var byTask: [String: [StoredJudgement]] = [:]
        for judgement in regular { byTask[judgement.judgement.taskID, default: []].append(judgement) }
        let overlapping = byTask.values.filter { $0.count >= 2 }
        overlappingTasks = overlapping.count
        let order = StoredJudgement.Label.allCases
        ordinalAlpha = Agreement.krippendorffAlpha(byTask.values.map { $0.compactMap(\.judgement.strength) }, metric: .ordinal)
        nominalAlpha = Agreement.krippendorffAlpha(
            byTask.values.map { $0.compactMap { judgement in judgement.label.flatMap { order.firstIndex(of: $0) } } }, metric: .nominal)

        var summaries: [String: AnnotatorSummary] = [:]
        func summary(_ name: String) -> AnnotatorSummary {
            summaries[name] ?? AnnotatorSummary(name: name, judgements: 0, skips: 0, medianSeconds: nil, majorityCompared: 0,
                                                majorityAgreed: 0, goldAnswered: 0, goldCorrect: 0)
        }
        var seconds: [String: [Double]] = [:]
        for judgement in judgements {
            var record = summary(judgement.annotator)
            if judgement.label == nil {
                record.skips += 1
            } else {
                record.judgements += 1
                seconds[judgement.annotator, default: []].append(judgement.seconds)
                if judgement.isGoldTask {
                    record.goldAnswered += 1
                    if judgement.label == .first { record.goldCorrect += 1 }
                }
            }
            summaries[judgement.annotator] = record
        }
        // Leave-one-out majority per label: the others' labels, and their majority if one label has more than half.
        var majority: [Int64: Bool] = [:]  // judgement id → agrees with the others' majority
        for unit in overlapping {
            for judgement in unit {
                guard let label = judgement.label else { continue }
                let others = unit.filter { $0.id != judgement.id }.compactMap(\.label)
                let counts = Dictionary(others.map { ($0, 1) }, uniquingKeysWith: +)
                guard let top = counts.max(by: { $0.value < $1.value }), top.value * 2 > others.count else { continue }
                majority[judgement.id] = top.key == label
                var record = summary(judgement.annotator)
                record.majorityCompared += 1
                if top.key == label { record.majorityAgreed += 1 }
                summaries[judgement.annotator] = record
            }
        }
        for (name, values) in seconds {
            summaries[name]?.medianSeconds = Self.median(values)
        }
        annotators = summaries.values.sorted { $0.name < $1.name }
        assistance = answered.contains(where: \.assisted) ? [false, true].map { assisted in
            let group = answered.filter { $0.assisted == assisted }
            let gold = group.filter(\.isGoldTask)
            let compared = group.compactMap { majority[$0.id] }
            return AssistanceSummary(assisted: assisted, labels: group.count, medianSeconds: Self.median(group.map(\.seconds)),
                                     majorityCompared: compared.count, majorityAgreed: compared.filter { $0 }.count,
                                     goldAnswered: gold.count, goldCorrect: gold.filter { $0.label == .first }.count)
        } : []

        var shared: [String: [String: StoredJudgement.Label]] = [:]  // annotator → task → label
        for judgement in regular { shared[judgement.annotator, default: [:]][judgement.judgement.taskID] = judgement.label }
        let names = shared.keys.sorted()
        var pairs: [PairSummary] = []
        for (i, a) in names.enumerated() {
            for b in names[(i + 1)...] {
                let left = shared[a] ?? [:], right = shared[b] ?? [:]
                let common = left.keys.filter { right[$0] != nil }.sorted()
                guard !common.isEmpty else { continue }
                let labelPairs = common.compactMap { task in left[task].flatMap { l in right[task].map { (l, $0) } } }
                pairs.append(PairSummary(first: a, second: b, shared: common.count, kappa: Agreement.cohenKappa(labelPairs)))
            }
        }
        self.pairs = pairs
    }

    static func median(_ values: [Double]) -> Double? {
        guard !values.isEmpty else { return nil }
        let sorted = values.sorted(), middle = sorted.count / 2
        return sorted.count % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
    }
}
