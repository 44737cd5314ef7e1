"""Golden values for ConfidenceLoss (Burns et al. 2023's auxiliary confidence loss).

The reference is the authors' `logconf_loss_fn` (openai/weak-to-strong, weak_to_strong/loss.py) written out below on
two-class logits [0, z] — the same model as Charter's single logit z — with the warm-up made linear as the paper
describes (the released code jumps to 1 at the end of warm-up; openai/weak-to-strong#33).
Run: python3 make_confidence_loss_fixture.py > confidence_loss.json
"""
import json

import torch


def logconf_loss(logits, labels, coef):
    # logits (B, 2), labels (B, 2) soft weak labels; as logconf_loss_fn after the coefficient is chosen.
    preds = torch.softmax(logits, dim=-1)
    mean_weak = torch.mean(labels, dim=0)
    threshold = torch.quantile(preds[:, 0], mean_weak[1])
    strong_preds = torch.cat([(preds[:, 0] >= threshold)[:, None], (preds[:, 0] < threshold)[:, None]], dim=1)
    target = labels * (1 - coef) + strong_preds.detach() * coef
    return torch.nn.functional.cross_entropy(logits, target, reduction="none").mean(), strong_preds[:, 1].float()


def alpha(step_frac, maximum, warmup_frac):
    return maximum * min(1.0, step_frac / warmup_frac)


cases = []
generator = torch.Generator().manual_seed(7)
for size, step_frac in [(8, 0.05), (8, 0.5), (13, 0.1), (5, 1.0)]:
    z = (torch.randn(size, generator=generator) * 2).float()
    weak = torch.rand(size, generator=generator).float()
    coef = alpha(step_frac, 0.75, 0.2)
    logit = z.clone().requires_grad_(True)
    logits = torch.stack([torch.zeros_like(logit), logit], dim=1)
    labels = torch.stack([1 - weak, weak], dim=1)
    loss, hardened = logconf_loss(logits, labels, coef)
    loss.backward()
    plain = torch.nn.functional.cross_entropy(torch.stack([torch.zeros_like(z), z], dim=1), labels).item()
    cases.append({
        "logits": z.tolist(), "weak_labels": weak.tolist(), "step_fraction": step_frac, "alpha_max": 0.75,
        "warmup_fraction": 0.2, "alpha": coef, "hardened": hardened.tolist(), "loss": loss.item(),
        "gradient": logit.grad.tolist(), "cross_entropy": plain,
    })
print(json.dumps({"torch": torch.__version__, "cases": cases}, indent=1))
