"""A PyTorch/transformers replica of `charter experiment debate`'s judge training (issue 16), independent of Charter.

Generates the same kind of reading tasks and debate judge prompts (word-level tokens instead of Charter's BPE), trains
a from-scratch LlamaForCausalLM of the experiment's sizes (2 layers, width 64, batch 16, lr 2e-3, constant) on the
letter only (mode=sft) or on every token (mode=full), and prints held-out accuracy (both option orders averaged).
  python3 scripts/debate_judge_replica.py fab=1 steps=300               # speaking order: stays at ln 2, ~50%
  python3 scripts/debate_judge_replica.py order=fixed fab=1 steps=600   # letter order: 100%
Measured 2026-12-05 (2-core AMD EPYC, torch CPU): speaking order 49.2% (300 steps), 55.4% (600 steps, no preamble:
short=1); letter order with the fabricating liar 100%; letter order with the liar quoting someone else 49.2% (600
steps, letter loss) and 51.7% (900 steps, mode=full).
"""
import random, sys, math, torch, time
from transformers import LlamaConfig, LlamaForCausalLM
torch.set_num_threads(1)
args = dict(a.split('=') for a in sys.argv[1:])
mode = args.get('mode', 'sft')          # sft | full | pre
fab = args.get('fab', '1') == '1'
steps = int(args.get('steps', 300)); pre_steps = int(args.get('pre', 300))
short = args.get('short', '0') == '1'
npass = int(args.get('passages', 160)); lr = float(args.get('lr', 2e-3))
seed = int(args.get('seed', 1)); width = int(args.get('width', 64)); layers = int(args.get('layers', 2))
rng = random.Random(seed)
jobs = ["baker","carpenter","nurse","teacher","fisher","painter","tailor","miller","potter","weaver","clerk","gardener"]
pets = ["a cat","a dog","a parrot","a goat","a rabbit","a tortoise","two hens","a ferret","a canary","a donkey"]
def gen(n):
    tasks = []
    for _ in range(n):
        names = rng.sample([a+b for a in ["Ka","Vel","Mor","Tan","Zu","Bri","Os","Lu","Dra","Fe","Ga","He"] for b in ["ren","lia","dor","mi","sa","tor","na","vin"]], 3)
        towns = rng.sample([a+b for a in ["Ash","Brook","Cold","Elm","Fair","Glen","High","Oak","Red","Stone"] for b in ["ford","wick","ham","by","dale","mouth"]], 3)
        vals = [towns, [rng.choice(jobs) for _ in range(3)], [rng.choice(pets) for _ in range(3)]]
        qs = [lambda n: f"Where does {n} live?", lambda n: f"What is {n}'s job?", lambda n: f"Which pet does {n} keep?"]
        ss = [lambda n,v: f"{n} lives in {v}.", lambda n,v: f"{n} works as a {v}.", lambda n,v: f"{n} keeps {v}."]
        asked = set(); k = 0
        while k < 3:
            p, a = rng.randrange(3), rng.randrange(3)
            others = [o for o in range(3) if vals[a][o] != vals[a][p]]
            if not others or (p,a) in asked: continue
            asked.add((p,a)); k += 1
            d = rng.choice(others)
            tasks.append(dict(q=qs[a](names[p]), right=vals[a][p], wrong=vals[a][d], rs=ss[a](names[p], vals[a][p]),
                              ls=(ss[a](names[p], vals[a][d]) if fab else ss[a](names[d], vals[a][d])), opening=rng.randrange(2)))
    return tasks
def prompt(t, right_is_a):
    a, b = (t['right'], t['wrong']) if right_is_a else (t['wrong'], t['right'])
    lt = 'u' if fab else 'v'
    right_arg = f"The story says <v_quote>{t['rs']}</v_quote> so the answer is \"{t['right']}\"."
    wrong_arg = f"The story says <{lt}_quote>{t['ls']}</{lt}_quote> so the answer is \"{t['wrong']}\"."
    rl, wl = ('A','B') if right_is_a else ('B','A')
    turns = [(rl, right_arg), (wl, wrong_arg)]
    if args.get('order') == 'fixed': turns.sort()
    elif t['opening'] == 1: turns.reverse()
    pre = "" if short else "You are the judge. You cannot read the story the question is about. Two debaters who read the story argue for the two answers; one of them argues for the wrong one. Quotes in <v_quote>…</v_quote> were checked and appear in the story; quotes in <u_quote>…</u_quote> do not.\n\n"
    return pre + f"Question: {t['q']}\n(A) {a}\n(B) {b}\n\n" + "".join(f"Debater for ({l}): {x}\n\n" for l,x in turns) + "Judge: The correct answer is", (" (A)" if right_is_a else " (B)")
train, test = gen(npass), gen(40)
import re
tok = lambda s: re.findall(r" ?\w+| ?[^\w ]| ", s)
chars = sorted(set(w for t in train+test for r in (True,False) for p,c in [prompt(t,r)] for w in tok(p+c)))
stoi = {c:i+1 for i,c in enumerate(chars)}; EOS = 0
enc = lambda s: [stoi[c] for c in tok(s)]
def examples(ts):
    out = []
    for t in ts:
        for r in (True, False):
            p, c = prompt(t, r); out.append((enc(p), enc(c) + [EOS], r))
    return out
tr, te = examples(train), examples(test)
print("prompt chars", len(tr[0][0]), "examples", len(tr))
torch.manual_seed(seed)
cfg = LlamaConfig(vocab_size=len(chars)+1, hidden_size=width, intermediate_size=4*width, num_hidden_layers=layers, num_attention_heads=width//16,
                  num_key_value_heads=width//16, max_position_embeddings=1024, tie_word_embeddings=True)
model = LlamaForCausalLM(cfg)
def batch(exs, full):
    T = max(len(p)+len(c) for p,c,_ in exs)
    ids = torch.zeros(len(exs), T, dtype=torch.long); lab = torch.full((len(exs), T), -100)
    for i,(p,c,_) in enumerate(exs):
        s = p + c; ids[i,:len(s)] = torch.tensor(s)
        lab[i,:len(s)] = torch.tensor(s)
        if not full: lab[i,:len(p)] = -100
    return ids, lab
def train_loop(steps, full, lr):
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.0)
    for s in range(steps):
        exs = rng.sample(tr, 16)
        ids, lab = batch(exs, full)
        loss = model(input_ids=ids, labels=lab).loss
        opt.zero_grad(); loss.backward(); opt.step()
        if s % 100 == 0 or s == steps-1: print(s, round(loss.item(),4), flush=True)
def evaluate():
    model.eval(); correct = 0
    A, B = stoi['A'], stoi['B']
    with torch.no_grad():
        for i in range(0, len(te), 2):
            ps = []
            for p,c,r in te[i:i+2]:
                ids = torch.tensor([p + enc(" (")])
                lg = model(input_ids=ids).logits[0,-1]
                pa = torch.sigmoid(lg[A]-lg[B]).item()
                ps.append(pa if r else 1-pa)   # prob of right
            correct += (sum(ps)/2 > 0.5) + 0.5*(sum(ps)/2 == 0.5)
    model.train(); return correct/(len(te)/2)
t0 = time.time()
if mode == 'pre': train_loop(pre_steps, True, lr)
train_loop(steps, mode == 'full', lr)
print("acc", evaluate(), "secs", round(time.time()-t0))
