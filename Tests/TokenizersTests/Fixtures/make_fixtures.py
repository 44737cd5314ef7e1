#!/usr/bin/env python3
"""Builds the tokenizer fixtures the Swift tests compare against (HF `tokenizers` is the reference).

Run from anywhere:  python3 Tests/TokenizersTests/Fixtures/make_fixtures.py
Writes, next to this script:
  <name>/tokenizer.json   small tokenizers trained here with HF `tokenizers` on a generated corpus
  variants/<name>.json    the same kind of tokenizers with other normalizers/pre-tokenizers/decoders/processors
  expected.json           test strings, HF ids/decodes per tokenizer, HF pre-token splits per regex,
                          ids for the first 200 hh-rlhf "chosen" transcripts (ids only, no text),
                          and HF ids for the Charter-trained tokenizer (charter-trained/tokenizer.json,
                          written by `CHARTER_WRITE_FIXTURES=1 swift test --filter BPETrainerTests`).
All text is produced by the generator below (no third-party text is stored).
"""
import gzip
import json
import os
import random

from tokenizers import AddedToken, Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors, trainers

HERE = os.path.dirname(os.path.abspath(__file__))
HH_RLHF = os.path.join(HERE, "..", "..", "..", "..", "shared", "data", "hh-rlhf", "harmless-base-test.jsonl.gz")

GPT2_PATTERN = r"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"
LLAMA3_PATTERN = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*"
                  r"|\s*[\r\n]+|\s+(?!\S)|\s+")
QWEN2_PATTERN = (r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*"
                 r"|\s*[\r\n]+|\s+(?!\S)|\s+")

# ---------------------------------------------------------------------------------------------
# Text generator: sentences, code, numbers, punctuation and whitespace runs, accents, CJK, emoji.
# ---------------------------------------------------------------------------------------------
WORDS = ("the a an of to and in is it that was for on are with as I his they be at one have this from or had by "
         "word but what some we can out other were all there when up use your how said each she which do their "
         "time if will way about many then them write would like so these her long make thing see him two has look "
         "more day could go come did number sound no most people my over know water than call first who may down "
         "side been now find any new work part take get place made live where after back little only round man year "
         "came show every good me give our under name very through just form sentence great think say help low line "
         "tokenizer model gradient reward policy align preference kernel tensor matrix vector batch").split()
ACCENTED = "café naïve façade résumé Ångström Straße jalapeño coöperate über señor déjà-vu crème brûlée Øresund".split()
CJK = ["日本語", "東京", "中文测试", "你好世界", "한국어", "텍스트", "ひらがな", "カタカナ", "漢字かな交じり"]
EMOJI = ["👍", "🎉", "❤️", "👨‍👩‍👧‍👦", "🏳️‍🌈", "🇺🇸", "😀😃😄", "🤖", "✨", "👩🏽‍💻"]
CONTRACTIONS = ["I'm", "don't", "can't", "she'll", "they're", "we've", "it's", "I'd", "WON'T", "You'RE", "O'Brien"]
PUNCT_RUNS = ["!!!", "?!", "...", "---", "***", "((", "))", ";;", "«»", "“quoted”", "—", "->", "=>", "::", "#!", "%%"]
CODE = [
    "def f(x):\n    return x ** 2\n",
    "for (int i = 0; i < n; ++i) {\n\tsum += a[i];\n}\n",
    "let y = try model.forward(x) // (B, T, C)\n",
    "SELECT name, COUNT(*) FROM users WHERE age >= 21 GROUP BY name;",
    "<div class=\"note\">Hello &amp; bye</div>",
    "if a and not b:\n        pass\n    else:\n        raise ValueError('bad')\n",
    "x = [1, 2, 3]; y = {'k': 'v'}  # comment",
    "fn main() { println!(\"{}\", 42); }",
]


def number(rng):
    kind = rng.randrange(6)
    if kind == 0:
        return str(rng.randrange(10 ** rng.randrange(1, 10)))
    if kind == 1:
        return f"{rng.random() * 1000:.{rng.randrange(1, 6)}f}"
    if kind == 2:
        return f"{rng.randrange(1, 10**7):,}"
    if kind == 3:
        return f"{rng.randrange(1900, 2100)}-{rng.randrange(1, 13):02d}-{rng.randrange(1, 29):02d}"
    if kind == 4:
        return f"${rng.randrange(1, 999)}.{rng.randrange(100):02d}"
    return rng.choice(["٣٤٥", "①②③", "Ⅻ", "½", "10⁶", "0x1F", "1e-9"])


def sentence(rng):
    parts = []
    for _ in range(rng.randrange(3, 16)):
        r = rng.random()
        if r < 0.62:
            w = rng.choice(WORDS)
            parts.append(w.capitalize() if rng.random() < 0.1 else w)
        elif r < 0.70:
            parts.append(rng.choice(ACCENTED))
        elif r < 0.76:
            parts.append(number(rng))
        elif r < 0.81:
            parts.append(rng.choice(CONTRACTIONS))
        elif r < 0.86:
            parts.append(rng.choice(CJK))
        elif r < 0.90:
            parts.append(rng.choice(EMOJI))
        else:
            parts.append(rng.choice(PUNCT_RUNS))
    text = ""
    for p in parts:
        sep = rng.choices([" ", "  ", "\t", "\n", "", " \n", "   "], weights=[80, 3, 2, 3, 4, 1, 1])[0]
        text += (sep if text else "") + p
    return text + rng.choice([".", "!", "?", "", "\n", "...", " ", "\n\n"])


def document(rng):
    r = rng.random()
    if r < 0.15:
        return rng.choice(CODE)
    n = rng.randrange(1, 6)
    return rng.choice(["", " ", "\n"]) + " ".join(sentence(rng) for _ in range(n))


def corpus(seed, count):
    rng = random.Random(seed)
    return [document(rng) for _ in range(count)]


def corpus_of_size(seed, megabytes):
    rng = random.Random(seed)
    texts, size = [], 0
    while size < megabytes * 1_000_000:
        t = document(rng)
        texts.append(t)
        size += len(t.encode("utf-8"))
    return texts


EDGE_CASES = [
    "", " ", "   ", "\n\n\n", "\t", " \n ", "a", "\r\n", "\r\n\r\n  x", "  hello", "hello  ", "hello   world",
    "hello\n\n  world", "x\u000bY\u0085z", "\u00a0nbsp\u00a0", "\u3000全角スペース", "\u2028line\u2029para",
    "I'm", "don't", "DON'T", "she'll", "they're", "we've", "it's", "I'd", "''s", "'S", "'ſ x", "'LL", "'Re'vE",
    "12345678", "3.14159", "1,000,000", "٣٤٥", "①②", "Ⅻ", "10⁶", "a1b22c333d4444",
    "!!!???...", "--->", "((()))", "«quoted»", "¿Qué?", " !!", "?\n\n", "! \n x",
    "café", "cafe\u0301", "naïve", "Ångström", "Straße", "ǅemal", "e\u0301\u0301", " \u0301a",
    "日本語のテキスト", "中文测试，标点。", "한국어 텍스트", "ไทย ภาษา", "नमस्ते दुनिया", "مرحبا بالعالم", "שלום",
    "👍", "👨‍👩‍👧‍👦", "🏳️‍🌈", "❤️", "a👍b", "🇺🇸🇬🇧", " 👍 👍", "👩🏽‍💻 codes",
    "def foo(x):\n    return x**2\n", "if (a && b) { c++; }", "<div class=\"x\">", "SELECT * FROM t;",
    "\tindented\n\t\tmore", "trailing spaces   \n", "    ", "\n \n \n",
    "<|im_start|>user\nHi there<|im_end|>\n<|im_start|>assistant\n", "<|endoftext|>", "a<|im_end|>b",
    "<|im_start|><|im_start|>", " <|im_end|> ", "<s>hello</s>", "<s> <s>", "[FOO]", "x[FOO]y", "x [FOO] y",
    "a <mask> b", "a<mask>b", "rstrip>   after", "<|begin_of_text|>hi<|eot_id|>", "<|end_of_text|>",
    "café au lait", "cafe\u0301 au lait", "<0x41> literal", "▁ already", "▁▁x", "_underscore_",
    "a" * 300, "abc" * 150, "supercalifragilistic" * 20, "1" * 100, " " * 100, "\n" * 50, "!" * 100,
    "Hello мир 世界 مرحبا שלום नमस्ते 👋", "\x00\x01", "\x7f", "\ufeffBOM", "zzzzqqqq", "Ġ", "ĊĠ",
    "ΟΔΟΣ ΣΑΣ.", "İstanbul ǅ ﬃ", "Ⅻ ＡＢＣ １２３",
]


def test_strings():
    rng = random.Random(1234)
    texts = list(EDGE_CASES)
    while len(texts) < 200:
        texts.append(document(rng))
    return texts


# ---------------------------------------------------------------------------------------------
# Tokenizers
# ---------------------------------------------------------------------------------------------
def edit_json(tok, edit):
    data = json.loads(tok.to_str())
    edit(data)
    return Tokenizer.from_str(json.dumps(data, ensure_ascii=False))


def add_vocab_entries(data, tokens):
    vocab = data["model"]["vocab"]
    next_id = max(max(vocab.values()), max((t["id"] for t in data["added_tokens"]), default=0)) + 1
    for t in tokens:
        vocab[t] = next_id
        next_id += 1


def train_byte_level(train, pre_tokenizer, specials, vocab_size=1000, normalizer=None):
    tok = Tokenizer(models.BPE())
    if normalizer is not None:
        tok.normalizer = normalizer
    tok.pre_tokenizer = pre_tokenizer
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=specials, show_progress=False,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    tok.train_from_iterator(train, trainer)
    return tok


def make_gpt2(train):
    tok = train_byte_level(train, pre_tokenizers.ByteLevel(add_prefix_space=False), ["<|endoftext|>"])
    tok.post_processor = processors.ByteLevel(trim_offsets=False)
    tok.add_special_tokens(["<|im_start|>", "<|im_end|>", AddedToken("<mask>", lstrip=True, special=True)])
    tok.add_tokens([AddedToken("[FOO]", single_word=True), AddedToken("rstrip>", rstrip=True)])
    return tok


def make_llama3(train):
    specials = ["<|begin_of_text|>", "<|end_of_text|>", "<|start_header_id|>", "<|end_header_id|>", "<|eot_id|>"]
    pre = pre_tokenizers.Sequence([
        pre_tokenizers.Split(Regex(LLAMA3_PATTERN), behavior="isolated", invert=False),
        pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False),
    ])
    tok = train_byte_level(train, pre, specials)
    bos = tok.token_to_id("<|begin_of_text|>")
    tok.post_processor = processors.Sequence([
        processors.ByteLevel(trim_offsets=False),
        processors.TemplateProcessing(single="<|begin_of_text|> $A", pair="<|begin_of_text|> $A <|begin_of_text|> $B:1",
                                      special_tokens=[("<|begin_of_text|>", bos)]),
    ])

    def edit(data):
        data["model"]["ignore_merges"] = True
        # Whole-word entries without merges: only ignore_merges can produce them.
        add_vocab_entries(data, ["zzzzqqqq", "Ġzzzzqqqq", "ĠĠĠĠ"])
    return edit_json(tok, edit)


def make_qwen2(train):
    pre = pre_tokenizers.Sequence([
        pre_tokenizers.Split(Regex(QWEN2_PATTERN), behavior="isolated", invert=False),
        pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False),
    ])
    tok = train_byte_level(train, pre, ["<|endoftext|>", "<|im_start|>", "<|im_end|>"], normalizer=normalizers.NFC())
    tok.post_processor = processors.ByteLevel(trim_offsets=False)
    tok.add_tokens([AddedToken("café", normalized=True)])
    return tok


def make_sentencepiece(train):
    """Llama-2/Mistral layout: Prepend+Replace normalizer, no pre-tokenizer, byte fallback, <s> template."""
    tok = Tokenizer(models.BPE(unk_token="<unk>", byte_fallback=True, fuse_unk=True))
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="first", split=True)
    trainer = trainers.BpeTrainer(vocab_size=900, special_tokens=["<unk>", "<s>", "</s>"], limit_alphabet=120,
                                  show_progress=False)
    tok.train_from_iterator(train, trainer)
    tok.add_special_tokens(["<|im_start|>", "<|im_end|>"])

    def edit(data):
        vocab = data["model"]["vocab"]
        specials = ["<unk>", "<s>", "</s>"]
        byte_tokens = [f"<0x{b:02X}>" for b in range(256)]
        rest = [t for t, _ in sorted(vocab.items(), key=lambda kv: kv[1]) if t not in specials]
        order = specials + byte_tokens + rest
        data["model"]["vocab"] = {t: i for i, t in enumerate(order)}
        for added in data["added_tokens"]:
            if added["content"] in data["model"]["vocab"]:
                added["id"] = data["model"]["vocab"][added["content"]]
            else:
                added["id"] = len(order)
                order.append(added["content"])
        data["normalizer"] = {"type": "Sequence", "normalizers": [
            {"type": "Prepend", "prepend": "▁"},
            {"type": "Replace", "pattern": {"String": " "}, "content": "▁"}]}
        data["pre_tokenizer"] = None
        data["post_processor"] = {
            "type": "TemplateProcessing",
            "single": [{"SpecialToken": {"id": "<s>", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}}],
            "pair": [{"SpecialToken": {"id": "<s>", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}},
                     {"SpecialToken": {"id": "<s>", "type_id": 1}}, {"Sequence": {"id": "B", "type_id": 1}}],
            "special_tokens": {"<s>": {"id": "<s>", "ids": [1], "tokens": ["<s>"]}}}
        data["decoder"] = {"type": "Sequence", "decoders": [
            {"type": "Replace", "pattern": {"String": "▁"}, "content": " "},
            {"type": "ByteFallback"}, {"type": "Fuse"},
            {"type": "Strip", "content": " ", "start": 1, "stop": 0}]}
    return edit_json(tok, edit)


def make_metaspace(sentencepiece):
    """Same vocabulary, newer Mistral layout: Metaspace pre-tokenizer (prepend first, no split) and decoder."""
    def edit(data):
        data["normalizer"] = None
        data["pre_tokenizer"] = {"type": "Metaspace", "replacement": "▁", "prepend_scheme": "first", "split": False}
        data["decoder"] = {"type": "Sequence", "decoders": [
            {"type": "Metaspace", "replacement": "▁", "prepend_scheme": "first", "split": False},
            {"type": "ByteFallback"}, {"type": "Fuse"}]}
    return edit_json(sentencepiece, edit)


def make_variants(train, sentencepiece):
    """Component coverage: small vocabularies with other normalizers, pre-tokenizers, decoders, processors."""
    base = train_byte_level(train, pre_tokenizers.ByteLevel(add_prefix_space=False), ["<|endoftext|>"], vocab_size=400)
    base.add_special_tokens(["<|im_start|>", "<|im_end|>"])
    im_start, im_end = base.token_to_id("<|im_start|>"), base.token_to_id("<|im_end|>")
    byte_level = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)

    def variant(normalizer=None, pre=None, post=None, decoder=None, edit=None):
        tok = Tokenizer.from_str(base.to_str())
        tok.normalizer = normalizer
        tok.pre_tokenizer = pre
        if post is not None:
            tok.post_processor = post
        if decoder is not None:
            tok.decoder = decoder
        return edit_json(tok, edit) if edit else tok

    def legacy_merges(data):
        data["model"]["merges"] = [" ".join(pair) for pair in data["model"]["merges"]]

    variants = {
        "digits-punctuation": variant(
            normalizers.Lowercase(),
            pre_tokenizers.Sequence([pre_tokenizers.Digits(individual_digits=True),
                                     pre_tokenizers.Punctuation("contiguous"),
                                     pre_tokenizers.Split(" ", "merged_with_previous"),
                                     pre_tokenizers.ByteLevel(add_prefix_space=True, use_regex=False)])),
        "whitespace-nfd": variant(
            normalizers.Sequence([normalizers.NFD(), normalizers.Strip()]),
            pre_tokenizers.Sequence([pre_tokenizers.Whitespace(), byte_level])),
        "split-behaviours": variant(
            normalizers.NFKC(),
            pre_tokenizers.Sequence([pre_tokenizers.Split(Regex(r"\p{L}+"), "removed", invert=True),
                                     pre_tokenizers.Split(Regex("[aeiou]"), "merged_with_next"),
                                     pre_tokenizers.Digits(individual_digits=False), byte_level]),
            decoder=decoders.Sequence([decoders.ByteLevel(), decoders.Replace(Regex("[0-9]"), "#")])),
        "custom-regex": variant(
            normalizers.Sequence([normalizers.Replace(Regex(r"\s+"), " "), normalizers.NFKC()]),
            pre_tokenizers.Sequence([pre_tokenizers.Split(Regex(r"\w+|[^\w\s]+|\s+"), "isolated"), byte_level]),
            edit=legacy_merges),
        "bert-processing": variant(
            None, pre_tokenizers.Sequence([pre_tokenizers.BertPreTokenizer(), byte_level]),
            post=processors.BertProcessing(("<|im_end|>", im_end), ("<|im_start|>", im_start))),
        "roberta-contiguous": variant(
            None, pre_tokenizers.Sequence([pre_tokenizers.Split(Regex(r"\d"), "contiguous"),
                                           pre_tokenizers.Split(Regex(r"\s"), "merged_with_next", invert=False),
                                           byte_level]),
            post=processors.RobertaProcessing(("<|im_end|>", im_end), ("<|im_start|>", im_start))),
    }

    truncated = variant(None, pre_tokenizers.ByteLevel(add_prefix_space=False),
                        post=processors.TemplateProcessing(single="<|im_start|> $A <|im_end|>",
                                                           special_tokens=[("<|im_start|>", im_start), ("<|im_end|>", im_end)]),
                        decoder=decoders.ByteLevel())
    truncated.enable_truncation(max_length=9, direction="left")
    truncated.enable_padding(length=12, pad_id=0, pad_token="<|endoftext|>", direction="left")
    variants["truncation-padding"] = truncated
    multiple = variant(None, pre_tokenizers.ByteLevel(add_prefix_space=False), decoder=decoders.ByteLevel())
    multiple.enable_truncation(max_length=20)
    multiple.enable_padding(pad_id=0, pad_token="<|endoftext|>", pad_to_multiple_of=8)
    variants["truncation-padding-multiple"] = multiple

    # Classic (non-byte-level) BPE: "##" continuation prefix, "</w>" end-of-word suffix, [UNK] for unseen characters.
    classic = Tokenizer(models.BPE(unk_token="[UNK]", continuing_subword_prefix="##", end_of_word_suffix="</w>"))
    classic.normalizer = normalizers.Lowercase()
    classic.pre_tokenizer = pre_tokenizers.Whitespace()
    classic.decoder = decoders.BPEDecoder(suffix="</w>")
    classic.train_from_iterator(train, trainers.BpeTrainer(
        vocab_size=500, special_tokens=["[UNK]"], limit_alphabet=50, continuing_subword_prefix="##",
        end_of_word_suffix="</w>", show_progress=False))
    variants["subword-prefix-suffix"] = classic

    def whitespace_metaspace(data):
        data["normalizer"] = {"type": "Sequence", "normalizers": [{"type": "NFKC"}, {"type": "Strip", "strip_left": True,
                                                                                       "strip_right": True}]}
        data["pre_tokenizer"] = {"type": "Sequence", "pretokenizers": [
            {"type": "WhitespaceSplit"},
            {"type": "Metaspace", "replacement": "▁", "prepend_scheme": "always", "split": True}]}
        data["decoder"] = {"type": "Sequence", "decoders": [
            {"type": "ByteFallback"}, {"type": "Metaspace", "replacement": "▁", "prepend_scheme": "always", "split": True}]}
    variants["whitespace-metaspace"] = edit_json(sentencepiece, whitespace_metaspace)
    return variants


def expected_for(tok, texts):
    cases = []
    for text in texts:
        ids = tok.encode(text).ids
        plain = tok.encode(text, add_special_tokens=False).ids
        case = {"ids": ids}
        if plain != ids:
            case["ids_no_special"] = plain
        decoded = tok.decode(ids, skip_special_tokens=False)
        skipped = tok.decode(ids, skip_special_tokens=True)
        if decoded != text:  # omitted when decode(encode(text)) gives the text back
            case["decoded"] = decoded
        if skipped != decoded:
            case["decoded_skip"] = skipped
        cases.append(case)
    return cases


FUZZ_POOL = list("aZé's tTlLdDmMrRvVeEſ0129٣Ⅻ½_-!?.,;:'\"“”()[]{}<>@#$%^&*+=/\\|~`") + [
    " ", " ", "  ", "\t", "\n", "\r", "\r\n", "\u000b", "\u000c", "\u0085", "\u00a0", "\u1680", "\u2000", "\u2028",
    "\u2029", "\u3000", "\u200b", "\u200d", "\u0301", "\u0903", "\u20dd", "日", "本", "한", "ไ", "न", "्", "م",
    "👍", "🏽", "🇺", "\ufeff", "\x00", "\x7f", "ǅ", "ß", "İ", "ⓐ", "𝔘", "‿"]


def fuzz_strings(count=300):
    rng = random.Random(99)
    return ["".join(rng.choice(FUZZ_POOL) for _ in range(rng.randrange(1, 24))) for _ in range(count)]


def component_splits(texts):
    """HF pre-token splits of each standalone pre-tokenizer (split-level checks of the Swift implementations)."""
    components = {
        "Whitespace": pre_tokenizers.Whitespace(),
        "WhitespaceSplit": pre_tokenizers.WhitespaceSplit(),
        "BertPreTokenizer": pre_tokenizers.BertPreTokenizer(),
        "Punctuation": pre_tokenizers.Punctuation(),
        "DigitsIndividual": pre_tokenizers.Digits(individual_digits=True),
        "DigitsContiguous": pre_tokenizers.Digits(individual_digits=False),
        "MetaspaceAlways": pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always", split=True),
        "ByteLevelPrefix": pre_tokenizers.ByteLevel(add_prefix_space=True, use_regex=True),
    }
    return {name: [[piece for piece, _ in pre.pre_tokenize_str(t)] for t in texts] for name, pre in components.items()}


def pretokenized(pattern, texts):
    split = pre_tokenizers.Split(Regex(pattern), behavior="isolated", invert=False)
    return [[piece for piece, _ in split.pre_tokenize_str(t)] for t in texts]


def hh_rlhf_texts(limit=200):
    if not os.path.exists(HH_RLHF):
        return None
    texts = []
    with gzip.open(HH_RLHF, "rt", encoding="utf-8") as f:
        for line in f:
            texts.append(json.loads(line)["chosen"])
            if len(texts) == limit:
                break
    return texts


def main():
    train = corpus(seed=7, count=3000)
    texts = test_strings()
    tokenizers = {"gpt2": make_gpt2(train), "llama3": make_llama3(train), "qwen2": make_qwen2(train)}
    tokenizers["sentencepiece"] = make_sentencepiece(train)
    tokenizers["metaspace"] = make_metaspace(tokenizers["sentencepiece"])

    expected = {"texts": texts, "tokenizers": {}, "pretokenized": {}}
    for name, tok in tokenizers.items():
        os.makedirs(os.path.join(HERE, name), exist_ok=True)
        tok.save(os.path.join(HERE, name, "tokenizer.json"))
        # Re-load what was written so expectations come from the file the Swift tests read.
        tok = Tokenizer.from_file(os.path.join(HERE, name, "tokenizer.json"))
        expected["tokenizers"][name] = expected_for(tok, texts)
    expected["vocab_sizes"] = {name: Tokenizer.from_file(os.path.join(HERE, name, "tokenizer.json")).get_vocab_size()
                               for name in tokenizers}
    expected["variants"] = {}
    variant_texts = texts[:len(EDGE_CASES)]
    for name, tok in make_variants(train, tokenizers["sentencepiece"]).items():
        path = os.path.join(HERE, "variants", name + ".json")
        os.makedirs(os.path.dirname(path), exist_ok=True)
        tok.save(path)
        expected["variants"][name] = expected_for(Tokenizer.from_file(path), variant_texts)
    for name, pattern in [("gpt2", GPT2_PATTERN), ("llama3", LLAMA3_PATTERN), ("qwen2", QWEN2_PATTERN)]:
        expected["pretokenized"][name] = pretokenized(pattern, texts)

    fuzz = fuzz_strings()
    expected["fuzz"] = {"texts": fuzz, "components": component_splits(fuzz)}
    for name, pattern in [("gpt2", GPT2_PATTERN), ("llama3", LLAMA3_PATTERN), ("qwen2", QWEN2_PATTERN)]:
        expected["fuzz"][name] = pretokenized(pattern, fuzz)

    hh = hh_rlhf_texts()
    if hh is not None:
        expected["hh_rlhf_chosen_ids"] = {
            name: [Tokenizer.from_file(os.path.join(HERE, name, "tokenizer.json")).encode(t).ids for t in hh]
            for name in ["gpt2", "llama3", "sentencepiece"]}

    # The Swift BPETrainer's output (if present): HF must load it and encode the test strings.
    trained = os.path.join(HERE, "charter-trained", "tokenizer.json")
    if os.path.exists(trained):
        tok = Tokenizer.from_file(trained)
        expected["charter_trained_ids"] = [tok.encode(t).ids for t in texts]
        expected["charter_trained_decoded"] = [tok.decode(tok.encode(t).ids, skip_special_tokens=False) for t in texts]

    with open(os.path.join(HERE, "expected.json"), "w", encoding="utf-8") as f:
        json.dump(expected, f, ensure_ascii=False, separators=(",", ":"))
    for name in list(tokenizers) + ["variants/" + n[:-5] for n in sorted(os.listdir(os.path.join(HERE, "variants")))]:
        print(name, os.path.getsize(os.path.join(HERE, name + ".json") if name.startswith("variants/") else os.path.join(HERE, name, "tokenizer.json")), "bytes")
    print("expected.json", os.path.getsize(os.path.join(HERE, "expected.json")), "bytes")


if __name__ == "__main__":
    main()
