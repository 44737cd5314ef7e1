import Alignment
import Datasets
import Foundation
import LanguageModels
import Runtime

/// A reference language model's vote on each pair's label: whether each response was written for its own prompt.
///
/// Small reward models trained on a few hundred pairs learn what a refusal or a compliance looks like, not whether an
/// answer fits its question, so a pair whose chosen response answers another question slips past them. The reference
/// (typically the SFT model the responses came from) measures that fit as a contrastive pointwise mutual
/// information: relevance(x, y) = log p(y | x) − mean_j log p(y | x_j), the response's log-likelihood under its own
/// prompt minus its mean under `otherPrompts` prompts x_j of other pairs of the file. An answer to another question,
/// or a canned reply that fits any question, scores near or below 0; a response that uses its prompt scores high. Per
/// pair, gap = relevance(chosen) − relevance(rejected) gives the vote P = σ(gap / `scale`), which joins the reward
/// models' mean P(chosen ≻ rejected) as an equal second opinion (``RewardEnsemble``). A harmless refusal and a harmful
/// compliance to the same request are both about it, so the vote stays near ½ there and leaves the reward models to
/// decide.
public struct ReferenceRelevance: Sendable, Equatable {
    /// The reference model's folder (a causal LM with its tokenizer).
    public var model: URL
    /// Nats of relevance gap per unit of log-odds of the vote.
    public var scale = 12.0
    /// Other pairs' prompts each response is also scored under.
    public var otherPrompts = 3

    public init(model: URL, scale: Double = 12, otherPrompts: Int = 3) {
        (self.model, self.scale, self.otherPrompts) = (model, scale, otherPrompts)
    }

    /// The vote for a gap: σ(gap / scale).
    func vote(gap: Double) -> Double { 1 / (1 + exp(-gap / scale)) }

    /// The reference's gaps over one file, and the time they took.
    public struct Votes: Sendable {
        public let reference: ReferenceRelevance
        /// Row → relevance(chosen) − relevance(rejected).
        let gaps: [Int: Double]
        public let seconds: Double
        /// Pairs with a gap (the others are judged by the reward models alone).
        public var scoredPairs: Int { gaps.count }
    }

    /// Scores every pair it can (``gaps(examples:pairs:log:)``) and times it.
    func votes(examples: [Example], pairs: [AuditPair], log: (String) -> Void) throws -> Votes {
        let start = Date()
        let gaps = try gaps(examples: examples, pairs: pairs, log: log)
        return Votes(reference: self, gaps: gaps, seconds: Date().timeIntervalSince(start))
    }

    /// Relevance gaps per row (rows whose texts cannot be scored — longer than the model's context, mixed standard
    /// and conversational texts, or a file with a single prompt — are absent).
    /// - Throws: model-loading errors naming the folder; a conversational pair without a usable chat template.
    func gaps(examples: [Example], pairs: [AuditPair], log: (String) -> Void) throws -> [Int: Double] {
        let model = try PretrainedModel.load(directory: self.model)
        let encoder = try ExampleEncoder.load(directory: self.model, chatTemplate: nil)
        let eos = encoder.tokenizer.eosToken ?? ""
        let context = model.maximumSequenceLength

        /// Token ids of the prompt and of prompt + response (eos appended to standard text, as the reward trainer
        /// does), or nil when the two are of different kinds.
        func encode(_ prompt: ExampleText, _ response: ExampleText) throws -> (prompt: [Int32], full: [Int32])? {
            switch (prompt, response) {
            case let (.standard(prompt), .standard(response)):
                let closed = response.hasSuffix(eos) ? response : response + eos
                return (encoder.encode(prompt), encoder.encode(prompt + closed))
            case let (.conversational(prompt), .conversational(response)):
                guard let conversation = encoder.encodeConversation else {
                    throw AuditError("--reference-model: conversational pairs need a chat template in \(self.model.path)"
                                     + (encoder.chatTemplateProblem.map { " (\($0))" } ?? ""))
                }
                return (try conversation(prompt, true).ids, try conversation(prompt + response, false).ids)
            default:
                return nil
            }
        }

        // Each row's other prompts: drawn from the other rows by a generator seeded with the row's prompt, so a
        // pair's scores do not depend on where it sits in the file.
        let distinctPrompts = Set(pairs.map(\.promptKey)).count
        guard distinctPrompts > 1 else {
            log("reference model: every pair has the same prompt, so relevance cannot be contrasted; no votes")
            return [:]
        }
        func others(of row: Int) -> [Int] {
            var random = SplitMix64(seed: pairs[row].promptKey ^ 0x5245_4C45_5641_4E43)
            var chosen: [Int] = [], keys: Set<UInt64> = [pairs[row].promptKey]
            let wanted = min(otherPrompts, distinctPrompts - 1)
            var attempts = 0
            while chosen.count < wanted, attempts < 64 * otherPrompts {
                attempts += 1
                let candidate = Int(random.next() % UInt64(pairs.count))
                if keys.insert(pairs[candidate].promptKey).inserted { chosen.append(candidate) }
            }
            return chosen
        }

        let start = Date()
        var gaps: [Int: Double] = [:]
        let chunk = 256
        for first in stride(from: 0, to: examples.count, by: chunk) {
            // Per row: own prompt and each other prompt, for chosen and for rejected.
            var sequences: [(row: Int, response: Int, own: Bool, ids: [Int32], from: Int)] = []
            for row in first..<min(first + chunk, examples.count) {
                guard let (prompt, chosen, rejected) = examples[row].preference else { continue }
                let otherRows = others(of: row)
                guard !otherRows.isEmpty else { continue }
                var items: [(row: Int, response: Int, own: Bool, ids: [Int32], from: Int)] = []
                var usable = true
                for (response, text) in [chosen, rejected].enumerated() {
                    let prompts = [(prompt, true)] + otherRows.compactMap { other in examples[other].preference.map { ($0.prompt, false) } }
                    var scoredOthers = 0
                    for (candidate, own) in prompts {
                        guard let (promptIds, fullIds) = try encode(candidate, text) else {
                            if own { usable = false }
                            continue
                        }
                        if let context, fullIds.count > context {
                            if own { usable = false }
                            continue
                        }
                        // Scored from the first token past the prompt's own encoding (at least the second token).
                        items.append((row, response, own, fullIds, max(1, min(promptIds.count, fullIds.count - 1))))
                        if !own { scoredOthers += 1 }
                    }
                    if scoredOthers == 0 { usable = false }
                }
                if usable { sequences += items }
            }
            guard !sequences.isEmpty else { continue }
            // Sorted by length so each batch pads little.
            let order = sequences.indices.sorted { sequences[$0].ids.count < sequences[$1].ids.count }
            let values = try model.tokenLogProbabilities(order.map { sequences[$0].ids }, batchSize: 16)
            var own: [Int: [Double]] = [:], other: [Int: [Double]] = [:]
            for (position, index) in order.enumerated() {
                let item = sequences[index]
                // values[t − 1] is log p(token t | tokens before it).
                let logLikelihood = values[position][(item.from - 1)...].reduce(0) { $0 + Double($1) }
                let key = 2 * item.row + item.response
                if item.own { own[key, default: []].append(logLikelihood) } else { other[key, default: []].append(logLikelihood) }
            }
            for row in first..<min(first + chunk, examples.count) {
                func relevance(_ response: Int) -> Double? {
                    guard let mine = own[2 * row + response]?.first, let theirs = other[2 * row + response],
                          !theirs.isEmpty else { return nil }
                    return mine - theirs.reduce(0, +) / Double(theirs.count)
                }
                if let chosen = relevance(0), let rejected = relevance(1) { gaps[row] = chosen - rejected }
            }
        }
        log(String(format: "reference model: relevance of %d of %d pairs, %d other prompts each (%.0f s)", gaps.count, examples.count,
                   otherPrompts, Date().timeIntervalSince(start)))
        return gaps
    }
}
