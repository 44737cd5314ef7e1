import Foundation
import Runtime
import Tensors

/// The synthetic "review" language of `charter experiment frontier`, after the controlled-sentiment task of
/// Rafailov et al. 2023 (DPO, §6.1), with a ground-truth reward computed from the text instead of a sentiment
/// classifier.
///
/// A prompt names an item ("Review of the kettle:"); a continuation is a few words from three lists — positive,
/// negative and neutral — ending with a full stop. Every review of the corpus has a tone t ~ U(0, 1): each word is a
/// sentiment word with probability ½, positive with probability t among those, so the reference model learns
/// reviews of every shade whose words agree with each other.
///
/// Ground truth: r(y) = (#positive − #negative) / #words of the continuation y, in [−1, 1]; 0 for no words.
public struct FrontierTask: Sendable {
    public static let positiveWords = ["great", "lovely", "superb", "excellent", "delightful", "charming", "reliable", "sturdy",
                                       "brilliant", "pleasant", "wonderful", "solid"]
    public static let negativeWords = ["awful", "broken", "dull", "flimsy", "terrible", "clumsy", "noisy", "poor",
                                       "disappointing", "faulty", "bland", "cheap"]
    public static let neutralWords = ["it", "is", "was", "and", "but", "the", "very", "quite", "really", "design", "price",
                                      "colour", "size", "overall", "feels", "looks"]
    public static let items = ["kettle", "toaster", "blender", "camera", "lamp", "backpack", "umbrella", "novel", "hotel",
                               "bicycle", "keyboard", "headphones", "tent", "jacket", "sofa", "printer", "phone", "watch",
                               "teapot", "guitar", "mattress", "scarf", "stroller", "drill", "heater", "mirror", "radio",
                               "wallet", "helmet", "kayak", "candle", "router"]
    /// Prompt forms; `{}` is the item.
    public static let templates = ["Review of the {}:", "My {}:", "Thoughts on the {}:"]
    /// Shortest and longest corpus continuation, in words.
    public static let wordCount = 3...8

    static let positive = Set(positiveWords), negative = Set(negativeWords)

    /// Items whose prompts train (pairs, DPO, PPO) and items kept for evaluation only; both appear in the SFT corpus.
    public let trainingItems: [String]
    public let heldOutItems: [String]

    /// Splits the items with `seed`, holding out `heldOutCount` of them.
    public init(seed: UInt64, heldOutCount: Int) {
        var generator = SeededGenerator(seed: seed &+ 0xF0_0D)
        var items = Self.items
        items.seededShuffle(using: &generator)
        let count = min(max(heldOutCount, 0), items.count - 1)
        heldOutItems = Array(items.prefix(count))
        trainingItems = Array(items.dropFirst(count))
    }

    /// Every prompt form of every item, in a fixed order.
    public static func prompts(for items: [String]) -> [String] {
        items.flatMap { item in templates.map { $0.replacingOccurrences(of: "{}", with: item) } }
    }

    public var trainingPrompts: [String] { Self.prompts(for: trainingItems) }
    public var heldOutPrompts: [String] { Self.prompts(for: heldOutItems) }

    /// `count` prompt–completion documents over all items (the reference model's SFT corpus); completions start with a
    /// space and end with a full stop.
    public func corpus(count: Int, seed: UInt64) -> [(prompt: String, completion: String)] {
        var generator = SeededGenerator(seed: seed)
        let prompts = Self.prompts(for: trainingItems + heldOutItems)
        func pick(_ words: [String]) -> String { words[Int(generator.next() % UInt64(words.count))] }
        return (0..<count).map { _ in
            let prompt = pick(prompts)
            let tone = generator.nextUniform()
            let length = Self.wordCount.lowerBound + Int(generator.next() % UInt64(Self.wordCount.count))
            let words = (0..<length).map { _ -> String in
                guard generator.nextUniform() < 0.5 else { return pick(Self.neutralWords) }
                return generator.nextUniform() < tone ? pick(Self.positiveWords) : pick(Self.negativeWords)
            }
            return (prompt, " " + words.joined(separator: " ") + ".")
        }
    }

    /// The ground-truth reward of a continuation: (#positive − #negative) / #words, in [−1, 1] (0 without words).
    /// Words are split at whitespace, lowercased and stripped of punctuation; a word in no list counts as neutral.
    public static func reward(_ continuation: String) -> Double {
        let counts = wordCounts(continuation)
        return counts.words == 0 ? 0 : Double(counts.positive - counts.negative) / Double(counts.words)
    }

    /// The continuation's words (split and cleaned as ``reward(_:)`` does) and how many are positive or negative.
    public static func wordCounts(_ continuation: String) -> (words: Int, positive: Int, negative: Int) {
        let words = continuation.lowercased().split(whereSeparator: \.isWhitespace)
            .map { $0.filter { $0.isLetter || $0.isNumber } }
            .filter { !$0.isEmpty }
        return (words.count, words.filter(positive.contains).count, words.filter(negative.contains).count)
    }
}
