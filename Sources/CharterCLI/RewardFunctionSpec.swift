import Alignment
import ArgumentParser
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import JSON

/// The reward functions of `charter grpo` and `charter rloo`, named on the command line (`--reward`, repeatable) or in
/// the recipe (`reward_funcs:`, one name or a list):
/// - `exact-match`: 1 when the completion's last number equals the row's `answer` (or `solution`) column, else 0;
/// - `length`: DAPO's soft overlong punishment with L_max = max_completion_length and L_cache = L_max / 4;
/// - `cmd:PROGRAM ARGS…`: an external program (`CommandReward`: JSON lines in, one number per line out);
/// - `http://…` or `https://…`: an HTTP endpoint (`HTTPReward`: POST {"rollouts": [...]}, answer {"rewards": [...]});
/// - a folder: a reward model (sequence classifier) or a reward-model ensemble folder (ensemble.json), named by the
///   folder as TRL names a reward model by its id; an ensemble's members are combined by `reward_aggregation`.
enum RewardFunctionSpec {
    static let recipeKey = BuiltInRewards.recipeKey

    /// The reward functions a recipe names, with unique metric names (`exact_match`, `length`, `command`, `http`, a
    /// reward model's folder name; a repeated kind gets `_2`, `_3`, …).
    /// - Parameters:
    ///   - policyFolder: the policy's folder (a reward model with the same tokenizer scores by token id).
    ///   - aggregation: how an ensemble folder combines its members.
    /// - Throws: `ValidationError` for no reward or an unknown one; what loading a reward model throws.
    static func rewards(_ recipe: TrainingRecipe, maximumCompletionLength: Int, policyFolder: URL, aggregation: RewardAggregation,
                        seed: UInt64) throws -> [NamedReward] {
        let names = BuiltInRewards.names(recipe[recipeKey])
        guard !names.isEmpty else {
            throw ValidationError("give a reward with --reward exact-match|length|cmd:PROGRAM|http://URL|FOLDER (or reward_funcs in the recipe)")
        }
        return BuiltInRewards.uniquelyNamed(try names.map { spec in
            let folder = URL(fileURLWithPath: spec)
            guard FileManager.default.fileExists(atPath: folder.appendingPathComponent("config.json").path) || RewardEnsembleManifest.isEnsemble(folder) else {
                if FileManager.default.fileExists(atPath: spec) {
                    throw ValidationError("reward \(spec.debugDescription) is neither a reward model folder (config.json) nor an ensemble folder (\(RewardEnsembleManifest.fileName))")
                }
                return try reward(spec, maximumCompletionLength: maximumCompletionLength)
            }
            let folders = PPOModelFolders(policy: policyFolder, rewardModel: folder)
            if !folders.sharesTokenizer { note("the reward model \(spec)'s tokenizer differs from the policy's: completions are re-tokenized for scoring") }
            return (folder.lastPathComponent, try folders.rewardFunction(aggregation: aggregation, seed: seed))
        })
    }

    static func reward(_ spec: String, maximumCompletionLength: Int) throws -> (name: String, function: RewardFunction) {
        if let builtIn = try BuiltInRewards.named(spec, maximumCompletionLength: maximumCompletionLength) { return builtIn }
        if spec.hasPrefix("http://") || spec.hasPrefix("https://"), let url = URL(string: spec) {
            return ("http", HTTPReward(url: url))
        }
        throw ValidationError("unknown reward \(spec.debugDescription): use exact-match, length, cmd:PROGRAM ARGS or an http(s):// URL")
    }
}

/// A reward served over HTTP. Protocol: one POST per batch with `Content-Type: application/json` and the body
/// `{"rollouts": [{"prompt", "completion", "prompt_ids", "completion_ids", <the row's other columns>}, …]}` (the objects
/// `CommandReward` writes: a conversational prompt and its completion as message lists, as TRL passes them); the answer is `{"rewards": [numbers]}` (or a bare array), one per rollout, in order.
/// A non-2xx status, a malformed answer or a wrong count stops training with an error naming the URL.
final class HTTPReward: RewardFunction {
    let url: URL
    let timeout: TimeInterval

    init(url: URL, timeout: TimeInterval = 600) {
        self.url = url
        self.timeout = timeout
    }

    /// What the completion handler hands back to the waiting caller.
    private final class Exchange: @unchecked Sendable {
        var data: Data?
        var status: Int?
        var error: (any Error)?
    }

    func scores(_ rollouts: [ScoredRollout]) throws -> [Float] {
        var request = URLRequest(url: url, timeoutInterval: timeout)
        request.httpMethod = "POST"
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        let body = JSONValue.object([JSONValue.Member("rollouts", .array(rollouts.map(CommandReward.object(for:))))])
        request.httpBody = Data(body.serialized().utf8)
        let exchange = Exchange()
        let done = DispatchSemaphore(value: 0)
        URLSession.shared.dataTask(with: request) { data, response, error in
            exchange.data = data
            exchange.status = (response as? HTTPURLResponse)?.statusCode
            exchange.error = error
            done.signal()
        }.resume()
        done.wait()
        if let error = exchange.error {
            throw ValidationError("the reward endpoint \(url.absoluteString) failed: \(error.localizedDescription)")
        }
        guard let status = exchange.status, (200..<300).contains(status) else {
            throw ValidationError("the reward endpoint \(url.absoluteString) answered HTTP \(exchange.status.map(String.init) ?? "?")")
        }
        let answer = try? JSONParser.parse(exchange.data ?? Data())
        let list: [JSONValue]?
        switch answer {
        case .array(let values)?: list = values
        case .object?: list = answer?["rewards"].flatMap { if case .array(let values) = $0 { return values } else { return nil } }
        default: list = nil
        }
        guard let list, list.count == rollouts.count, list.allSatisfy({ $0.doubleValue != nil }) else {
            throw ValidationError("the reward endpoint \(url.absoluteString) must answer {\"rewards\": [one number per rollout]} "
                                  + "for \(rollouts.count) rollouts")
        }
        return list.map { Float($0.doubleValue ?? 0) }
    }
}
