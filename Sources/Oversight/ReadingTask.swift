import Foundation
import Runtime
import Tensors

/// An information-asymmetry reading question (Khan et al. 2024's setting): a passage the debaters read and the judge
/// does not, a question whose answer needs the passage, and two options, one correct.
public struct ReadingTask: Codable, Equatable, Sendable {
    public var id: String
    /// The hidden source text.
    public var passage: String
    public var question: String
    /// Two options; `correctOption` indexes the right one.
    public var options: [String]
    public var correctOption: Int

    enum CodingKeys: String, CodingKey { case id, passage, question, options, correctOption = "correct_option" }

    public init(id: String, passage: String, question: String, options: [String], correctOption: Int) {
        precondition(options.count == 2 && options.indices.contains(correctOption), "two options and a correct one, got \(options) / \(correctOption)")
        (self.id, self.passage, self.question, self.options, self.correctOption) = (id, passage, question, options, correctOption)
    }
}

/// A failure to read a task file, naming the file, line and field.
public struct ReadingTaskError: Error, CustomStringConvertible, LocalizedError {
    public let description: String
    public init(_ description: String) { self.description = description }
    public var errorDescription: String? { description }
}

extension ReadingTask {
    /// Generated reading tasks from `seed`: each passage states `peopleCount` invented people's home town, job and pet;
    /// each question asks one of them, with the true value and, as the distractor, the same attribute of another
    /// person in the passage (so both options occur in the text and sound equally plausible without it). The correct
    /// option is first or second at random. Invented names make the answer impossible to know without the passage.
    ///
    /// - Parameter supersededShare: when positive, every statement names its source (``Source``: "The ledger says
    ///   Kamira works as a baker.") and each fact is, with this probability, stated twice: by one source with an
    ///   earlier value, and by the source that corrects it with the true one. A question about such a fact has the
    ///   superseded value as its distractor — a true quote about the right person that supports the wrong answer and
    ///   is refuted only by the correcting statement (Khan et al. 2024's setting). The other facts have one statement and
    ///   another person's value as distractor, as without the option. 0 gives the tasks of earlier versions, bit for bit.
    /// - Parameter precedence: which source corrects which (``Precedence``); `.cyclic` gives the tasks of earlier
    ///   versions, bit for bit.
    public static func generate(seed: UInt64, passages: Int, peopleCount: Int = 6, questionsPerPassage: Int = 3,
                                supersededShare: Double = 0, precedence: Precedence = .cyclic) -> [ReadingTask] {
        precondition(peopleCount >= 2 && questionsPerPassage >= 1, "at least two people and one question per passage")
        precondition((0...1).contains(supersededShare), "the superseded share is a probability, got \(supersededShare)")
        var generator = SeededGenerator(seed: seed &+ 0x7EAD)
        func pick<T>(_ values: [T]) -> T { values[Int(generator.next() % UInt64(values.count))] }
        func distinct(_ count: Int, _ make: () -> String) -> [String] {
            var seen = Set<String>(), values: [String] = []
            while values.count < count { let value = make(); if seen.insert(value).inserted { values.append(value) } }
            return values
        }
        let jobs = ["baker", "carpenter", "nurse", "teacher", "fisher", "painter", "tailor", "miller", "potter", "weaver", "clerk", "gardener"]
        let pets = ["a cat", "a dog", "a parrot", "a goat", "a rabbit", "a tortoise", "two hens", "a ferret", "a canary", "a donkey"]
        let attributes: [(question: (String) -> String, sentence: (String, String) -> String)] = [
            ({ "Where does \($0) live?" }, { "\($0) lives in \($1)." }),
            ({ "What is \($0)'s job?" }, { "\($0) works as a \($1)." }),
            ({ "Which pet does \($0) keep?" }, { "\($0) keeps \($1)." }),
        ]
        var tasks: [ReadingTask] = []
        for passageIndex in 0..<passages {
            let names = distinct(peopleCount) { pick(["Ka", "Vel", "Mor", "Tan", "Zu", "Bri", "Os", "Lu", "Dra", "Fe", "Ga", "He"]) + pick(["ren", "lia", "dor", "mi", "sa", "tor", "na", "vin"]) }
            func town() -> String { pick(["Ash", "Brook", "Cold", "Elm", "Fair", "Glen", "High", "Oak", "Red", "Stone"]) + pick(["ford", "wick", "ham", "by", "dale", "mouth"]) }
            let towns = distinct(peopleCount, town)
            var values: [[String]] = [towns, [], []]
            values[1] = (0..<peopleCount).map { _ in pick(jobs) }
            values[2] = (0..<peopleCount).map { _ in pick(pets) }
            // superseded[attribute][person]: the value an earlier statement gave, which a later source corrected.
            var superseded = [[String?]](repeating: [String?](repeating: nil, count: peopleCount), count: attributes.count)
            var sentences: [String] = []
            for person in 0..<peopleCount {
                for attribute in attributes.indices {
                    let fact = attributes[attribute].sentence(names[person], values[attribute][person])
                    guard supersededShare > 0 else { sentences.append(fact); continue }
                    var source = Source.allCases[Int(generator.next() % UInt64(Source.allCases.count))]
                    guard generator.nextUnit() < supersededShare else { sentences.append(source.says(fact)); continue }
                    // Under a linear order nobody corrects the last source, so its statement cannot be the superseded one.
                    let correctable = Source.allCases.filter { $0.correction(precedence) != nil }
                    if source.correction(precedence) == nil { source = correctable[Int(generator.next() % UInt64(correctable.count))] }
                    var earlier: String
                    repeat { earlier = attribute == 0 ? town() : pick(attribute == 1 ? jobs : pets) } while earlier == values[attribute][person]
                    superseded[attribute][person] = earlier
                    sentences.append(source.says(attributes[attribute].sentence(names[person], earlier)))
                    sentences.append(source.correction(precedence)!.says(fact))
                }
            }
            sentences.seededShuffle(using: &generator)
            let passage = sentences.joined(separator: " ")
            var asked = Set<String>()
            var questionIndex = 0
            var attempts = 0
            while questionIndex < questionsPerPassage && attempts < 100 * questionsPerPassage {
                attempts += 1
                let person = Int(generator.next() % UInt64(peopleCount)), attribute = Int(generator.next() % UInt64(attributes.count))
                let others = (0..<peopleCount).filter { values[attribute][$0] != values[attribute][person] }
                guard superseded[attribute][person] != nil || !others.isEmpty, asked.insert("\(person)/\(attribute)").inserted else { continue }
                let distractor = superseded[attribute][person] ?? values[attribute][pick(others)]
                let correctFirst = generator.next() % 2 == 0
                let options = correctFirst ? [values[attribute][person], distractor] : [distractor, values[attribute][person]]
                tasks.append(ReadingTask(id: "generated-\(seed)-\(passageIndex)-\(questionIndex)", passage: passage,
                                         question: attributes[attribute].question(names[person]), options: options, correctOption: correctFirst ? 0 : 1))
                questionIndex += 1
            }
        }
        return tasks
    }
}

extension ReadingTask {
    /// Which source corrects which when a fact is stated twice.
    public enum Precedence: String, Codable, CaseIterable, Sendable {
        /// The ledger corrects a letter, a neighbour the ledger, a letter a neighbour: no source is the last word on its
        /// own, only the pair of statements decides (a lone quote's source carries no cue).
        case cyclic
        /// A later record corrects an earlier one: the ledger corrects a letter, a neighbour the ledger, and a
        /// neighbour is never corrected. Comparing two quotes is then a first-order rule (the later source wins), and a
        /// lone quote's source is a partial cue: a neighbour's statement is never the superseded one, a letter's never
        /// the correction.
        case linear
    }

    /// Who states a fact in a passage of ``generate(seed:passages:peopleCount:questionsPerPassage:supersededShare:)``
    /// with a positive superseded share. Precedence is cyclic — the ledger corrects a letter, a neighbour corrects the
    /// ledger, a letter corrects a neighbour — so every source is as often the superseded statement as the correcting
    /// one, and a lone quote's source says nothing about whether it is the last word: only the pair of statements does.
    /// (A linear order, "earlier" and "later", would give the oldest source away on its own.)
    public enum Source: Int, CaseIterable, Sendable {
        case letter, ledger, neighbour

        /// How a statement from this source begins.
        public var phrase: String {
            switch self {
            case .letter: "A letter says"
            case .ledger: "The ledger says"
            case .neighbour: "A neighbour says"
            }
        }
        /// The source whose statement overrides this one's (cyclic precedence).
        public var correction: Source { correction(.cyclic)! }
        /// The source whose statement overrides this one's under `precedence`; nil: none does.
        public func correction(_ precedence: Precedence) -> Source? {
            switch (self, precedence) {
            case (.letter, _): .ledger
            case (.ledger, _): .neighbour
            case (.neighbour, .cyclic): .letter
            case (.neighbour, .linear): nil
            }
        }
        /// `fact` as this source states it.
        func says(_ fact: String) -> String { "\(phrase) \(fact)" }
        /// The source a passage sentence starts with, or nil.
        public static func of(_ sentence: String) -> Source? { allCases.first { sentence.hasPrefix($0.phrase + " ") } }
    }
}
