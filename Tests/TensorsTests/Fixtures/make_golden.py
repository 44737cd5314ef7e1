#!/usr/bin/env python3
"""Golden values for the Swift tensor engine (writes golden.json next to this file).

Run:  python3 Tests/TensorsTests/Fixtures/make_golden.py

Conventions shared by every case
--------------------------------
* torch.manual_seed(0) once at start; tensors are drawn in the order they are
  listed below, as float32 (torch.randn), then promoted to float64.  All the
  arithmetic is done in float64, so every stored output is the exact result
  (to ~1e-15) for the float32 inputs stored.  Inputs stored in the file are
  exactly representable in float32.
* JSON layout: {"cases": {CASE: {"tensors": {NAME: {"shape": [...],
  "data": [flat row-major floats]}}, "notes": "..."}}}.  Scalars have shape []
  and a one-element data list.  Integer tensors (targets, masks) are stored as
  floats.
* Gradients are named "grad.<name of the input or parameter>".
* Linear layers use the PyTorch layout: weight is (out, in), y = x W^T + b.
* Tolerance hint: the same computations done by PyTorch in float32 stay within
  3.2e-6 * max|reference| of every stored tensor (worst: attention_block loss,
  a sum of 160 products; everything else <= 4.2e-7), so a float32 engine
  should pass with |got - ref| <= 1e-5 * max(1, max|ref|) per tensor.

Case "mlp"
----------
  x (6,5) = randn;  fc1.weight (7,5) = 0.5*randn;  fc1.bias (7) = 0.1*randn;
  fc2.weight (3,7) = 0.5*randn;  fc2.bias (3) = 0.1*randn;
  targets (6) = randint(0,3) with targets[2] = -100 (ignored).
  h = gelu_tanh(x fc1.weight^T + fc1.bias)
      gelu_tanh(u) = 0.5 u (1 + tanh(sqrt(2/pi) (u + 0.044715 u^3)))
  logits = h fc2.weight^T + fc2.bias                    (6,3)
  loss = mean over rows with targets != -100 of
         (logsumexp(logits[i]) - logits[i, targets[i]])  (shape [])
  Stored: x, fc1.weight, fc1.bias, fc2.weight, fc2.bias, targets, h, logits,
  loss, grad.x, grad.fc1.weight, grad.fc1.bias, grad.fc2.weight, grad.fc2.bias.

Case "attention_block" (Llama-style pre-norm block, B=2, T=5, C=16)
-----------------------------------------------------------------
  x (2,5,16) = randn;  norm.weight g (16) = 1 + 0.1*randn;
  q_proj (16,16), k_proj (8,16), v_proj (8,16), o_proj (16,16) = 0.25*randn,
  no biases;  R (2,5,16) = randn;
  mask (2,5) = [[1,1,1,1,1],[1,1,1,1,0]]  (key padding: 1 = real, 0 = pad).
  y = x * rsqrt(mean(x^2 over last axis) + 1e-5) * g
  q = y q_proj^T -> (B,T,4,4) -> (B,4,T,4)       4 query heads, head dim 4
  k = y k_proj^T -> (B,T,2,4) -> (B,2,T,4)       2 kv heads
  v = y v_proj^T -> (B,T,2,4) -> (B,2,T,4)
  RoPE (HF rotate_half convention), positions p = 0..4, D = 4, theta = 10000:
      inv_freq[i] = 1 / theta^(2i/D), i = 0..D/2-1
      ang[p] = p * inv_freq;  cos = cat(cos(ang), cos(ang)); sin likewise (D wide)
      rotate_half(z) = cat(-z[..., D/2:], z[..., :D/2])
      q' = q*cos + rotate_half(q)*sin;  k' likewise (v is not rotated)
  scores[b,h,i,j] = q'[b,h,i] . k'[b,h//2,j] / sqrt(4)     (GQA: head h uses kv head h//2)
      = -inf where j > i (causal) or mask[b,j] == 0 (padded key)
  attn = softmax(scores over j) @ v[b,h//2]   -> (B,4,T,4) -> (B,T,16) (heads concatenated)
  out = x + attn o_proj^T                               (2,5,16)
  loss = sum(out * R)                                   (shape [])
  No query row is fully masked.  The padded query position (batch 1, t=4) is
  computed normally and does contribute to the loss.
  Stored: x, norm.weight, q_proj.weight, k_proj.weight, v_proj.weight,
  o_proj.weight, mask, R, cos (5,4), sin (5,4), out, loss, and grads of x,
  norm.weight and the four projection weights.
  The script asserts the explicit attention equals
  F.scaled_dot_product_attention(..., enable_gqa=True) with the same mask.

Case "ops" (single ops; tensor names are prefixed "<op>.")
--------------------------------------------------------
  Every op gets its own inputs (randn) and its own R (randn, shape of out);
  the stored grads are those of sum(out * R) w.r.t. each input.
  log_softmax:  x (3,7);  out = x - logsumexp(x, last axis, keepdim)    (3,7)
  logsumexp:    x (3,7);  out = log(sum(exp(x), last axis))             (3)
  layer_norm:   x (4,9), weight (9) = 1 + 0.1*randn, bias (9) = 0.1*randn, eps 1e-5;
                out = (x - mean) / sqrt(var_biased + eps) * weight + bias  (4,9)
  gelu_erf:     x (2,7);  out = 0.5 x (1 + erf(x / sqrt(2)))
  gelu_tanh:    x (2,7);  out = 0.5 x (1 + tanh(sqrt(2/pi)(x + 0.044715 x^3)))
  silu:         x (3,5);  out = x * sigmoid(x)
  broadcast_add: a (3,1,5), b (4,1);  out = a + b   (3,4,5)
  broadcast_mul: a (3,1,5), b (4,1);  out = a * b   (3,4,5)
  bmm:          a (2,3,4), b (2,4,5);  out = a @ b     (2,3,5)
  bmm_bt:       a (2,3,4), b (2,5,4);  out = a @ b^T   (2,3,5)  (b transposed on its last two axes)
  Stored per op: its inputs, R, out, grad.<input> for each input.
"""

import json
import math
from pathlib import Path

import torch
import torch.nn.functional as F

torch.set_default_dtype(torch.float64)

OUT_PATH = Path(__file__).with_name("golden.json")


def rand(*shape, scale=1.0, offset=0.0):
    """A float32 normal draw, promoted to float64 (so it is exact in float32)."""
    t = torch.randn(*shape, dtype=torch.float32)
    if scale != 1.0 or offset != 0.0:
        t = (offset + scale * t).to(torch.float32)  # round the scaled value back to float32
    return t.to(torch.float64)


def leaf(t):
    return t.detach().clone().requires_grad_(True)


def entry(t):
    t = t.detach().to(torch.float64)
    return {"shape": list(t.shape), "data": [float(v) for v in t.reshape(-1).tolist()]}


def gelu_tanh(u):
    return 0.5 * u * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (u + 0.044715 * u**3)))


# --------------------------------------------------------------------------- mlp


def case_mlp():
    x = rand(6, 5)
    w1 = rand(7, 5, scale=0.5)
    b1 = rand(7, scale=0.1)
    w2 = rand(3, 7, scale=0.5)
    b2 = rand(3, scale=0.1)
    targets = torch.randint(0, 3, (6,), dtype=torch.int64)
    targets[2] = -100

    params = {"x": leaf(x), "fc1.weight": leaf(w1), "fc1.bias": leaf(b1),
              "fc2.weight": leaf(w2), "fc2.bias": leaf(b2)}
    p = params
    h = gelu_tanh(p["x"] @ p["fc1.weight"].T + p["fc1.bias"])
    logits = h @ p["fc2.weight"].T + p["fc2.bias"]
    loss = F.cross_entropy(logits, targets, ignore_index=-100, reduction="mean")

    # Independent check of the loss formula stated in the header.
    keep = targets != -100
    manual = (torch.logsumexp(logits[keep], dim=-1) - logits[keep].gather(1, targets[keep, None])[:, 0]).mean()
    assert torch.allclose(loss, manual, rtol=0, atol=1e-14)
    assert torch.allclose(h, F.gelu(p["x"] @ p["fc1.weight"].T + p["fc1.bias"], approximate="tanh"), atol=1e-14)

    loss.backward()
    tensors = {name: entry(t) for name, t in params.items()}
    tensors["targets"] = entry(targets.to(torch.float64))
    tensors["h"] = entry(h)
    tensors["logits"] = entry(logits)
    tensors["loss"] = entry(loss)
    for name, t in params.items():
        tensors["grad." + name] = entry(t.grad)
    notes = ("h = gelu_tanh(x fc1.weight^T + fc1.bias); logits = h fc2.weight^T + fc2.bias; "
             "loss = mean cross-entropy over rows with targets != -100 (row 2 ignored). "
             "Linear weights are (out, in). Computed in float64 from float32 inputs.")
    return {"tensors": tensors, "notes": notes}


# --------------------------------------------------------------------------- attention_block

B, T, C = 2, 5, 16
N_HEADS, N_KV_HEADS, HEAD_DIM = 4, 2, 4
ROPE_THETA = 10000.0
RMS_EPS = 1e-5


def rope_cos_sin(positions, dim, theta):
    inv_freq = 1.0 / theta ** (torch.arange(0, dim, 2, dtype=torch.float64) / dim)
    ang = positions.to(torch.float64)[:, None] * inv_freq[None, :]
    emb = torch.cat([ang, ang], dim=-1)
    return emb.cos(), emb.sin()


def rotate_half(z):
    half = z.shape[-1] // 2
    return torch.cat([-z[..., half:], z[..., :half]], dim=-1)


def rms_norm(x, g, eps):
    return x * torch.rsqrt(x.pow(2).mean(dim=-1, keepdim=True) + eps) * g


def explicit_attention(q, k, v, mask):
    """q (B,Hq,T,D), k/v (B,Hkv,T,D), mask (B,T) of 1 = keep, 0 = padded key."""
    group = q.shape[1] // k.shape[1]
    kv_index = torch.arange(q.shape[1]) // group          # query head h -> kv head h // group
    k_h, v_h = k[:, kv_index], v[:, kv_index]
    scores = q @ k_h.transpose(-1, -2) / math.sqrt(q.shape[-1])
    t = q.shape[2]
    causal = torch.ones(t, t, dtype=torch.bool).tril()
    allowed = causal[None, None] & mask.bool()[:, None, None, :]
    scores = scores.masked_fill(~allowed, float("-inf"))
    return torch.softmax(scores, dim=-1) @ v_h, allowed


def case_attention_block():
    x = rand(B, T, C)
    g = rand(C, scale=0.1, offset=1.0)
    wq = rand(N_HEADS * HEAD_DIM, C, scale=0.25)
    wk = rand(N_KV_HEADS * HEAD_DIM, C, scale=0.25)
    wv = rand(N_KV_HEADS * HEAD_DIM, C, scale=0.25)
    wo = rand(C, N_HEADS * HEAD_DIM, scale=0.25)
    r = rand(B, T, C)
    mask = torch.tensor([[1, 1, 1, 1, 1], [1, 1, 1, 1, 0]], dtype=torch.int64)

    params = {"x": leaf(x), "norm.weight": leaf(g), "q_proj.weight": leaf(wq),
              "k_proj.weight": leaf(wk), "v_proj.weight": leaf(wv), "o_proj.weight": leaf(wo)}
    p = params
    cos, sin = rope_cos_sin(torch.arange(T), HEAD_DIM, ROPE_THETA)

    y = rms_norm(p["x"], p["norm.weight"], RMS_EPS)
    q = (y @ p["q_proj.weight"].T).view(B, T, N_HEADS, HEAD_DIM).transpose(1, 2)
    k = (y @ p["k_proj.weight"].T).view(B, T, N_KV_HEADS, HEAD_DIM).transpose(1, 2)
    v = (y @ p["v_proj.weight"].T).view(B, T, N_KV_HEADS, HEAD_DIM).transpose(1, 2)
    q = q * cos + rotate_half(q) * sin
    k = k * cos + rotate_half(k) * sin

    attn, allowed = explicit_attention(q, k, v, mask)
    reference = F.scaled_dot_product_attention(q, k, v, attn_mask=allowed, enable_gqa=True)
    assert torch.allclose(attn, reference, rtol=0, atol=1e-12), (attn - reference).abs().max()
    assert torch.allclose(y, F.rms_norm(p["x"], (C,), p["norm.weight"], eps=RMS_EPS), atol=1e-14)

    attn = attn.transpose(1, 2).reshape(B, T, N_HEADS * HEAD_DIM)
    out = p["x"] + attn @ p["o_proj.weight"].T
    loss = (out * r).sum()
    loss.backward()

    tensors = {name: entry(t) for name, t in params.items()}
    tensors["mask"] = entry(mask.to(torch.float64))
    tensors["R"] = entry(r)
    tensors["cos"] = entry(cos)
    tensors["sin"] = entry(sin)
    tensors["out"] = entry(out)
    tensors["loss"] = entry(loss)
    for name, t in params.items():
        tensors["grad." + name] = entry(t.grad)
    notes = ("Pre-norm Llama block: RMSNorm (eps 1e-5) -> q/k/v (4 q heads, 2 kv heads, head dim 4, "
             "no bias) -> RoPE theta 1e4 rotate_half, positions 0..4 -> causal + key-padding masked "
             "softmax(q k^T / 2), GQA head h uses kv head h//2 -> concat heads -> o_proj; "
             "out = x + that; loss = sum(out * R). Padded query row (b=1,t=4) is kept in the loss.")
    return {"tensors": tensors, "notes": notes}


# --------------------------------------------------------------------------- ops


def op_case(name, inputs, fn, tensors):
    """Adds '<name>.<input>', '<name>.R', '<name>.out', '<name>.grad.<input>' to tensors."""
    leaves = {k: leaf(v) for k, v in inputs.items()}
    out = fn(**leaves)
    r = rand(*out.shape)
    (out * r).sum().backward()
    for k, t in leaves.items():
        tensors[f"{name}.{k}"] = entry(t)
    tensors[f"{name}.R"] = entry(r)
    tensors[f"{name}.out"] = entry(out)
    for k, t in leaves.items():
        tensors[f"{name}.grad.{k}"] = entry(t.grad)


def case_ops():
    tensors = {}
    op_case("log_softmax", {"x": rand(3, 7)}, lambda x: F.log_softmax(x, dim=-1), tensors)
    op_case("logsumexp", {"x": rand(3, 7)}, lambda x: torch.logsumexp(x, dim=-1), tensors)
    op_case("layer_norm",
            {"x": rand(4, 9), "weight": rand(9, scale=0.1, offset=1.0), "bias": rand(9, scale=0.1)},
            lambda x, weight, bias: F.layer_norm(x, (9,), weight, bias, eps=1e-5), tensors)
    op_case("gelu_erf", {"x": rand(2, 7)}, lambda x: F.gelu(x), tensors)
    op_case("gelu_tanh", {"x": rand(2, 7)}, lambda x: F.gelu(x, approximate="tanh"), tensors)
    op_case("silu", {"x": rand(3, 5)}, lambda x: F.silu(x), tensors)
    op_case("broadcast_add", {"a": rand(3, 1, 5), "b": rand(4, 1)}, lambda a, b: a + b, tensors)
    op_case("broadcast_mul", {"a": rand(3, 1, 5), "b": rand(4, 1)}, lambda a, b: a * b, tensors)
    op_case("bmm", {"a": rand(2, 3, 4), "b": rand(2, 4, 5)}, lambda a, b: a @ b, tensors)
    op_case("bmm_bt", {"a": rand(2, 3, 4), "b": rand(2, 5, 4)}, lambda a, b: a @ b.transpose(-1, -2), tensors)
    notes = ("Single ops; names are '<op>.<tensor>'. Each op: out = op(inputs), grads of sum(out * R). "
             "log_softmax/logsumexp over the last axis; layer_norm eps 1e-5 biased variance; "
             "broadcast_* are (3,1,5) with (4,1) -> (3,4,5); bmm_bt is a @ b^T on the last two axes.")
    return {"tensors": tensors, "notes": notes}


def dump_json(doc):
    """JSON with one tensor per line (readable diffs, still small)."""
    lines = ["{", f' "meta": {json.dumps(doc["meta"])},', ' "cases": {']
    case_items = list(doc["cases"].items())
    for ci, (case_name, case) in enumerate(case_items):
        lines.append(f"  {json.dumps(case_name)}: {{")
        lines.append(f'   "notes": {json.dumps(case["notes"])},')
        lines.append('   "tensors": {')
        tensor_items = list(case["tensors"].items())
        for ti, (name, t) in enumerate(tensor_items):
            comma = "," if ti < len(tensor_items) - 1 else ""
            lines.append(f"    {json.dumps(name)}: {json.dumps(t)}{comma}")
        lines.append("   }")
        lines.append("  }" + ("," if ci < len(case_items) - 1 else ""))
    lines.append(" }")
    lines.append("}")
    text = "\n".join(lines) + "\n"
    assert json.loads(text) == doc
    return text


def main():
    torch.manual_seed(0)
    cases = {
        "mlp": case_mlp(),
        "attention_block": case_attention_block(),
        "ops": case_ops(),
    }
    meta = {"generator": "make_golden.py", "torch": torch.__version__, "dtype": "float64 from float32 inputs"}
    OUT_PATH.write_text(dump_json({"meta": meta, "cases": cases}))
    print(f"wrote {OUT_PATH} ({OUT_PATH.stat().st_size} bytes)")


if __name__ == "__main__":
    main()
