import Datasets
import Foundation
import JSON

/// One preference set per principle from `charter label`'s records: each record's `judgements` hold every asked
/// principle's probability that the pair's first response is better (`p_first`, averaged over both orders), and
/// `chosen_is_first` says which response the record calls chosen. A principle's pairs are the records it judged,
/// ordered by its own verdict, with its probability as the soft label `chosen_probability` (so a principle that
/// disagrees with the ensemble's label trains its head the other way, and an undecided one trains it weakly).
public enum PrincipleHeads {
    /// The per-principle preference sets, in the order principles first appear.
    /// - Parameter source: the file's name for errors.
    /// - Throws: `TrainingError.data` naming `source:line` and the field when a record is not a preference pair, has
    ///   no `judgements` list, `chosen_is_first`, or a judgement without `principle_id` and a `p_first` in [0, 1].
    public static func pairs(fromLabels examples: [Example], source: String) throws -> [(name: String, examples: [Example])] {
        var order: [String] = []
        var byPrinciple: [String: [Example]] = [:]
        for example in examples {
            let place = "\(source):\(example.line)"
            guard let pair = example.preference else {
                throw TrainingError.data("\(place): not a preference pair (label records have prompt, chosen and rejected)")
            }
            guard let judgements = example[extra: "judgements"]?.arrayValue else {
                throw TrainingError.data("\(place): no \"judgements\" list; --heads-from-labels reads charter label's records, which keep each principle's verdict")
            }
            guard let chosenIsFirst = example[extra: "chosen_is_first"]?.boolValue else {
                throw TrainingError.data("\(place): no \"chosen_is_first\" (true or false); it says which response the judgements' p_first is about")
            }
            for (index, judgement) in judgements.enumerated() {
                guard let principle = judgement["principle_id"]?.stringValue, !principle.isEmpty else {
                    throw TrainingError.data("\(place): judgements[\(index)] has no principle_id")
                }
                guard let first = judgement["p_first"]?.doubleValue, (0...1).contains(first) else {
                    throw TrainingError.data("\(place): judgements[\(index)] (\(principle)): p_first must be a number in [0, 1]")
                }
                let chosenProbability = chosenIsFirst ? first : 1 - first
                let body: Example.Body = chosenProbability >= 0.5
                    ? .preference(prompt: pair.prompt, chosen: pair.chosen, rejected: pair.rejected)
                    : .preference(prompt: pair.prompt, chosen: pair.rejected, rejected: pair.chosen)
                if byPrinciple[principle] == nil { order.append(principle) }
                byPrinciple[principle, default: []].append(Example(body, line: example.line, promptWasImplicit: example.promptWasImplicit,
                                                                   chosenProbability: max(chosenProbability, 1 - chosenProbability)))
            }
        }
        return order.map { ($0, byPrinciple[$0]!) }
    }
}
