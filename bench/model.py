#!/usr/bin/env python
"""Model benchmark: forward+backward time per step of the default CPU model (the `tiny` preset, V=4096),
explicit attention vs SDPA, eager vs torch.compile; parameters and FLOPs per token of each preset.

    python bench/model.py [--batch 8] [--steps 10] [--no-compile]

Ratios are against the eager SDPA run measured in the same process; nothing is asserted on time.
"""
import argparse, time
from pathlib import Path
import torch
from pretrain_nb.core import human_count
from pretrain_nb.model import GPT, gpt_config, flops_per_token, PRESETS

def step_time(model, x, y, steps):
    def step():
        _, loss = model(x, y); loss.backward()
    for _ in range(2): step()                                   # warm-up (and compilation)
    t = time.perf_counter()
    for _ in range(steps): step()
    return (time.perf_counter() - t) / steps

def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--batch", type=int, default=8); ap.add_argument("--steps", type=int, default=10)
    ap.add_argument("--no-compile", action="store_true"); ap.add_argument("--out", default="bench/results/model.md")
    a = ap.parse_args()
    torch.manual_seed(0)
    cfg = gpt_config("tiny", vocab_size=4096)
    x = torch.randint(0, cfg.vocab_size, (a.batch, cfg.block_size)); y = torch.roll(x, -1, 1)
    rows, base = [], None
    variants = [("SDPA", True, False), ("explicit", False, False)]
    if not a.no_compile: variants += [("SDPA", True, True), ("explicit", False, True)]
    for name, sdpa, comp in variants:
        torch.manual_seed(0)
        m = GPT(cfg)
        for b in m.blocks: b.attn.use_sdpa = sdpa
        t0 = time.perf_counter()
        run = torch.compile(m) if comp else m
        dt = step_time(run, x, y, a.steps)
        base = base or dt
        toks = a.batch * cfg.block_size / dt
        rows.append((f"{name} attention, {'torch.compile' if comp else 'eager'}", f"{dt * 1e3:.0f} ms",
                     f"{toks:,.0f}", f"{base / dt:.2f}×"))
        print(" | ".join(rows[-1]), flush=True)
    table = [f"fwd+bwd of `tiny` (V=4096, {human_count(GPT(cfg).num_params())} params), B={a.batch}, T={cfg.block_size}:", "",
             "| variant | time / step | tokens/s | speed vs eager SDPA |", "|---|---|---|---|"]
    table += ["| " + " | ".join(r) + " |" for r in rows]
    table += ["", "| preset | parameters | non-embedding | training FLOPs / token |", "|---|---|---|---|"]
    for name in PRESETS:
        c = gpt_config(name)
        with torch.device("meta"): m = GPT(c)
        table.append(f"| {name} | {m.num_params():,} | {m.num_params(non_embedding=True):,} | {human_count(flops_per_token(c))} |")
    print("\n".join(table))
    Path(a.out).parent.mkdir(parents=True, exist_ok=True); Path(a.out).write_text("\n".join(table) + "\n")

if __name__ == "__main__":
    main()
