"""Case builders for the YAML kinds: trainer recipes (`charter sft|dpo --config`), pipeline recipes (`charter
pipeline`) and constitutions (`charter constitution validate|show|diff`).

Mutations work on the value tree (keys, types, boundary values for every recipe key, path-like names) and on the
text (nesting 5,000+ deep, billion-laughs aliases, tags, undefined anchors, several documents, tabs, byte damage).
"""

from . import seeds
from .formats import Raw, to_yaml
from .mutate import BOUNDARY_FLOATS, byte_mutation, path_text, paths, replace, tree_mutation

RECIPE_KEYS = ("max_length", "per_device_train_batch_size", "lora_r", "learning_rate", "warmup_steps", "save_steps", "weight_decay",
               "max_grad_norm", "seed", "max_steps", "gradient_accumulation_steps", "logging_steps", "num_train_epochs",
               "lr_scheduler_type", "warmup_ratio", "beta", "max_prompt_length", "lora_alpha", "lora_dropout", "loss_type",
               "eval_steps", "save_total_limit", "output_dir", "model_name_or_path", "dataset_name", "packing",
               "completion_only_loss", "adam_beta1", "adam_beta2", "adam_epsilon", "label_smoothing", "use_peft")
# Keys whose large valid values legitimately mean a long run: they get only invalid or small values.
WORK_KEYS = ("max_steps", "num_train_epochs", "k", "max_tokens", "rounds", "total_episodes", "num_ppo_epochs", "few_shot")
VALUES = [-1, 0, 1, 2 ** 31, 2 ** 63, 2 ** 64, -2 ** 63, 1e9, Raw("1e9"), Raw("1e308"), Raw("1e400"), Raw(".nan"), Raw(".inf"),
          Raw("-.inf"), -0.0, 1.5, "x", "", None, [], Raw("{a: 1}"), True, Raw("0x7fffffffffffffff"), Raw("~"), Raw("!!binary AAAA"),
          Raw("2001-12-14"), Raw("0o17"), Raw("1_000"), "1e-3", Raw("-1e-3")]
WORK_VALUES = [-1, 0, 2 ** 63, 2 ** 64, -2 ** 63, 1.5, Raw(".nan"), Raw(".inf"), Raw("-.inf"), Raw("1e400"), "x", "", None, [], True]
PATH_VALUES = ["", ".", "/", "model", "data.jsonl", "out/a/b", "a" * 300, "out\u0000x", "~", "-", "con", " out ", "out/"]
PIPELINE_KEYS = ("name", "type", "model", "prompts", "dataset", "k", "sampling", "max_tokens", "temperature", "top_p", "top_k",
                 "concurrency", "retries", "retry_delay", "seed", "constitution", "stages", "training", "max_steps", "progress",
                 "abort_after_initial_failures", "per_device_train_batch_size", "learning_rate", "max_length")
CONSTITUTION_KEYS = ("id", "category", "critique_request", "revision_request", "comparison", "weight", "preferred", "role",
                     "content", "conversation", "principles", "name", "version", "description", "response_a", "response_b",
                     "principle", "reasoning", "critique_examples", "comparison_examples", "critique", "revision", "source")


def billion_laughs(levels=9, fanout=10):
    """Anchors each listing the previous one `fanout` times: `fanout ** levels` strings once expanded."""
    lines = ['lol0: &a0 "lol"']
    for level in range(1, levels + 1):
        lines.append("lol%d: &a%d [%s]" % (level, level, ", ".join(["*a%d" % (level - 1)] * fanout)))
    return "\n".join(lines) + "\n", "*a%d" % levels


def text_mutation(rng, text, keys):
    """One text-level YAML mutation; `keys` are top-level keys whose value may be replaced in place."""
    key = rng.choice(keys)
    choice = rng.randrange(10)
    line_start = "\n" + key + ":"
    def set_value(value_text):
        lines = text.split("\n")
        for index, line in enumerate(lines):
            if line.startswith(key + ":"):
                # Drop an indented block that followed, then write the new value.
                end = index + 1
                while end < len(lines) and (lines[end].startswith(" ") or lines[end].startswith("-")):
                    end += 1
                lines[index:end] = [key + ": " + value_text]
                return "\n".join(lines)
        return text + key + ": " + value_text + "\n"
    if choice == 0:
        depth = rng.choice([5000, 20000, 100000])
        style = rng.choice(["flow-list", "flow-map", "block-list"])
        value = {"flow-list": "[" * depth + "1" + "]" * depth, "flow-map": "{a: " * depth + "1" + "}" * depth,
                 "block-list": "\n" + "- " * depth + "x"}[style]
        return set_value(value), "%s nested %d deep (%s)" % (key, depth, style), key
    if choice == 1:
        laughs, alias = billion_laughs(rng.choice([9, 12]), rng.choice([10, 10, 100]))
        return laughs + set_value(alias), "billion laughs at %s" % key, key
    if choice == 2:
        value = rng.choice(["*nope", "&a [*a]", "!!binary AAAA", "!!python/object/apply:os.system [\"touch pwned\"]", "!!int 1e9999",
                            "!!float x", "!!timestamp 2001-13-45", "!<tag:x> 1", "!!map [1]", "&a 1", "@x", "`x`", "%YAML 1.1",
                            "? complex\n: key", "|\n  multi\n  line", ">-\n folded", "'unterminated", "\"bad \\q escape\"", "{a: 1, a: 2}"])
        return set_value(value), "%s = %s" % (key, value.split("\n")[0]), key
    if choice == 3:
        return text + "---\n" + text, "two documents", None
    if choice == 4:
        return text + key + ": " + rng.choice(["1", "x", "[]", "null"]) + "\n", "duplicate top-level key %s" % key, key
    if choice == 5:
        size = rng.choice([1 << 20, 10 << 20])
        return set_value('"' + "a" * size + '"'), "%s is a %d MB string" % (key, size >> 20), key
    if choice == 6:
        many = "".join("k%d: %d\n" % (n, n) for n in range(rng.choice([1000, 5000])))
        return many + text, "thousands of extra keys", None
    if choice == 7:
        return text.replace("  ", "\t", rng.choice([1, 5])), "tabs in indentation", None
    if choice == 8:
        return rng.choice([("", "empty file"), ("~\n", "null document"), ("[]\n", "a list document"), ("x\n", "a scalar document"),
                           ("---\n...\n", "an empty document"), (text.replace(line_start, "\n  " + key + ":", 1), "bad indentation")]) + (None,)
    blob, what = byte_mutation(rng, text.encode())
    return blob, what, None


def yaml_case(case, tree, path, focus, work_keys=WORK_KEYS, path_keys=(), name_keys=()):
    """Mutates `tree` (a recipe or constitution) into the case file `path`."""
    rng = case.rng
    case.mutated = [path.split("/")[-1]]
    choice = rng.randrange(10)
    if choice <= 3:
        candidates = [(p, v) for p, v in paths(tree) if p and isinstance(p[-1], str) and p[-1] in focus]
        target, value = rng.choice(candidates)
        key = target[-1]
        if key in name_keys and rng.random() < 0.6:
            new = rng.choice(case.escape_paths() + ["", ".", "..", "a/b", "/", "a" * 300, "x\u0000y", "stage:x", "manifest.json"])
        elif key in path_keys and rng.random() < 0.6:
            new = rng.choice(PATH_VALUES)
        elif key in work_keys:
            new = rng.choice(WORK_VALUES)
        else:
            new = rng.choice(VALUES + BOUNDARY_FLOATS[:6])
        tree = replace(tree, target, new)
        case.key = key
        if isinstance(new, str) and key in path_keys + name_keys and len(new.strip("./")) > 1:
            case.hints.append(new)
        case.description = "%s = %s" % (path_text(target), new.text if isinstance(new, Raw) else repr(new)[:50])
    elif choice <= 6:
        tree, case.description, case.key = tree_mutation(rng, tree, focus_keys=focus)
        case.description = case.description.replace("\n", " ")
    else:
        keys = [key for key in tree if isinstance(key, str)]
        blob, case.description, case.key = text_mutation(rng, to_yaml(tree), keys)
        case.files[path] = blob if isinstance(blob, bytes) else blob.encode("utf-8", "surrogatepass")
        return
    case.files[path] = to_yaml(tree).encode("utf-8", "surrogatepass")


def recipe_case(case):
    rng = case.rng
    if rng.random() < 0.7:
        tree, path = seeds.sft_recipe(), "recipe.yaml"
        case.argv = ["sft", "--config", path, "--threads", "1"]
    else:
        tree, path = seeds.dpo_recipe(), "dpo.yaml"
        case.argv = ["dpo", "--config", path, "--threads", "1"]
    yaml_case(case, tree, path, RECIPE_KEYS, path_keys=("output_dir", "model_name_or_path", "dataset_name"))


def pipeline_case(case):
    rng = case.rng
    tree = seeds.pipeline_recipe()
    case.argv = ["pipeline", "pipeline.yaml", "--threads", "1"]
    choice = rng.randrange(6)
    if choice == 0:
        stage = rng.choice(tree["stages"])
        stage["name"] = rng.choice(case.escape_paths())
        case.key, case.description = "name", "stage name %r" % stage["name"]
    elif choice == 1:
        tree["name"] = rng.choice(case.escape_paths() + ["", "..", "/", "a/b"])
        case.key, case.description = "name", "recipe name %r" % tree["name"]
    elif choice == 2:
        stage = tree["stages"][1]
        key = rng.choice(["dataset", "model"])
        stage[key] = rng.choice(["stage:tuned", "stage:samples/../../" + case.token, "stage:", "stage:samples/", "stage:samples/none",
                                 "stage:samples/../../../../etc/hostname", "stage:samples/samples.jsonl", "stage:nope"])
        case.key, case.description = key, "stages[1].%s = %r" % (key, stage[key])
        case.hints += [stage[key]] + [part for part in stage[key].split("/")[-1:] if len(part) > 1]
    elif choice == 3:
        value = rng.choice(["default", "missing.yaml", "data.jsonl", "model", "/dev/null", "", "pipeline.yaml", "recipe.yaml", 5, None])
        tree["constitution"] = value
        case.key, case.description = "constitution", "constitution = %r" % (value,)
        case.hints += [str(value)] if value is not None and len(str(value)) > 1 else []
    if choice <= 3:
        case.mutated = ["pipeline.yaml"]
        case.files["pipeline.yaml"] = to_yaml(tree).encode("utf-8", "surrogatepass")
        return
    yaml_case(case, tree, "pipeline.yaml", PIPELINE_KEYS, name_keys=("name",), path_keys=("prompts", "dataset", "model", "constitution"))


def constitution_case(case):
    rng = case.rng
    tree = seeds.constitution()
    command = rng.choice(["validate"] * 7 + ["show"] * 2 + ["diff"])
    case.argv = ["constitution", command] + (["default"] if command == "diff" else []) + ["constitution.yaml"]
    if rng.random() < 0.15:
        count = rng.choice([300, 3000])
        principle = tree["principles"][0]
        tree["principles"] = [dict(principle, id="p%d" % n) for n in range(count)]
        if rng.random() < 0.5:
            tree["principles"][-1]["id"] = "p0"
        case.mutated, case.key = ["constitution.yaml"], "principles"
        case.description = "%d principles" % count
        case.files["constitution.yaml"] = to_yaml(tree).encode()
        return
    yaml_case(case, tree, "constitution.yaml", CONSTITUTION_KEYS)

