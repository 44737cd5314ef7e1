import Foundation
import JSON

extension ReadingTask {
    /// Reads QuALITY's JSON-lines files (Pang et al. 2022; one article per line with `article` and `questions`, each
    /// question with `question`, four `options` and a 1-based `gold_label`) as two-option tasks, as Khan et al. 2024
    /// do: the gold option and the best distractor — the option the untimed validators most often named
    /// `untimed_best_distractor` (ties to the lower index), or the first other option when there is no validation.
    /// The option order is the gold option first for even question numbers in the file, second for odd ones.
    /// - Throws: `ReadingTaskError` naming the file, line and field (a question without `gold_label`, as in
    ///   QuALITY's test split, cannot be scored).
    public static func quality(contentsOf url: URL) throws -> [ReadingTask] {
        let text: String
        do { text = try String(contentsOf: url, encoding: .utf8) } catch {
            throw ReadingTaskError("\(url.path): cannot read the file (\(error.localizedDescription))")
        }
        var tasks: [ReadingTask] = []
        for (offset, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            guard !line.trimmingCharacters(in: .whitespaces).isEmpty else { continue }
            let place = "\(url.path):\(offset + 1)"
            let article: JSONValue
            do { article = try JSONParser.parse(String(line)) } catch {
                throw ReadingTaskError("\(place): not a JSON object (\(error)); QuALITY files have one article per line")
            }
            guard let passage = article["article"]?.stringValue else { throw ReadingTaskError("\(place): no string field \"article\"") }
            guard let questions = article["questions"]?.arrayValue else { throw ReadingTaskError("\(place): no array field \"questions\"") }
            let articleID = article["set_unique_id"]?.stringValue ?? article["article_id"]?.stringValue ?? "line-\(offset + 1)"
            for (number, question) in questions.enumerated() {
                let field = "\(place): questions[\(number)]"
                guard let prompt = question["question"]?.stringValue else { throw ReadingTaskError("\(field): no string field \"question\"") }
                guard let options = question["options"]?.stringArrayValue, options.count >= 2 else {
                    throw ReadingTaskError("\(field): \"options\" must be an array of at least two strings")
                }
                guard let gold = question["gold_label"]?.integerValue else {
                    throw ReadingTaskError("\(field): no \"gold_label\" (QuALITY's test split has no answers; use the train or dev file)")
                }
                guard (1...options.count).contains(gold) else {
                    throw ReadingTaskError("\(field): gold_label \(gold) is not an option number 1…\(options.count) (it is 1-based)")
                }
                var votes = [Int](repeating: 0, count: options.count)
                for validation in question["validation"]?.arrayValue ?? [] {
                    if let choice = validation["untimed_best_distractor"]?.integerValue, (1...options.count).contains(choice), choice != gold { votes[choice - 1] += 1 }
                }
                let distractor = votes.max().flatMap { most in most > 0 ? votes.firstIndex(of: most) : nil }
                    ?? options.indices.first { $0 != gold - 1 }!
                let goldFirst = tasks.count % 2 == 0
                let pair = goldFirst ? [options[gold - 1], options[distractor]] : [options[distractor], options[gold - 1]]
                let id = question["question_unique_id"]?.stringValue ?? "\(articleID)-\(number)"
                tasks.append(ReadingTask(id: id, passage: passage, question: prompt, options: pair, correctOption: goldFirst ? 0 : 1))
            }
        }
        return tasks
    }
}
