"""Golden scores for `charter export trl grpo|rloo`'s reward module (charter_rewards.py).

Run from the repository root after `swift build` (CPU; TRL 1.16, transformers 5.x):

    python3 Tests/AlignmentTests/Fixtures/trl/rewards/make_reward_fixtures.py .build/debug/charter

Exports a GRPO recipe with the rewards exact-match, length (max_completion_length 16: L_cache 4) and
`cmd:awk -f score.awk`, copies the generated charter_rewards.py here, and calls its functions the way TRL's
GRPOTrainer does (prompts, completions, completion_ids, the dataset's other columns as keyword lists) on fixed
completions; writes expected_rewards.json. TRLExportRewardsTests scores the same completions with Charter's reward
functions and checks that the exporter still writes this module. For conversational prompts (a system and a user
message, as TRL passes `prompts` and `completions` to reward functions) it also records the objects the module's cmd:
and http rewards send (`rollouts`), which must equal the ones Charter's CommandReward and HTTPReward send.
"""
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
POLICY = os.path.join(HERE, "..", "policy")
MAX_COMPLETION_LENGTH = 16

# (prompt, completion, completion length in tokens, the row's other columns in order)
CASES = [
    ("What is 2+3?", "The answer is 5.", 5, {"answer": 5}),
    ("12*12?", "It is 144", 12, {"answer": "12 twelves #### 144"}),
    ("Sum?", "1,024 apples", 13, {"answer": 1024}),
    ("Negative?", "minus: -7.", 16, {"answer": -7}),
    ("Half?", "3.5 or 4", 17, {"answer": 3.5}),
    ("Difference?", "Answer: 2-3", 3, {"solution": -3}),
    ("Count?", "no number here", 1, {"answer": 1}),
    ("Version?", "1.2.3", 14, {"answer": 3}),
    ("Forty-two?", "ends with dot 42.", 15, {"answer": 42}),
    ("Version two?", "v2.0.", 4, {"answer": 2}),
    ("Arabic?", "\u0663", 2, {"answer": 3}),
    ("Double minus?", "--5", 3, {"answer": -5}),
    ("Both columns?", "7", 2, {"solution": 7, "answer": 8}),
]


def main():
    charter = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else ".build/debug/charter")
    with tempfile.TemporaryDirectory() as folder:
        prompts = os.path.join(folder, "prompts.jsonl")
        with open(prompts, "w") as handle:
            for prompt, _, _, columns in CASES:
                handle.write(json.dumps({"prompt": prompt, "answer": 1}) + "\n")
        subprocess.run([charter, "export", "trl", "grpo", "--model", os.path.abspath(POLICY), "--dataset", prompts,
                        "--reward", "exact-match", "--reward", "length", "--reward", "cmd:awk -f score.awk",
                        "--set", f"max_completion_length={MAX_COMPLETION_LENGTH}", "--output", os.path.join(folder, "export")],
                       check=True)
        shutil.copy(os.path.join(folder, "export", "charter_rewards.py"), os.path.join(HERE, "charter_rewards.py"))
    spec = importlib.util.spec_from_file_location("charter_rewards", os.path.join(HERE, "charter_rewards.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    os.chdir(HERE)  # the command runs from the export folder in TRL; score.awk is here
    cases = []
    for prompt, completion, length, columns in CASES:
        ids = list(range(100, 100 + length))
        scores = {}
        for name in ["exact_match", "length", "command"]:
            function = getattr(module, name)
            # Columns as TRL passes them: one list per column, and its own keywords, which the functions must ignore.
            keywords = {key: [value] for key, value in columns.items()}
            keywords.update(trainer_state=None, log_extra=None, log_metric=None)
            scores[name] = function(prompts=[prompt], completions=[completion], completion_ids=[ids], **keywords)[0]
        # The same completion in conversational form scores the same.
        conversational = module.exact_match(prompts=[[{"role": "user", "content": prompt}]],
                                            completions=[[{"role": "assistant", "content": completion}]],
                                            completion_ids=[ids], **{key: [value] for key, value in columns.items()})[0]
        assert conversational == scores["exact_match"], prompt
        cases.append({"prompt": prompt, "completion": completion, "completion_ids": ids,
                      "columns": [[key, value] for key, value in columns.items()], "scores": scores})
    conversational = []
    for prompt, completion, length, columns in CASES[:4]:
        messages = [{"role": "system", "content": "Answer with a number."}, {"role": "user", "content": prompt}]
        ids = list(range(100, 100 + length))
        keywords = {key: [value] for key, value in columns.items()}
        keywords.update(trainer_state=[None], log_extra=[None])
        sent = module.rollouts([messages], [[{"role": "assistant", "content": completion}]], [ids], keywords)[0]
        conversational.append({"messages": messages, "completion": completion, "completion_ids": ids,
                               "columns": [[key, value] for key, value in columns.items()], "sent": sent})
    with open(os.path.join(HERE, "expected_rewards.json"), "w") as handle:
        json.dump({"max_completion_length": MAX_COMPLETION_LENGTH, "command": "awk -f score.awk", "cases": cases,
                   "conversational": conversational}, handle, indent=1, ensure_ascii=False)
        handle.write("\n")
    print(f"wrote expected_rewards.json ({len(cases)} cases) and charter_rewards.py")


if __name__ == "__main__":
    main()
