#!/usr/bin/env python
"""Optimizer benchmark (CPU): one step of each optimizer for the default model (`tiny`), a 25M-parameter GPT (8 layers
of width 512: the size the speed targets are stated for) and GPT-2 small's parameter tensors (124M), in ns per parameter
and as a ratio to torch's fused fp32 AdamW measured in the same run (the median of the timed steps); and bytes of
optimizer state per parameter.

    python bench/optim.py [--skip-124m]
    python bench/optim.py --muon        # Muon vs AdamW at the tiny size: the optimizer step alone and a whole training step

Muon's cost is the Newton–Schulz iteration (five rounds of three matrix products per hidden weight matrix per step); the
`--muon` table puts it next to the other optimizers for the tiny training preset's model with GPT-2's blocks and with
today's (`modern`): the optimizer step alone and a whole training step (forward, backward, step), as the median of timed
steps and as ratios to fp32 AdamW (fused) and to 8-bit AdamW.
"""
import argparse, time
from pathlib import Path
import torch
from pretrain_nb.model import GPT, GPTConfig, gpt_config
from pretrain_nb.optim import AdamW8bit, make_optimizer, optimizer_state_bytes
import bitsandbytes as bnb                                   # after pretrain_nb.optim, which quiets its import-time warning
from pretrain_nb.trainer import make_config, run_model_config

C_KERNEL, FLAT = "pretrain_nb AdamW8bit, C kernel", "pretrain_nb AdamW8bit, bitsandbytes' kernel over flat buffers"
OPTS = {
    "torch AdamW fused (fp32)": lambda ps: torch.optim.AdamW(ps, lr=1e-3, fused=True),
    "torch AdamW foreach (fp32)": lambda ps: torch.optim.AdamW(ps, lr=1e-3, foreach=True),
    C_KERNEL: lambda ps: AdamW8bit(ps, lr=1e-3, kernel="c"),
    "pretrain_nb AdamW8bit, reference kernel (torch ops)": lambda ps: AdamW8bit(ps, lr=1e-3, kernel="reference"),
    "bitsandbytes AdamW8bit (CPU path)": lambda ps: bnb.optim.AdamW8bit(ps, lr=1e-3),
    FLAT: lambda ps: AdamW8bit(ps, lr=1e-3, kernel="bitsandbytes"),                        # last: it re-points the tensors
}

def median_time(fn, steps: int, warmup: int = 3) -> float:
    "Seconds per call of `fn`: the median of `steps` timed calls after `warmup` (the median is robust to a busy machine)."
    for _ in range(warmup): fn()                                    # state allocation, kernel compilation
    times = []
    for _ in range(steps):
        t = time.perf_counter(); fn(); times.append(time.perf_counter() - t)
    return sorted(times)[len(times) // 2]

def time_steps(params, make, steps):
    opt = make(params)
    return median_time(opt.step, steps, warmup=2), optimizer_state_bytes(opt)

def bench(name, shapes, steps, rows, times):
    torch.manual_seed(0)
    params = [torch.nn.Parameter(torch.randn(s) * 0.02) for s in shapes]
    for p in params: p.grad = torch.randn_like(p) * 1e-3
    n = sum(p.numel() for p in params)
    base = None
    for oname, make in OPTS.items():
        dt, sb = time_steps(params, make, steps)
        base = base or dt
        rows.append((name, oname, f"{dt * 1e3:.1f} ms", f"{dt / n * 1e9:.2f}", f"{dt / base:.2f}×", f"{sb / n:.3f}"))
        times[oname] = dt
        print(" | ".join(rows[-1]), flush=True)

def muon_vs_adamw(steps: int = 31, batch: int = 16) -> list[str]:
    "The tiny model, gpt2 and modern blocks: each optimizer's step alone, and forward + backward + step on a real batch."
    rows = ["| blocks | optimizer | optimizer step | vs AdamW | vs 8-bit AdamW | training step | vs AdamW | state bytes / param |",
            "|---|---|---|---|---|---|---|---|"]
    for arch in ("gpt2", "modern"):
        torch.manual_seed(0)
        cfg = run_model_config(make_config("tiny", arch=arch, out="unused")); model = GPT(cfg)    # the tiny training preset's model
        x = torch.randint(0, cfg.vocab_size, (batch, cfg.block_size)); y = torch.randint(0, cfg.vocab_size, (batch, cfg.block_size))
        n = sum(p.numel() for p in model.parameters())
        res = {}
        for name in ("adamw", "adamw8bit", "muon"):
            opt = make_optimizer(model, name, lr=1e-4)
            def train_step():
                _, loss = model(x, y); loss.backward(); opt.step(); opt.zero_grad(set_to_none=True)
            train_step()                                                     # grads exist, state allocated
            _, loss = model(x, y); loss.backward()
            res[name] = (median_time(opt.step, steps), median_time(train_step, max(steps // 3, 5)), optimizer_state_bytes(opt) / n)
        for name, (st, tr, sb) in res.items():
            rows.append(f"| {arch} ({n / 1e6:.2f}M) | {name} | {st * 1e3:.2f} ms | {st / res['adamw'][0]:.2f}× | "
                        f"{st / res['adamw8bit'][0]:.2f}× | {tr * 1e3:.0f} ms | {tr / res['adamw'][1]:.2f}× | {sb:.2f} |")
        print("\n".join(rows[-3:]), flush=True)
    return rows

def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--skip-124m", action="store_true"); ap.add_argument("--out", default="bench/results/optim.md")
    ap.add_argument("--muon", action="store_true", help="only the Muon vs AdamW table at the tiny size")
    a = ap.parse_args()
    if a.muon:
        rows = muon_vs_adamw()
        text = "\n".join([f"Muon vs AdamW, tiny preset, batch 16 × 128 tokens, {torch.get_num_threads()} threads, median of timed steps:", ""] + rows)
        print(text); out = Path(a.out).with_name("optim_muon.md"); out.parent.mkdir(parents=True, exist_ok=True); out.write_text(text + "\n")
        return
    rows, summary = [], []
    models = {"tiny": gpt_config("tiny"), "gpt-25m": GPTConfig(n_layer=8, n_head=8, d_model=512), "gpt2-124m": gpt_config("gpt2-124m")}
    for name, steps in (("tiny", 21), ("gpt-25m", 9)) + (() if a.skip_124m else (("gpt2-124m", 5),)):
        with torch.device("meta"): m = GPT(models[name])
        shapes = [tuple(p.shape) for p in m.parameters()]
        times = {}
        bench(f"{name} ({sum(torch.Size(s).numel() for s in shapes) / 1e6:.1f}M params)", shapes, steps, rows, times)
        ours = times[C_KERNEL]
        summary.append(f"{name}: our 8-bit AdamW step is {ours / times['torch AdamW fused (fp32)']:.2f}× torch's fused fp32 step "
                       f"(target ≤ 2×) and {times['bitsandbytes AdamW8bit (CPU path)'] / ours:.1f}× faster than bitsandbytes' CPU path (target ≥ 5×); "
                       f"bitsandbytes over flat buffers takes {times[FLAT] / times['bitsandbytes AdamW8bit (CPU path)']:.2f}× "
                       f"its per-tensor time")
    table = ["| parameters | optimizer | time / step | ns / param | vs fused fp32 | state bytes / param |", "|---|---|---|---|---|---|"]
    table += ["| " + " | ".join(r) + " |" for r in rows]
    print("\n".join(table + [""] + summary))
    Path(a.out).parent.mkdir(parents=True, exist_ok=True); Path(a.out).write_text("\n".join(table + [""] + summary) + "\n")

if __name__ == "__main__":
    main()
