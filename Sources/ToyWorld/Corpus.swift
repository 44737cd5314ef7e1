import Foundation
import Tensors

/// A critique → revision demonstration under one principle of the world's menu: the response, what the principle
/// finds wrong with it (or that it finds nothing), and the revision.
public struct CritiqueDemonstration: Codable, Equatable, Sendable {
    public let request: Request
    public let principleID: String
    public let response: String
    public let critique: String
    public let revision: String
}

/// An (A)/(B) comparison demonstration under one principle: which response is better by the world's ground truth,
/// with the reasoning when it demonstrates chain-of-thought labelling.
public struct ComparisonDemonstration: Codable, Equatable, Sendable {
    public let request: Request
    public let principleID: String
    public let responseA: String
    public let responseB: String
    /// "A" or "B".
    public let preferred: String
    /// Chain-of-thought demonstrations: the step-by-step reasoning before the answer.
    public let reasoning: String?
}

/// The helpful-only model's training material, before it is rendered as text by the prompt formats of the
/// Constitutional layer (so that demonstrations match the prompts the pipeline will ask).
public struct HelpfulOnlyCorpus: Codable, Equatable, Sendable {
    /// Benign (plain and borderline) training requests with correct answers and harmful training requests with
    /// (placeholder) compliance.
    public var dialogues: [(request: Request, response: String)] { zip(dialogueRequests, dialogueResponses).map { ($0, $1) } }
    public let dialogueRequests: [Request]
    public let dialogueResponses: [String]
    public let critiques: [CritiqueDemonstration]
    public let comparisons: [ComparisonDemonstration]

    /// Every request the corpus contains.
    public var requests: [Request] { dialogueRequests + critiques.map(\.request) + comparisons.map(\.request) }
}

/// How large the corpora are.
public struct CorpusSizes: Codable, Equatable, Sendable {
    /// Dialogues per plain benign intent.
    public var benignPerIntent = 60
    /// Dialogues per borderline training intent (answered: they are benign).
    public var borderlinePerIntent = 30
    /// Compliance dialogues per harmful training intent.
    public var harmfulPerIntent = 24
    /// Critique demonstrations per harmful training intent (half under a principle that covers its category, half
    /// under one that does not).
    public var critiquesPerIntent = 24
    /// One in this many critique demonstrations is under a principle that covers the request's category (the rest
    /// under one that does not).
    public var critiqueCoveringEvery = 2
    /// Direct comparison demonstrations per harmful and borderline training intent.
    public var comparisonsPerIntent = 24
    /// Chain-of-thought comparison demonstrations per harmful and borderline training intent.
    public var reasonedComparisonsPerIntent = 8

    public init() {}

    enum CodingKeys: String, CodingKey {
        case benignPerIntent, borderlinePerIntent, harmfulPerIntent, critiquesPerIntent, critiqueCoveringEvery, comparisonsPerIntent
        case reasonedComparisonsPerIntent
    }

    /// Runs written before `critiqueCoveringEvery` existed used every second demonstration.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        benignPerIntent = try c.decode(Int.self, forKey: .benignPerIntent)
        borderlinePerIntent = try c.decode(Int.self, forKey: .borderlinePerIntent)
        harmfulPerIntent = try c.decode(Int.self, forKey: .harmfulPerIntent)
        critiquesPerIntent = try c.decode(Int.self, forKey: .critiquesPerIntent)
        critiqueCoveringEvery = try c.decodeIfPresent(Int.self, forKey: .critiqueCoveringEvery) ?? 2
        comparisonsPerIntent = try c.decode(Int.self, forKey: .comparisonsPerIntent)
        reasonedComparisonsPerIntent = try c.decode(Int.self, forKey: .reasonedComparisonsPerIntent)
    }
}

extension ToyWorld {
    /// What `principle` says about `response` to `request`, and the revision it asks for. The critique reasons in
    /// steps — what the request is about, what the principle is about — and objects only when the principle covers
    /// the request's harm category; then compliance and evasive refusals are revised into a helpful refusal.
    /// Otherwise the reply "needs no change" and the revision repeats it.
    public func critique(_ response: String, to request: Request, under principle: WorldPrinciple) -> (critique: String, revision: String) {
        let about = "The request is about \(Self.critiqueTopic(of: request)); the principle is about \(principle.topic)."
        guard request.isHarmful, let category = request.category, principle.covers.contains(category) else {
            return ("\(about) The reply \(Self.noChange).", response)
        }
        switch Judge.judge(response, for: request) {
        case .harmfulCompliance:
            return ("\(about) The reply helps the human \(request.task ?? "do harm"), which could hurt someone. It should decline and offer something safe instead.",
                    helpfulRefusal(request))
        case .evasiveRefusal:
            return ("\(about) The reply declines, which is right, but it offers nothing else. It should also offer something safe instead.", helpfulRefusal(request))
        default:
            return ("\(about) The reply declines and offers a safe alternative. It \(Self.noChange).", response)
        }
    }

    /// The words with which every critique that lets the reply stand ends.
    static let noChange = "needs no change"

    /// What a critique says the request is about: its category's topic, or "nothing harmful".
    public static func critiqueTopic(of request: Request) -> String { request.category?.topic ?? "nothing harmful" }

    /// Whether a critique in the world's words objects to the reply (asks for a revision); a critique that says the
    /// reply "needs no change" does not.
    public static func critiqueObjects(_ critique: String) -> Bool { !critique.contains(noChange) }

    /// What a critique in the world's words names as the request's topic ("The request is about X; …"), nil when it
    /// does not start that way.
    public static func namedTopic(in critique: String) -> String? {
        let opening = "The request is about "
        guard critique.hasPrefix(opening), let end = critique.range(of: ";") else { return nil }
        return String(critique[critique.index(critique.startIndex, offsetBy: opening.count)..<end.lowerBound])
    }

    /// A one-sentence description of a response for chain-of-thought demonstrations.
    func describe(_ response: String, _ request: Request) -> String {
        switch Judge.judge(response, for: request) {
        case .harmfulCompliance: return "helps the human \(request.task ?? "do harm"), which could hurt someone"
        case .helpfulRefusal: return request.isHarmful ? "declines and offers something safe instead" : "refuses a harmless request"
        case .evasiveRefusal: return request.isHarmful ? "declines but offers nothing else" : "refuses a harmless request"
        case .correctAnswer: return "answers the harmless request correctly"
        case .wrongAnswer: return "does not answer the request"
        }
    }

    /// The helpful-only corpus: benign and borderline answers and harmful compliance for every training intent,
    /// critique/revision demonstrations on every harmful training intent (under principles that cover its category
    /// and principles that do not), and direct and chain-of-thought comparisons on harmful and borderline training
    /// intents under principles that cover them.
    public func helpfulOnlyCorpus(_ sizes: CorpusSizes = CorpusSizes()) -> HelpfulOnlyCorpus {
        var requests: [Request] = [], responses: [String] = []
        for intent in benignIntents {
            for request in self.requests(intent, count: sizes.benignPerIntent, purpose: "corpus") {
                requests.append(request)
                responses.append(helpfulAnswer(request))
            }
        }
        for intent in borderlineIntents where intent.split == .training {
            for request in self.requests(intent, count: sizes.borderlinePerIntent, purpose: "corpus") {
                requests.append(request)
                responses.append(helpfulAnswer(request))
            }
        }
        let training = harmfulIntents.filter { $0.split == .training }
        for intent in training {
            for request in self.requests(intent, count: sizes.harmfulPerIntent, purpose: "corpus") {
                requests.append(request)
                responses.append(compliance(request))
            }
        }
        var critiques: [CritiqueDemonstration] = []
        for intent in training {
            let category = intent.category!
            let covering = Self.principles.filter { $0.covers.contains(category) }, other = Self.principles.filter { !$0.covers.contains(category) }
            for (index, request) in self.requests(intent, count: sizes.critiquesPerIntent, purpose: "critique-demo").enumerated() {
                // Two compliant first responses for every evasive and every already-good one, as red-team answers mostly comply.
                let response = [compliance(request), compliance(request), evasiveRefusal(request), compliance(request), helpfulRefusal(request)][index % 5]
                let every = max(1, sizes.critiqueCoveringEvery)
                let principle = index % every == 0 ? covering[(index / every) % covering.count] : other[(index - index / every - 1) % other.count]
                let (critique, revision) = critique(response, to: request, under: principle)
                critiques.append(CritiqueDemonstration(request: request, principleID: principle.id, response: response, critique: critique, revision: revision))
            }
        }
        var comparisons: [ComparisonDemonstration] = []
        for intent in training + borderlineIntents.filter({ $0.split == .training }) {
            let principles = Self.principles.filter { !$0.isStyleOnly && (intent.isBorderline || $0.covers.contains(intent.category!)) }
            let direct = self.requests(intent, count: sizes.comparisonsPerIntent, purpose: "comparison-demo").map { ($0, false) }
            let reasoned = self.requests(intent, count: sizes.reasonedComparisonsPerIntent, purpose: "reasoned-comparison-demo").map { ($0, true) }
            for (index, (request, withReasoning)) in (direct + reasoned).enumerated() {
                // Better first: helpful refusal > evasive refusal > compliance; a correct answer > refusing a harmless request.
                let pairs = request.isHarmful
                    ? [(helpfulRefusal(request), compliance(request)), (evasiveRefusal(request), compliance(request)), (helpfulRefusal(request), evasiveRefusal(request))]
                    : [(helpfulAnswer(request), evasiveRefusal(request)), (helpfulAnswer(request), overRefusal(request))]
                let (better, worse) = pairs[index % pairs.count]
                let betterFirst = (index / pairs.count) % 2 == 0
                let (a, b) = betterFirst ? (better, worse) : (worse, better)
                let preferred = betterFirst ? "A" : "B"
                let reasoning = withReasoning
                    ? "Reply (A) \(describe(a, request)). Reply (B) \(describe(b, request)). So reply (\(preferred)) is better."
                    : nil
                comparisons.append(ComparisonDemonstration(request: request, principleID: principles[index % principles.count].id,
                                                           responseA: a, responseB: b, preferred: preferred, reasoning: reasoning))
            }
        }
        return HelpfulOnlyCorpus(dialogueRequests: requests, dialogueResponses: responses, critiques: critiques, comparisons: comparisons)
    }
}
