import Foundation

/// GRPO's and RLOO's reward functions in an export: `trl grpo|rloo` loads each `reward_funcs` entry that is a dotted
/// path by importing the module from its working directory (launch.sh runs it in the export folder), so Charter's
/// rewards become functions of a generated `charter_rewards.py` with TRL's reward-function signature
/// (`prompts, completions, completion_ids, **columns` → one float per completion).
extension TRLExport {
    /// The Python module's name (`reward_funcs: [charter_rewards.exact_match, …]`).
    public static let rewardModule = "charter_rewards"

    /// One of Charter's reward functions as the export writes it.
    public struct ExportedReward: Equatable, Sendable {
        /// The function's name in the module, Charter's metric name (TRL logs `rewards/NAME/mean`, as Charter does).
        public var name: String
        /// What it calls: "exact_match", "length", a `cmd:` command line or an http(s) URL.
        public var kind: Kind

        public enum Kind: Equatable, Sendable {
            case exactMatch
            case length(maximum: Int, cache: Int)
            case command(String)
            case http(String)
        }
    }

    /// Charter's reward specs (`exact-match`, `length`, `cmd:PROGRAM ARGS`, `http(s)://URL`) as module functions,
    /// named as Charter names their metrics (``BuiltInRewards/uniquelyNamed(_:)``).
    /// - Throws: `TrainingError.data` naming a spec the export cannot write (a reward model folder, an unknown name).
    static func exportedRewards(_ specs: [String], maximumCompletionLength: Int) throws -> [ExportedReward] {
        var used: [String: Int] = [:]
        return try specs.map { spec in
            let kind: ExportedReward.Kind, base: String
            switch spec {
            case "exact-match", "exact_match": (kind, base) = (.exactMatch, "exact_match")
            case "length": (kind, base) = (.length(maximum: maximumCompletionLength, cache: max(1, maximumCompletionLength / 4)), "length")
            case _ where spec.hasPrefix("cmd:"):
                let command = String(spec.dropFirst(4)).trimmingCharacters(in: .whitespaces)
                guard !command.isEmpty else { throw TrainingError.data("reward cmd: needs a program, e.g. cmd:python3 score.py") }
                (kind, base) = (.command(command), "command")
            case _ where spec.hasPrefix("http://") || spec.hasPrefix("https://"): (kind, base) = (.http(spec), "http")
            default:
                throw TrainingError.data("reward_funcs: \(spec.debugDescription) cannot be exported: give exact-match, length, cmd:PROGRAM ARGS or an http(s):// URL")
            }
            used[base, default: 0] += 1
            return ExportedReward(name: used[base]! > 1 ? "\(base)_\(used[base]!)" : base, kind: kind)
        }
    }

    /// The text of charter_rewards.py.
    /// - Parameter model: the folder whose tokenizer gives `cmd:` and `http` rewards their `prompt_ids` (TRL hands
    ///   reward functions the prompts, not their ids).
    static func rewardModuleSource(_ rewards: [ExportedReward], model: String) -> String {
        var functions: [String] = []
        for reward in rewards {
            switch reward.kind {
            case .exactMatch:
                functions.append("""
                    def \(reward.name)(prompts, completions, completion_ids, **columns):
                        \"\"\"Charter's exact-match: 1.0 when the completion's last number equals the row's answer (or solution) column.\"\"\"
                        return [1.0 if last_number(completion_text(completion)) == answer(columns, index) else 0.0
                                for index, completion in enumerate(completions)]
                    """)
            case let .length(maximum, cache):
                functions.append("""
                    def \(reward.name)(prompts, completions, completion_ids, **columns):
                        \"\"\"Charter's length: DAPO's soft overlong punishment, L_max \(maximum), L_cache \(cache) (completion tokens, eos included).\"\"\"
                        return [soft_overlong_punishment(len(ids), \(maximum), \(cache)) for ids in completion_ids]
                    """)
            case let .command(command):
                functions.append("""
                    def \(reward.name)(prompts, completions, completion_ids, **columns):
                        \"\"\"Charter's cmd: reward: runs \(command.replacingOccurrences(of: "\"", with: "'")) once per batch (JSON lines in, one number per line out).\"\"\"
                        return run_command(\(Self.pythonString(command)), rollouts(prompts, completions, completion_ids, columns))
                    """)
            case let .http(url):
                functions.append("""
                    def \(reward.name)(prompts, completions, completion_ids, **columns):
                        \"\"\"Charter's http reward: POST {"rollouts": [...]} to the endpoint, answer {"rewards": [...]}.\"\"\"
                        return post_rollouts(\(Self.pythonString(url)), rollouts(prompts, completions, completion_ids, columns))
                    """)
            }
        }
        return """
            \"\"\"Charter's reward functions for TRL \(TRLConfigKeys.version) (generated by charter export trl; config.yaml's reward_funcs
            names them as \(rewardModule).NAME). Each scores a completion as Charter's reward of the same name does, with TRL's
            reward-function signature: prompts, completions (text, or [{"role": "assistant", "content": ...}]),
            completion_ids and the dataset's other columns as keyword lists; one float per completion.\"\"\"
            from json import dumps, loads
            from shlex import split
            from subprocess import PIPE, run
            from urllib.request import Request, urlopen

            # The tokenizer that gives cmd: and http rewards their prompt_ids.
            MODEL = \(Self.pythonString(model))
            # Keywords TRL adds that are not dataset columns.
            TRAINER_KEYWORDS = {"trainer_state", "log_extra", "log_metric", "environments"}


            def completion_text(completion):
                return completion[0]["content"] if isinstance(completion, list) else completion


            def last_number(text):
                \"\"\"The last number in text ("-12", "3.5", "1,024" -> 1024.0), or None (Charter's VerifiableRewards.lastNumber).\"\"\"
                numbers, current = [], ""

                def flush():
                    trimmed = current[:-1] if current.endswith(".") else current
                    try:
                        if any(c.isdigit() for c in trimmed):
                            numbers.append(float(trimmed.replace(",", "")))
                    except ValueError:
                        pass

                for character in text:
                    if character.isascii() and character.isdigit():
                        current += character
                    elif character == "-" and current == "":
                        current += character
                    elif character in ".," and any(c.isdigit() for c in current) and not current.endswith("."):
                        current += character
                    else:
                        flush()
                        current = "-" if character == "-" else ""
                flush()
                return numbers[-1] if numbers else None


            def answer(columns, index):
                \"\"\"The row's answer: the first answer or solution column, a number or a text whose last number counts.\"\"\"
                for key, values in columns.items():
                    if key in ("answer", "solution"):
                        value = values[index]
                        if isinstance(value, (int, float)) and not isinstance(value, bool):
                            return float(value)
                        number = last_number(value) if isinstance(value, str) else None
                        if number is None:
                            raise ValueError(f"the {key} column of row {index} holds no number")
                        return number
                raise ValueError("the exact-match reward needs an answer or solution column in every prompt row")


            def soft_overlong_punishment(length, maximum, cache):
                if length <= maximum - cache:
                    return 0.0
                if length <= maximum:
                    return (maximum - cache - length) / cache
                return -1.0


            _tokenizer = None


            def rollouts(prompts, completions, completion_ids, columns):
                \"\"\"Each completion as Charter's cmd: and http rewards receive it: a standard prompt decoded without special
                tokens and the completion's text; a conversational prompt and its completion as the message lists TRL passes
                ([{"role": "assistant", "content": ...}]); the prompt's ids (of the rendered chat prompt), the completion's
                ids, and the row's other columns.\"\"\"
                global _tokenizer
                if _tokenizer is None:
                    from transformers import AutoTokenizer
                    _tokenizer = AutoTokenizer.from_pretrained(MODEL)
                objects = []
                for index, (prompt, completion, ids) in enumerate(zip(prompts, completions, completion_ids)):
                    if isinstance(prompt, list):
                        text = _tokenizer.apply_chat_template(prompt, tokenize=False, add_generation_prompt=True)
                        prompt_ids = _tokenizer(text, add_special_tokens=False)["input_ids"]
                        completion = [{"role": "assistant", "content": completion_text(completion)}]
                    else:
                        prompt_ids = _tokenizer(prompt, add_special_tokens=False)["input_ids"]
                        prompt, completion = _tokenizer.decode(prompt_ids, skip_special_tokens=True), completion_text(completion)
                    item = {"prompt": prompt, "completion": completion, "prompt_ids": prompt_ids, "completion_ids": list(ids)}
                    for key, values in columns.items():
                        if key not in TRAINER_KEYWORDS and key not in item:
                            item[key] = values[index]
                    objects.append(item)
                return objects


            def run_command(command, objects):
                \"\"\"Charter's CommandReward: the program (not a shell) reads one JSON object per line, writes one number per line.\"\"\"
                text = "".join(dumps(item, ensure_ascii=False) + "\\n" for item in objects)
                done = run(split(command), input=text.encode(), stdout=PIPE)
                if done.returncode != 0:
                    raise RuntimeError(f"the reward command {command!r} exited with status {done.returncode}")
                lines = [line.strip() for line in done.stdout.decode().splitlines() if line.strip()]
                if len(lines) != len(objects):
                    raise RuntimeError(f"the reward command {command!r} wrote {len(lines)} lines for {len(objects)} completions")
                return [float(line) for line in lines]


            def post_rollouts(url, objects):
                \"\"\"Charter's HTTPReward: one POST per batch; the answer is {"rewards": [...]} or a bare list.\"\"\"
                request = Request(url, data=dumps({"rollouts": objects}).encode(), headers={"Content-Type": "application/json"},
                                  method="POST")
                with urlopen(request, timeout=600) as response:
                    answer = loads(response.read())
                rewards = answer.get("rewards") if isinstance(answer, dict) else answer
                if not isinstance(rewards, list) or len(rewards) != len(objects):
                    raise RuntimeError(f"the reward endpoint {url} must answer {{\\"rewards\\": [one number per rollout]}} for {len(objects)} rollouts")
                return [float(value) for value in rewards]


            \(functions.joined(separator: "\n\n\n"))

            """
    }

    /// A Python string literal (JSON's escapes are Python's).
    static func pythonString(_ text: String) -> String { TRLExport.yamlValue(text) }
}
