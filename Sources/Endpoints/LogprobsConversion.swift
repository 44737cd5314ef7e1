import LanguageModels

// Between Charter's per-token log-probs and the two wire layouts (completions: columns; chat: one object per token).

extension CompletionLogprobs {
    /// The completions layout of `tokens`, the first one starting `startOffset` characters into the prompt.
    init(_ tokens: [TokenLogProbability], startOffset: Int, includeTop: Bool) {
        var offsets: [Int] = []
        var offset = startOffset
        for token in tokens {
            offsets.append(offset)
            offset += token.token.unicodeScalars.count
        }
        self.init(
            tokens: tokens.map(\.token),
            tokenLogprobs: tokens.map(\.logProbability),
            topLogprobs: includeTop
                ? tokens.map { token in Dictionary(token.top.map { ($0.token, $0.logProbability) }, uniquingKeysWith: { Swift.max($0, $1) }) }
                : nil,
            textOffset: offsets)
    }

    /// Charter's per-token log-probs; positions without a log-prob (the first echoed prompt token) are dropped.
    /// - Throws: `EndpointError.invalidResponse` when the columns have different lengths.
    func tokenLogProbabilities(endpoint: String, path: String) throws -> [TokenLogProbability] {
        guard tokenLogprobs.count == tokens.count else {
            throw EndpointError.invalidResponse(
                endpoint: endpoint, field: "\(path).token_logprobs",
                detail: "has \(tokenLogprobs.count) entries for \(tokens.count) tokens")
        }
        if let topLogprobs, topLogprobs.count != tokens.count {
            throw EndpointError.invalidResponse(
                endpoint: endpoint, field: "\(path).top_logprobs",
                detail: "has \(topLogprobs.count) entries for \(tokens.count) tokens")
        }
        return tokens.indices.compactMap { i in
            guard let logProbability = tokenLogprobs[i] else { return nil }
            let top = (topLogprobs?[i] ?? [:]).map { TokenLogProbability.Alternative(token: $0.key, logProbability: $0.value) }
            return TokenLogProbability(token: tokens[i], logProbability: logProbability, top: top.sortedByLikelihood())
        }
    }
}

extension ChatLogprobs {
    init(_ tokens: [TokenLogProbability]) {
        self.init(content: tokens.map { token in
            Entry(
                token: token.token, logprob: token.logProbability, bytes: token.token.utf8.map(Int.init),
                topLogprobs: token.top.map { Alternative(token: $0.token, logprob: $0.logProbability, bytes: $0.token.utf8.map(Int.init)) })
        })
    }

    var tokenLogProbabilities: [TokenLogProbability] {
        (content ?? []).map { entry in
            TokenLogProbability(
                token: entry.token, logProbability: entry.logprob,
                top: (entry.topLogprobs ?? []).map { .init(token: $0.token, logProbability: $0.logprob) })
        }
    }
}

extension Array where Element == TokenLogProbability.Alternative {
    /// Most likely first; ties by token so that a decoded dictionary gives one order.
    func sortedByLikelihood() -> [Element] {
        sorted { $0.logProbability != $1.logProbability ? $0.logProbability > $1.logProbability : $0.token < $1.token }
    }
}

extension FinishReason {
    /// OpenAI's `finish_reason`; servers' other reasons ("eos", …) count as a stop.
    init(wire: String) {
        self = FinishReason(rawValue: wire) ?? .stop
    }
}
