"""A fuzz case: the files of its folder, the charter command it runs and what was mutated (for the vague-error check)."""

import random
import threading

from . import kinds_gguf, seeds

BASE_LOCK = threading.Lock()
BASE_CACHE = {}


class Case:
    """One reproducible case, named kind:seed:index."""

    def __init__(self, kind, seed, index):
        self.kind, self.seed, self.index = kind, seed, index
        self.rng = random.Random("%s:%d:%d" % (kind, seed, index))
        self.architecture = "llama"
        self.files = {}          # relative path -> bytes, on top of the base files
        self.removed = set()     # base files left out
        self.argv = []
        self.mutated = []        # file names a good error message would name
        self.key = None          # the key or field a good error message would name
        self.description = "unmutated seed"
        self.token = "esc%d%s%dz" % (seed, kind[:3], index)  # marks paths that must not appear outside the case folder
        self.hints = []          # other text a good error message may name instead (a path value that was set)

    @property
    def name(self):
        return "%s:%d:%d" % (self.kind, self.seed, self.index)

    @property
    def slug(self):
        return "%s-%d-%d" % (self.kind, self.seed, self.index)

    def base(self):
        return base_files(self.architecture)

    def all_files(self):
        """Every input file of the case folder (base files overridden by the mutated ones)."""
        files = {path: blob for path, blob in self.base().items() if path not in self.removed}
        files.update(self.files)
        return files

    def escape_paths(self):
        """Relative and absolute path-like names that, if created, leave the case's run folder."""
        token = self.token
        return ["../" + token, "../../" + token, "../../../" + token, "../../../../" + token, "a/../../" + token,
                "/" + token, "/tmp/" + token, "..", "../..", "./../" + token, token + "/../../../" + token + "x"]

    def model_command(self, options=("generate", "logprobs")):
        """generate, logprobs or tokenize on the case's model folder."""
        choice = self.rng.choice(options)
        if choice == "generate":
            return ["generate", "--model", "model", "--prompt", "say one and one", "--max-new-tokens", "2", "--threads", "1"]
        if choice == "logprobs":
            return ["logprobs", "--model", "model", "--input", "score.jsonl", "--threads", "1"]
        return ["tokenize", "--tokenizer", "model", "--input", "text.jsonl"]


def base_files(architecture):
    """The unmutated case folder: model/ (tiny `architecture` model) plus data, recipes and constitution (cached)."""
    with BASE_LOCK:
        if architecture not in BASE_CACHE:
            files = {"model/" + name: blob for name, blob in seeds.model_folder(architecture).items()}
            files.update(seeds.common_files())
            files["model.gguf"] = kinds_gguf.seed()[0]  # the same tiny Llama as a GGUF file (the gguf kind)
            files["text.jsonl"] = seeds.jsonl([{"text": "Hello, world! 123"}, {"text": "<|im_start|>user\nhi<|im_end|>"}])
            BASE_CACHE[architecture] = files
        return BASE_CACHE[architecture]
