import Foundation
import LanguageModels
import Runtime
import Tokenizers

/// How the preference pairs came out.
public struct FrontierPairStatistics: Codable, Equatable, Sendable {
    /// Pairs of completions sampled (two per pair).
    public var sampled = 0
    /// Pairs written (the ground truth preferred one completion).
    public var labelled = 0
    /// Pairs skipped because both completions had the same reward.
    public var ties = 0
    /// Mean ground-truth reward of the chosen and of the rejected completions.
    public var meanChosenReward = 0.0
    public var meanRejectedReward = 0.0
}

/// One TRL preference example (`prompt`, `chosen`, `rejected`, standard text).
public struct FrontierPreference: Codable, Equatable, Sendable {
    public var prompt: String
    public var chosen: String
    public var rejected: String
}

/// Preference pairs labelled by the ground truth: two completions per pair sampled from the reference model, the
/// one with the higher ``FrontierTask/reward(_:)`` chosen, ties skipped (and counted).
public enum FrontierPairs {
    /// The pair ordered by the ground truth (`reward`, by default the frontier task's), or nil for a tie.
    public static func label(prompt: String, _ first: String, _ second: String,
                             reward: (String) -> Double = FrontierTask.reward) -> FrontierPreference? {
        let a = reward(first), b = reward(second)
        guard a != b else { return nil }
        return a > b ? FrontierPreference(prompt: prompt, chosen: first, rejected: second)
                     : FrontierPreference(prompt: prompt, chosen: second, rejected: first)
    }

    /// Labels consecutive samples (0 and 1, 2 and 3, …) of the same prompt by `reward`.
    public static func label(_ samples: [FrontierSample], prompts: [String],
                             reward: (String) -> Double = FrontierTask.reward) -> ([FrontierPreference], FrontierPairStatistics) {
        var statistics = FrontierPairStatistics()
        var preferences: [FrontierPreference] = []
        var chosenTotal = 0.0, rejectedTotal = 0.0
        for start in stride(from: 0, to: samples.count - 1, by: 2) {
            let first = samples[start], second = samples[start + 1]
            precondition(first.promptIndex == second.promptIndex, "pair \(start / 2) mixes prompts \(first.promptIndex) and \(second.promptIndex)")
            statistics.sampled += 1
            guard let preference = label(prompt: prompts[first.promptIndex], first.text, second.text, reward: reward) else {
                statistics.ties += 1
                continue
            }
            preferences.append(preference)
            chosenTotal += reward(preference.chosen)
            rejectedTotal += reward(preference.rejected)
        }
        statistics.labelled = preferences.count
        if !preferences.isEmpty {
            statistics.meanChosenReward = chosenTotal / Double(preferences.count)
            statistics.meanRejectedReward = rejectedTotal / Double(preferences.count)
        }
        return (preferences, statistics)
    }

    /// `pairsPerPrompt` pairs of samples for every prompt from `model`, unlabelled (consecutive samples pair up).
    public static func sample(model: any CausalLanguageModel, tokenizer: Tokenizer, prompts: [String], pairsPerPrompt: Int,
                              maximumNewTokens: Int, seed: UInt64) -> [FrontierSample] {
        // Prompt p's pairs are samples p·2k ..< (p+1)·2k of a list that repeats each prompt 2k times.
        let perPrompt = 2 * pairsPerPrompt
        let repeated = prompts.flatMap { Array(repeating: $0, count: perPrompt) }
        var samples = FrontierEvaluation.sample(model, tokenizer: tokenizer, prompts: repeated, count: repeated.count,
                                                maximumNewTokens: maximumNewTokens, seed: seed)
        for index in samples.indices { samples[index].promptIndex /= perPrompt }
        return samples
    }

    /// Samples `pairsPerPrompt` pairs for every prompt from `model` and labels them.
    public static func make(model: any CausalLanguageModel, tokenizer: Tokenizer, prompts: [String], pairsPerPrompt: Int,
                            maximumNewTokens: Int, seed: UInt64) -> ([FrontierPreference], FrontierPairStatistics) {
        label(sample(model: model, tokenizer: tokenizer, prompts: prompts, pairsPerPrompt: pairsPerPrompt, maximumNewTokens: maximumNewTokens,
                     seed: seed), prompts: prompts)
    }

    /// Writes TRL preference JSONL (one `{"chosen", "prompt", "rejected"}` object per line).
    public static func write(_ preferences: [FrontierPreference], to url: URL) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        var data = Data()
        for preference in preferences {
            data.append(try encoder.encode(preference))
            data.append(0x0A)
        }
        try AtomicFile.write(data, to: url)
    }
}
