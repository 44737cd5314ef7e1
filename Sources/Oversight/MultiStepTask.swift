import Foundation
import Runtime
import Tensors

/// A two-option question that needs several look-ups in a passage, with its reference decomposition (the
/// sub-questions and their answers): the ground truth of `charter oversee decompose`.
public struct MultiStepTask: Codable, Equatable, Sendable {
    /// One step of the reference decomposition.
    public struct Step: Codable, Equatable, Sendable {
        public var question: String
        public var answer: String
    }

    public var id: String
    /// The text every call may read.
    public var passage: String
    public var question: String
    public var options: [String]
    public var correctOption: Int
    public var steps: [Step]

    enum CodingKeys: String, CodingKey { case id, passage, question, options, correctOption = "correct_option", steps }

    public init(id: String, passage: String, question: String, options: [String], correctOption: Int, steps: [Step]) {
        precondition(options.count == 2 && options.indices.contains(correctOption), "two options and a correct one, got \(options) / \(correctOption)")
        (self.id, self.passage, self.question, self.options, self.correctOption, self.steps) = (id, passage, question, options, correctOption, steps)
    }

    /// Decodes a task file's line; `steps` may be left out (tasks without a reference decomposition).
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let options = try container.decode([String].self, forKey: .options), correct = try container.decode(Int.self, forKey: .correctOption)
        guard options.count == 2, (0...1).contains(correct) else {
            throw DecodingError.dataCorruptedError(forKey: .options, in: container, debugDescription: "need exactly two options and correct_option 0 or 1")
        }
        self.init(id: try container.decode(String.self, forKey: .id), passage: try container.decode(String.self, forKey: .passage),
                  question: try container.decode(String.self, forKey: .question), options: options, correctOption: correct,
                  steps: try container.decodeIfPresent([Step].self, forKey: .steps) ?? [])
    }
}

extension MultiStepTask {
    /// Two-hop questions from `seed`: each passage states `peopleCount` invented people's home town (all different),
    /// job and pet; a question names a person by their town and asks for their job or pet ("Which pet does the person
    /// who lives in Elmford keep?"), so it needs "Who lives in Elmford?" and then "Which pet does Kaldor keep?". The
    /// distractor is the same attribute of another person in the passage (never equal to the answer); the correct
    /// option is first or second at random.
    public static func generate(seed: UInt64, passages: Int, peopleCount: Int = 6, questionsPerPassage: Int = 3) -> [MultiStepTask] {
        precondition(peopleCount >= 2 && questionsPerPassage >= 1, "at least two people and one question per passage")
        var generator = SeededGenerator(seed: seed &+ 0xDEC0)
        func pick<T>(_ values: [T]) -> T { values[Int(generator.next() % UInt64(values.count))] }
        func distinct(_ count: Int, _ make: () -> String) -> [String] {
            var seen = Set<String>(), values: [String] = []
            while values.count < count { let value = make(); if seen.insert(value).inserted { values.append(value) } }
            return values
        }
        let jobs = ["baker", "carpenter", "nurse", "teacher", "fisher", "painter", "tailor", "miller", "potter", "weaver", "clerk", "gardener"]
        let pets = ["a cat", "a dog", "a parrot", "a goat", "a rabbit", "a tortoise", "two hens", "a ferret", "a canary", "a donkey"]
        var tasks: [MultiStepTask] = []
        for passageIndex in 0..<passages {
            let names = distinct(peopleCount) { pick(["Ka", "Vel", "Mor", "Tan", "Zu", "Bri", "Os", "Lu", "Dra", "Fe", "Ga", "He"]) + pick(["ren", "lia", "dor", "mi", "sa", "tor", "na", "vin"]) }
            let towns = distinct(peopleCount) { pick(["Ash", "Brook", "Cold", "Elm", "Fair", "Glen", "High", "Oak", "Red", "Stone"]) + pick(["ford", "wick", "ham", "by", "dale", "mouth"]) }
            let personJobs = (0..<peopleCount).map { _ in pick(jobs) }, personPets = (0..<peopleCount).map { _ in pick(pets) }
            var sentences: [String] = []
            for person in 0..<peopleCount {
                sentences += ["\(names[person]) lives in \(towns[person]).", "\(names[person]) works as a \(personJobs[person]).", "\(names[person]) keeps \(personPets[person])."]
            }
            sentences.seededShuffle(using: &generator)
            let passage = sentences.joined(separator: " ")
            var asked = Set<String>(), questionIndex = 0, attempts = 0
            while questionIndex < questionsPerPassage && attempts < 100 * questionsPerPassage {
                attempts += 1
                let person = Int(generator.next() % UInt64(peopleCount)), asksJob = generator.next() % 2 == 0
                let values = asksJob ? personJobs : personPets
                let others = (0..<peopleCount).filter { values[$0] != values[person] }
                guard !others.isEmpty, asked.insert("\(person)/\(asksJob)").inserted else { continue }
                let distractor = values[pick(others)]
                let correctFirst = generator.next() % 2 == 0
                let question = asksJob ? "What is the job of the person who lives in \(towns[person])?" : "Which pet does the person who lives in \(towns[person]) keep?"
                let steps = [Step(question: "Who lives in \(towns[person])?", answer: names[person]),
                             Step(question: asksJob ? "What is \(names[person])'s job?" : "Which pet does \(names[person]) keep?", answer: values[person])]
                tasks.append(MultiStepTask(id: "multistep-\(seed)-\(passageIndex)-\(questionIndex)", passage: passage, question: question,
                                           options: correctFirst ? [values[person], distractor] : [distractor, values[person]],
                                           correctOption: correctFirst ? 0 : 1, steps: steps))
                questionIndex += 1
            }
        }
        return tasks
    }
}
