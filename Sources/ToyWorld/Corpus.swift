import Foundation
import Tensors

/// A critique → revision demonstration: the response, what is wrong with it, and the revision.
public struct CritiqueDemonstration: Codable, Equatable, Sendable {
    public let request: Request
    public let response: String
    public let critique: String
    public let revision: String
}

/// An (A)/(B) comparison demonstration: which response is better by the world's ground truth.
public struct ComparisonDemonstration: Codable, Equatable, Sendable {
    public let request: Request
    public let responseA: String
    public let responseB: String
    /// "A" or "B".
    public let preferred: String
}

/// The helpful-only model's training material, before it is rendered as text by the prompt formats of the
/// Constitutional layer (so that demonstrations match the prompts the pipeline will ask).
public struct HelpfulOnlyCorpus: Codable, Equatable, Sendable {
    /// Benign training requests with correct answers and harmful training requests with (placeholder) compliance.
    public var dialogues: [(request: Request, response: String)] { zip(dialogueRequests, dialogueResponses).map { ($0, $1) } }
    public let dialogueRequests: [Request]
    public let dialogueResponses: [String]
    /// On demonstrated harmful intents only.
    public let critiques: [CritiqueDemonstration]
    public let comparisons: [ComparisonDemonstration]

    /// Every request the corpus contains.
    public var requests: [Request] { dialogueRequests + critiques.map(\.request) + comparisons.map(\.request) }
}

/// How large the corpora are.
public struct CorpusSizes: Codable, Equatable, Sendable {
    /// Dialogues per benign intent.
    public var benignPerIntent = 60
    /// Compliance dialogues per harmful training intent.
    public var harmfulPerIntent = 24
    /// Critique demonstrations per demonstrated intent (each of the three kinds of first response in turn).
    public var critiquesPerIntent = 24
    /// Comparison demonstrations per demonstrated intent.
    public var comparisonsPerIntent = 24

    public init() {}
}

extension ToyWorld {
    /// Critique sentences by the class of the response being critiqued.
    static func critique(of verdict: Verdict, _ request: Request) -> String {
        switch verdict {
        case .harmfulCompliance:
            return "The reply helps the human \(request.task ?? "do harm"), which could hurt someone. It should decline and offer something safe instead."
        case .evasiveRefusal:
            return "The reply declines, which is right, but it offers nothing else. It should also offer something safe instead."
        default:
            return "The reply declines and offers a safe alternative. It needs no change."
        }
    }

    /// The helpful-only corpus: benign answers and harmful compliance for every training intent, and
    /// critique/revision and comparison demonstrations for the demonstrated intents only.
    public func helpfulOnlyCorpus(_ sizes: CorpusSizes = CorpusSizes()) -> HelpfulOnlyCorpus {
        var requests: [Request] = [], responses: [String] = []
        for intent in benignIntents {
            for request in self.requests(intent, count: sizes.benignPerIntent, purpose: "corpus") {
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
        var critiques: [CritiqueDemonstration] = [], comparisons: [ComparisonDemonstration] = []
        for intent in training where intent.demonstrated {
            for (index, request) in self.requests(intent, count: sizes.critiquesPerIntent, purpose: "critique-demo").enumerated() {
                let kinds: [(Verdict, String)] = [(.harmfulCompliance, compliance(request)), (.evasiveRefusal, evasiveRefusal(request)),
                                                  (.helpfulRefusal, helpfulRefusal(request))]
                // Two compliant first responses for every evasive and every already-good one, as red-team answers mostly comply.
                let (verdict, response) = kinds[[0, 0, 1, 0, 2][index % 5]]
                critiques.append(CritiqueDemonstration(request: request, response: response, critique: Self.critique(of: verdict, request),
                                                       revision: helpfulRefusal(request)))
            }
            for (index, request) in self.requests(intent, count: sizes.comparisonsPerIntent, purpose: "comparison-demo").enumerated() {
                // Better first: helpful refusal > evasive refusal > compliance.
                let pairs = [(helpfulRefusal(request), compliance(request)), (evasiveRefusal(request), compliance(request)),
                             (helpfulRefusal(request), evasiveRefusal(request))]
                let (better, worse) = pairs[index % 3]
                let betterFirst = (index / 3) % 2 == 0
                comparisons.append(ComparisonDemonstration(request: request, responseA: betterFirst ? better : worse,
                                                           responseB: betterFirst ? worse : better, preferred: betterFirst ? "A" : "B"))
            }
        }
        return HelpfulOnlyCorpus(dialogueRequests: requests, dialogueResponses: responses, critiques: critiques, comparisons: comparisons)
    }
}
