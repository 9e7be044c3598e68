#!/usr/bin/env bash
# Every GPU check of pretrain_nb in one script (< 5 minutes on one H200); results go to ${OUT:-bench/results}/gpu.txt.
#   bash bench/gpu.sh
# 1. the notebooks' `#| gpu` cells (nbdev_test --flags gpu)
# 2. bf16 autocast, torch.compile, bitsandbytes' CUDA 8-bit AdamW: tokens/s and MFU of gpt2-124m training steps
set -uo pipefail
cd "$(dirname "$0")/.."
RES=${OUT:-bench/results}; mkdir -p "$RES"; LOG="$RES/gpu.txt"
: > "$LOG"
say() { echo "$*" | tee -a "$LOG"; }
say "== $(date -u) $(nvidia-smi --query-gpu=name,memory.total --format=csv,noheader 2>/dev/null)"
python -c "import pretrain_nb" 2>/dev/null || pip install -q -e ".[dev]" >> "$LOG" 2>&1
say "== nbdev_test --flags gpu"
timeout 180 nbdev_test --flags gpu --n_workers 1 >> "$LOG" 2>&1 && say "gpu cells: passed" || say "gpu cells: FAILED"
say "== gpt2-124m training step: bf16 autocast, compile, optimizer"
timeout 240 python - <<'PY' 2>&1 | tee -a "$LOG"
import time, torch
from pretrain_nb.model import GPT, gpt_config, estimate_mfu
from pretrain_nb.core import autocast_context
PEAK = 989e12                      # H100/H200 SXM dense bf16 (spec); the measured ceiling is lower
cfg = gpt_config("gpt2-124m", vocab_size=50304)
B, T = 16, 1024
x = torch.randint(0, cfg.vocab_size, (B, T), device="cuda"); y = torch.roll(x, -1, 1)
def bench(opt_name, compile_):
    torch.manual_seed(0)
    m = GPT(cfg).cuda()
    if opt_name == "adamw8bit":
        import bitsandbytes as bnb
        opt = bnb.optim.AdamW8bit(m.parameters(), lr=6e-4)
    else:
        opt = torch.optim.AdamW(m.parameters(), lr=6e-4, fused=True)
    run = torch.compile(m) if compile_ else m
    def step():
        with autocast_context("cuda"): _, loss = run(x, y)
        loss.backward(); opt.step(); opt.zero_grad(set_to_none=True)
    for _ in range(3): step()
    torch.cuda.synchronize(); t = time.perf_counter(); n = 10
    for _ in range(n): step()
    torch.cuda.synchronize(); dt = (time.perf_counter() - t) / n
    tps = B * T / dt
    print(f"{opt_name:10s} compile={compile_!s:5s} {dt*1e3:7.1f} ms/step {tps:10,.0f} tokens/s  MFU {estimate_mfu(cfg, tps, PEAK):.1%}  "
          f"peak mem {torch.cuda.max_memory_allocated()/2**30:.1f} GiB", flush=True)
    torch.cuda.reset_peak_memory_stats()
for opt_name in ("adamw", "adamw8bit"):
    for c in (False, True): bench(opt_name, c)
PY
say "== done"
