#!/usr/bin/env python
"""GPU measurements (run by bench/gpu.sh; each section prints a Markdown table and appends JSON to --json).

    python bench/gpu.py model    # GPT-2 124M training step: eager vs torch.compile, fused AdamW vs bitsandbytes 8-bit (per tensor and
                                 # over flat buffers), and a micro-batch twice as large; tokens/s, MFU, peak memory
    python bench/gpu.py optim    # the optimizer step alone on 124M parameters: fused AdamW vs bitsandbytes AdamW8bit (per tensor, and
                                 # and pretrain_nb's AdamW8bit on bitsandbytes' kernel: per tensor, no waits, and
                                 # over flat buffers) vs Muon; state bytes/param
    python bench/gpu.py agree    # our 8-bit AdamW (reference) on CUDA vs bitsandbytes' CUDA kernel: codes, block maxima, parameters

Ratios are against a baseline measured in the same process; nothing is asserted on time.
"""
import argparse, json, statistics, sys, time
from pathlib import Path
import torch
from pretrain_nb.model import GPT, gpt_config, estimate_mfu, device_peak_flops
from pretrain_nb.core import autocast_context
from pretrain_nb.optim import AdamW8bit, BitsandbytesKernel

def cuda_time(fn, warmup=3, steps=10) -> float:
    "Median seconds per call, timed with CUDA events around each call."
    for _ in range(warmup): fn()
    times = []
    for _ in range(steps):
        a, b = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        a.record(); fn(); b.record(); torch.cuda.synchronize()
        times.append(a.elapsed_time(b) / 1e3)
    return statistics.median(times)

def emit(args, section, rows):
    with open(args.json, "a") as f:
        for r in rows: f.write(json.dumps({"section": section, **r}) + "\n")

def model_section(a):
    import bitsandbytes as bnb
    cfg = gpt_config("gpt2-124m", vocab_size=50304)              # padded to a multiple of 64, as the trainer does
    B, T = a.batch, cfg.block_size
    peak, note = device_peak_flops("cuda", torch.bfloat16)
    x = torch.randint(0, 50257, (B, T), device="cuda"); y = torch.roll(x, -1, 1)
    torch.manual_seed(0)
    model = GPT(cfg).cuda()
    rows = []
    def run(label, fwd, opt, x=x, y=y):
        B = x.shape[0]
        def step():
            with autocast_context("cuda", torch.bfloat16): _, loss = fwd(x, y)
            loss.backward(); opt.step(); opt.zero_grad(set_to_none=True)
        torch.cuda.reset_peak_memory_stats()
        t0 = time.perf_counter(); step(); torch.cuda.synchronize(); first = time.perf_counter() - t0     # compilation, if any
        dt = cuda_time(step, warmup=2, steps=a.steps)
        tps = B * T / dt
        r = {"variant": label, "ms_per_step": dt * 1e3, "tokens_per_s": tps, "mfu": estimate_mfu(cfg, tps, peak) if peak else None,
             "peak_gib": torch.cuda.max_memory_allocated() / 2**30, "first_step_s": first}
        r["batch"] = B
        rows.append(r); print(f"  {label}: {dt * 1e3:.1f} ms/step, {tps:,.0f} tokens/s, MFU {r['mfu'] or 0:.1%}", flush=True)
    fused = lambda: torch.optim.AdamW(model.parameters(), lr=6e-4, fused=True)
    run("eager, fused AdamW", model, fused())
    compiled = torch.compile(model)
    run("torch.compile, fused AdamW", compiled, fused())
    run("torch.compile, bitsandbytes AdamW8bit", compiled, bnb.optim.AdamW8bit(model.parameters(), lr=6e-4))
    run("torch.compile, AdamW8bit (bitsandbytes' kernel over flat buffers)", compiled,
        AdamW8bit(model.parameters(), lr=6e-4, kernel="bitsandbytes"))
    x2 = torch.randint(0, 50257, (2 * B, T), device="cuda")           # a larger micro-batch: a separate static graph
    run(f"torch.compile, fused AdamW, micro-batch {2 * B}", torch.compile(model, dynamic=False), fused(), x2, torch.roll(x2, -1, 1))
    base = rows[0]["tokens_per_s"]
    print(f"\nGPT-2 124M, bf16 autocast, SDPA, micro-batch {B} × {T} unless the row says otherwise; MFU against {note}\n")
    print("| variant | ms/step | tokens/s | vs eager | MFU | peak memory |\n|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['variant']} | {r['ms_per_step']:.1f} | {r['tokens_per_s']:,.0f} | {r['tokens_per_s'] / base:.2f}× | "
              f"{(r['mfu'] or 0):.1%} | {r['peak_gib']:.1f} GiB |")
    emit(a, "model", [{**r, "peak": note} for r in rows])

def optim_section(a):
    import bitsandbytes as bnb
    from pretrain_nb.optim import optimizer_state_bytes
    torch.manual_seed(0)
    params = [torch.nn.Parameter(torch.randn(s, device="cuda") * 0.02) for s in
              [(50304, 768), (1024, 768)] + [(768, 2304), (2304,), (768, 768), (768,), (768, 3072), (3072,), (3072, 768), (768,), (768,), (768,)] * 12]
    n = sum(p.numel() for p in params)
    for p in params: p.grad = torch.randn_like(p) * 1e-3
    rows = []
    from pretrain_nb.optim import Muon
    muon_groups = [{"params": [p for p in params[2:] if p.dim() == 2], "muon": True},        # the blocks' matrices
                   {"params": params[:2] + [p for p in params[2:] if p.dim() < 2], "muon": False}]
    for label, make in (("fused AdamW (fp32 state)", lambda: torch.optim.AdamW(params, lr=1e-4, fused=True)),
                        ("bitsandbytes AdamW8bit", lambda: bnb.optim.AdamW8bit(params, lr=1e-4)),
                        ("AdamW8bit, bitsandbytes' kernel per tensor (no waits)",
                         lambda: AdamW8bit(params, lr=1e-4, kernel=BitsandbytesKernel())),
                        ("AdamW8bit, bitsandbytes' kernel over flat buffers", lambda: AdamW8bit(params, lr=1e-4, kernel="bitsandbytes")),
                        ("pretrain_nb Muon (bf16 Newton–Schulz) + AdamW", lambda: Muon(muon_groups, lr=1e-4))):
        torch.cuda.synchronize(); before = torch.cuda.memory_allocated()
        opt = make(); opt.step(); torch.cuda.synchronize()
        state = optimizer_state_bytes(opt)
        dt = cuda_time(opt.step, warmup=3, steps=max(a.steps, 20))
        rows.append({"optimizer": label, "ms_per_step": dt * 1e3, "ns_per_param": dt / n * 1e9, "state_bytes_per_param": state / n,
                     "memory_gib": (torch.cuda.memory_allocated() - before) / 2**30})
        del opt; torch.cuda.empty_cache()
    base = rows[0]["ms_per_step"]
    print(f"\nThe optimizer step alone, {n / 1e6:.1f}M parameters (GPT-2 124M's shapes), gradients given\n")
    print("| optimizer | ms/step | ns/param | vs fused AdamW | state bytes/param | state memory |\n|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['optimizer']} | {r['ms_per_step']:.2f} | {r['ns_per_param']:.3f} | {r['ms_per_step'] / base:.2f}× | "
              f"{r['state_bytes_per_param']:.2f} | {r['memory_gib']:.2f} GiB |")
    emit(a, "optim", [{**r, "params": n} for r in rows])

def agree_section(a):
    import bitsandbytes as bnb
    cfg = gpt_config("tiny", vocab_size=4096)
    def run(make, steps):
        torch.manual_seed(1); m = GPT(cfg).cuda(); init = [p.detach().clone() for p in m.parameters()]
        opt = make(list(m.parameters())); g = torch.Generator(device="cuda").manual_seed(1)
        for _ in range(steps):
            x = torch.randint(0, 4096, (8, 64), device="cuda", generator=g)
            _, loss = m(x, torch.roll(x, -1, 1)); loss.backward(); opt.step(); opt.zero_grad(set_to_none=True)
        return m, init, opt
    steps = 20
    m_b, init, o_b = run(lambda ps: bnb.optim.AdamW8bit(ps, lr=1e-3, weight_decay=0.1), steps)
    m_r, _, o_r = run(lambda ps: AdamW8bit(ps, lr=1e-3, weight_decay=0.1, kernel="reference"), steps)
    same_q = total_q = 0; absmax_rel = 0.0
    for p_b, p_r in zip(m_b.parameters(), m_r.parameters()):
        sb, sr = o_b.state[p_b], o_r.state[p_r]
        if "state1" not in sb or sb["state1"].dtype != torch.uint8: continue                 # the same layout: codes and scales
        for qb, qr, ab, ar in ((sb["state1"], sr["state1"], sb["absmax1"], sr["absmax1"]),
                               (sb["state2"], sr["state2"], sb["absmax2"], sr["absmax2"])):
            same_q += (qb.reshape(-1) == qr.reshape(-1)).sum().item(); total_q += qr.numel()
            absmax_rel = max(absmax_rel, ((ab.reshape(-1) - ar.reshape(-1)).abs() / ar.reshape(-1).abs().clamp_min(1e-30)).max().item())
    d = torch.cat([(p - q).reshape(-1) for p, q in zip(m_r.parameters(), m_b.parameters())])
    moved = torch.cat([(p - i).reshape(-1) for p, i in zip(m_b.parameters(), init)])
    r = {"steps": steps, "identical_codes": same_q / max(total_q, 1), "codes": total_q, "absmax_max_rel_diff": absmax_rel,
         "max_abs_dtheta": d.abs().max().item(), "rel_dtheta": (d.norm() / moved.norm()).item(), "max_moved": moved.abs().max().item()}
    print(f"\nOur 8-bit AdamW (reference, on CUDA) vs bitsandbytes' CUDA kernel: the same {steps} steps of a tiny GPT\n")
    print("| identical state codes | block maxima, max rel. diff | max abs Δθ | ‖Δθ‖ / ‖θ − θ₀‖ | θ moved up to |\n|---|---|---|---|---|")
    print(f"| {r['identical_codes']:.2%} of {total_q:,} | {absmax_rel:.2e} | {r['max_abs_dtheta']:.2e} | {r['rel_dtheta']:.2%} | {r['max_moved']:.2e} |")
    emit(a, "agree", [r])

if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("section", choices=("model", "optim", "agree"))
    ap.add_argument("--batch", type=int, default=16); ap.add_argument("--steps", type=int, default=10)
    ap.add_argument("--json", default="bench/results/gpu.jsonl")
    a = ap.parse_args()
    if not torch.cuda.is_available(): print("no CUDA device"); sys.exit(0)
    Path(a.json).parent.mkdir(parents=True, exist_ok=True)
    {"model": model_section, "optim": optim_section, "agree": agree_section}[a.section](a)
