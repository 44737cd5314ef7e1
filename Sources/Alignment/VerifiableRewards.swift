import Datasets
import Foundation
import JSON

/// Reward functions that need no model, for GRPO and RLOO: an exact check of a final number, DAPO's soft length
/// penalty, and an external command.
public enum VerifiableRewards {
    /// The last number in `text` ("-12", "3.5", "1,024" → 1024), or nil.
    public static func lastNumber(in text: String) -> Double? {
        var numbers: [Double] = []
        var current = ""
        func flush() {
            let trimmed = current.hasSuffix(".") ? String(current.dropLast()) : current
            if let value = Double(trimmed.replacingOccurrences(of: ",", with: "")), trimmed.contains(where: \.isNumber) { numbers.append(value) }
            current = ""
        }
        for character in text {
            if character.isASCII && character.isNumber {
                current.append(character)
            } else if character == "-" && current.isEmpty {
                current.append(character)
            } else if (character == "." || character == ",") && current.contains(where: \.isNumber) && !current.hasSuffix(".") {
                current.append(character)
            } else {
                flush()
                if character == "-" { current = "-" }
            }
        }
        flush()
        return numbers.last
    }
}

/// 1 when the last number of the completion equals the row's answer, else 0 — a verifiable reward for arithmetic
/// (TRL's `accuracy_reward` for numbers). The answer is the dataset column `answer` (else `solution`), a number or a
/// text whose last number counts (GSM8K's "… #### 72").
public final class ExactMatchReward: RewardFunction {
    /// The columns searched for the answer, in order.
    public let answerColumns: [String]

    public init(answerColumns: [String] = ["answer", "solution"]) { self.answerColumns = answerColumns }

    /// Checks before training that every row of `examples` has a numeric answer, so a bad row stops the run at once.
    /// - Throws: `TrainingError.data` naming `source`:line and the missing or unreadable column.
    public func check(_ examples: [Example], source: String) throws {
        for example in examples {
            guard let member = example.extras.first(where: { answerColumns.contains($0.key) }) else {
                throw TrainingError.data("\(source):\(example.line): no \(answerColumns.joined(separator: " or ")) column, which the exact-match "
                                         + "reward compares the completion's last number with; add one (e.g. \"answer\": 42)")
            }
            if member.value.doubleValue == nil && member.value.stringValue.flatMap(VerifiableRewards.lastNumber(in:)) == nil {
                throw TrainingError.data("\(source):\(example.line): the \(member.key) column holds no number")
            }
        }
    }

    /// - Throws: `TrainingError.data` when a row has no answer column or its answer has no number.
    public func scores(_ rollouts: [ScoredRollout]) throws -> [Float] {
        try rollouts.map { rollout in
            guard let member = rollout.columns.first(where: { answerColumns.contains($0.key) }) else {
                throw TrainingError.data("the exact-match reward needs an \(answerColumns.joined(separator: " or ")) column in every prompt row; "
                                         + "the row of prompt \(String(rollout.prompt.prefix(60)).debugDescription) has none")
            }
            guard let answer = member.value.doubleValue ?? member.value.stringValue.flatMap(VerifiableRewards.lastNumber(in:)) else {
                throw TrainingError.data("the \(member.key) column of prompt \(String(rollout.prompt.prefix(60)).debugDescription) holds no number")
            }
            return VerifiableRewards.lastNumber(in: rollout.response) == answer ? 1 : 0
        }
    }
}

/// DAPO's soft overlong punishment (Yu et al. 2025; TRL's `get_soft_overlong_punishment`): 0 up to L_max − L_cache
/// completion tokens, then falling linearly to −1 at L_max, and −1 beyond:
///
///     r(L) = 0 if L ≤ L_max − L_cache;  (L_max − L_cache − L) / L_cache if L ≤ L_max;  −1 otherwise.
public final class SoftOverlongPunishment: RewardFunction {
    public let maximumLength: Int
    public let cache: Int

    public init(maximumLength: Int, cache: Int) {
        precondition(cache > 0 && cache <= maximumLength, "SoftOverlongPunishment: cache \(cache) for maximum length \(maximumLength)")
        self.maximumLength = maximumLength
        self.cache = cache
    }

    public func scores(_ rollouts: [ScoredRollout]) throws -> [Float] {
        rollouts.map { rollout in
            let length = rollout.responseIds.count
            if length <= maximumLength - cache { return 0 }
            if length <= maximumLength { return Float(maximumLength - cache - length) / Float(cache) }
            return -1
        }
    }
}

/// A reward computed by an external program. Protocol: the program is started once per batch; it reads one JSON
/// object per line on standard input, one per completion —
///
///     {"prompt": "...", "completion": "...", "prompt_ids": [...], "completion_ids": [...], <the row's other columns>}
///
/// — where a conversational prompt arrives as TRL passes it to reward functions: `prompt` is its list of messages
/// (`[{"role": "user", "content": "..."}]`) and `completion` is `[{"role": "assistant", "content": "..."}]`;
/// `prompt_ids` are then the ids of the rendered chat prompt. The program writes one number per line on standard
/// output, in the same order (blank lines are skipped). Anything on
/// standard error is passed through. A non-zero exit status, a line that is not a number, or a wrong count stops
/// training with an error naming the command.
public final class CommandReward: RewardFunction {
    /// The program and its arguments (run directly, not through a shell).
    public let arguments: [String]

    /// - Parameter command: the command line, split on spaces (`python3 score.py --strict`).
    public init(command: String) {
        arguments = command.split(separator: " ", omittingEmptySubsequences: true).map(String.init)
    }

    /// - Throws: `TrainingError.data` naming the command and what went wrong.
    public func scores(_ rollouts: [ScoredRollout]) throws -> [Float] {
        guard let program = arguments.first else { throw TrainingError.data("the reward command is empty") }
        let name = arguments.joined(separator: " ")
        let input = rollouts.map { Self.line(for: $0) }.joined(separator: "\n") + "\n"
        let process = Process()
        process.executableURL = URL(fileURLWithPath: program.contains("/") ? program : "/usr/bin/env")
        process.arguments = program.contains("/") ? Array(arguments.dropFirst()) : arguments
        let standardInput = Pipe(), standardOutput = Pipe()
        process.standardInput = standardInput
        process.standardOutput = standardOutput
        // A program that exits without reading all its input must not kill training with SIGPIPE: ignore the signal
        // while it runs (the write then fails with EPIPE, and the exit status or line count reports the problem).
        let previousHandler = signal(SIGPIPE, SIG_IGN)
        defer { signal(SIGPIPE, previousHandler) }
        do { try process.run() } catch {
            throw TrainingError.data("the reward command \(name.debugDescription) could not start: \(error.localizedDescription)")
        }
        // Write on another thread so a program that answers line by line cannot fill the output pipe and stall us.
        let written = DispatchSemaphore(value: 0)
        let writer = Thread {
            try? standardInput.fileHandleForWriting.write(contentsOf: Data(input.utf8))
            try? standardInput.fileHandleForWriting.close()
            written.signal()
        }
        writer.start()
        let output = standardOutput.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        written.wait()
        guard process.terminationStatus == 0 else {
            throw TrainingError.data("the reward command \(name.debugDescription) exited with status \(process.terminationStatus)")
        }
        let lines = String(decoding: output, as: UTF8.self).split(whereSeparator: \.isNewline)
            .map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        guard lines.count == rollouts.count else {
            throw TrainingError.data("the reward command \(name.debugDescription) wrote \(lines.count) lines for \(rollouts.count) completions; "
                                     + "it must write one number per input line")
        }
        return try lines.enumerated().map { number, line in
            guard let value = Float(line) else {
                throw TrainingError.data("the reward command \(name.debugDescription), output line \(number + 1): \(line.debugDescription) is not a number")
            }
            return value
        }
    }

    /// One completion as the JSON object the external command and the HTTP endpoint receive: texts for a standard
    /// prompt; for a conversational one, message lists as TRL hands its reward functions `prompts` and `completions`.
    public static func object(for rollout: ScoredRollout) -> JSONValue {
        var prompt = JSONValue.string(rollout.prompt), completion = JSONValue.string(rollout.response)
        if let messages = rollout.promptMessages {
            prompt = .array(messages.map(\.jsonValue))
            completion = .array([Message(role: .assistant, content: rollout.response).jsonValue])
        }
        var members = [JSONValue.Member("prompt", prompt), JSONValue.Member("completion", completion),
                       JSONValue.Member("prompt_ids", .array(rollout.promptIds.map { .number(JSONNumber(Int($0))) })),
                       JSONValue.Member("completion_ids", .array(rollout.responseIds.map { .number(JSONNumber(Int($0))) }))]
        members += rollout.columns.filter { !["prompt", "completion", "prompt_ids", "completion_ids"].contains($0.key) }
        return .object(members)
    }

    static func line(for rollout: ScoredRollout) -> String { object(for: rollout).serialized() }
}

/// The reward functions a recipe's `reward_funcs` (one name or a list) can name without a network: `exact-match`,
/// `length` and `cmd:PROGRAM ARGS`. `charter grpo`/`rloo` add `http(s)://` endpoints; pipeline stages add the
/// preference model of their `reward_model:`.
public enum BuiltInRewards {
    public static let recipeKey = "reward_funcs"

    /// The names a recipe value holds (a string or a list of strings).
    public static func names(_ value: Any?) -> [String] {
        switch value {
        case let name as String: return [name]
        case let list as [Any]: return list.compactMap { $0 as? String }
        default: return []
        }
    }

    /// The reward a name stands for, with its metric name; nil for a name this list does not know.
    /// - Throws: `TrainingError.data` for `cmd:` without a program.
    public static func named(_ spec: String, maximumCompletionLength: Int) throws -> (name: String, function: RewardFunction)? {
        switch spec {
        // charter_rewards.NAME: the functions `charter export trl grpo|rloo` writes, so an exported config runs here too.
        case "exact-match", "exact_match", "charter_rewards.exact_match": return ("exact_match", ExactMatchReward())
        case "length", "charter_rewards.length": return ("length", SoftOverlongPunishment(maximumLength: maximumCompletionLength, cache: max(1, maximumCompletionLength / 4)))
        default:
            guard spec.hasPrefix("cmd:") else { return nil }
            let command = String(spec.dropFirst(4)).trimmingCharacters(in: .whitespaces)
            guard !command.isEmpty else { throw TrainingError.data("reward cmd: needs a program, e.g. cmd:python3 score.py") }
            return ("command", CommandReward(command: command))
        }
    }

    /// Metric names made unique in order: a repeated kind gets `_2`, `_3`, …
    public static func uniquelyNamed(_ rewards: [(name: String, function: RewardFunction)]) -> [NamedReward] {
        var used: [String: Int] = [:]
        return rewards.map { reward in
            used[reward.name, default: 0] += 1
            return NamedReward(name: used[reward.name]! > 1 ? "\(reward.name)_\(used[reward.name]!)" : reward.name, function: reward.function)
        }
    }
}
