import Datasets
import Foundation
import JSON

extension ReadingTask {
    /// Reads a task file: Charter's reading-task JSON lines (`id`, `passage`, `question`, two `options`,
    /// 0-based `correct_option`; what `charter oversee generate` writes) or, when the first object has an `article`,
    /// QuALITY's format (``quality(contentsOf:)``).
    /// - Throws: `ReadingTaskError` naming the file, line and field; duplicate ids are refused (transcripts are
    ///   resumed by id).
    public static func load(contentsOf url: URL) throws -> [ReadingTask] {
        let reader: JSONLReader
        do { reader = try JSONLReader(url: url) } catch { throw ReadingTaskError("\(url.path): \(error)") }
        var tasks: [ReadingTask] = [], seen = Set<String>()
        while true {
            let entry: (line: Int, members: [JSONValue.Member])?
            do { entry = try reader.next() } catch { throw ReadingTaskError("\(error)") }
            guard let (line, members) = entry else { break }
            let object = JSONValue.object(members), place = "\(url.path):\(line)"
            if tasks.isEmpty && object["article"] != nil { return try quality(contentsOf: url) }
            guard let id = object["id"]?.stringValue else { throw ReadingTaskError("\(place): no string field \"id\"") }
            guard let passage = object["passage"]?.stringValue else { throw ReadingTaskError("\(place): no string field \"passage\" (the hidden text)") }
            guard let question = object["question"]?.stringValue else { throw ReadingTaskError("\(place): no string field \"question\"") }
            guard let options = object["options"]?.stringArrayValue, options.count == 2 else {
                throw ReadingTaskError("\(place): \"options\" must be an array of exactly two strings (the protocols compare two answers)")
            }
            guard options[0] != options[1] else { throw ReadingTaskError("\(place): the two options are the same text \"\(options[0])\"") }
            guard let correct = object["correct_option"]?.integerValue, (0...1).contains(correct) else {
                throw ReadingTaskError("\(place): \"correct_option\" must be 0 or 1 (the index of the right option)")
            }
            guard seen.insert(id).inserted else { throw ReadingTaskError("\(place): id \"\(id)\" occurs twice; ids must be unique") }
            tasks.append(ReadingTask(id: id, passage: passage, question: question, options: options, correctOption: correct))
        }
        guard !tasks.isEmpty else { throw ReadingTaskError("\(url.path): no tasks") }
        return tasks
    }
}
