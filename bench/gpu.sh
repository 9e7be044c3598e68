#!/usr/bin/env bash
# Every GPU check of pretrain_nb in one script (under 5 minutes on one H200). Results: ${OUT:-bench/results}/gpu.txt
# (what it printed) and gpu.jsonl (the numbers). On a machine without CUDA it says so in one line and exits 0.
#   bash bench/gpu.sh
# Packages a GPU machine's image may lack (bitsandbytes, datasets, nbdev, IPython, ipywidgets) can travel unpacked in
# .whl/site (bash bench/gpu_env.sh builds it here); this checkout is imported directly, nothing is installed.
set -uo pipefail
cd "$(dirname "$0")/.."
RES=${OUT:-bench/results}; mkdir -p "$RES"; LOG="$RES/gpu.txt"; JSON="$RES/gpu.jsonl"; : > "$LOG"; : > "$JSON"
PY=${PYTHON:-python3}
say() { echo "$*" | tee -a "$LOG"; }
WHAT="the notebooks' gpu cells; GPT-2 124M training steps in bf16 (eager and torch.compile, fused AdamW and bitsandbytes'
8-bit AdamW per tensor and over flat buffers, a micro-batch twice as large: tokens/s, MFU, peak memory); the optimizer step
alone (time, state bytes per parameter); our 8-bit AdamW on CUDA against bitsandbytes' kernel; the Trainer end to end on CUDA
(tokens/s and MFU as it logs them, checkpoint and resume)"
if ! $PY -c "import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)" 2>/dev/null; then
  say "no CUDA device: nothing measured. With one, this script measures $(echo $WHAT)."
  exit 0
fi
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}" PYTHONUNBUFFERED=1 HF_HUB_OFFLINE=1 TOKENIZERS_PARALLELISM=false
[ -d .whl/site ] && export PYTHONPATH="$PYTHONPATH:$PWD/.whl/site"
if ! $PY -c "import datasets" 2>/dev/null && [ -d .whl/ds4 ]; then export PYTHONPATH="$PWD/.whl/ds4:$PYTHONPATH"; fi
T0=$SECONDS
section() { say ""; say "== $* ($((SECONDS-T0))s)"; }

section "$(date -u +%F) $(nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader 2>/dev/null)"
$PY - <<'PY' 2>&1 | tee -a "$LOG"
import importlib, torch
print(f"torch {torch.__version__} (CUDA {torch.version.cuda}), {torch.cuda.get_device_name()}, bf16 {torch.cuda.is_bf16_supported()}")
for m in ("bitsandbytes", "datasets", "nbdev", "triton"):
    try: print(f"{m} {importlib.import_module(m).__version__}")
    except Exception as e: print(f"{m}: not importable ({type(e).__name__}: {e})")
from pretrain_nb.model import device_peak_flops
print("MFU peak:", device_peak_flops("cuda", torch.bfloat16)[1])
PY

section "GPT-2 124M training step"
timeout 420 $PY bench/gpu.py model --json "$JSON" 2>&1 | grep -v "^W[0-9]" | tee -a "$LOG"
section "the optimizer step alone"
timeout 120 $PY bench/gpu.py optim --json "$JSON" 2>&1 | tee -a "$LOG"
section "our 8-bit AdamW vs bitsandbytes on CUDA"
timeout 120 $PY bench/gpu.py agree --json "$JSON" 2>&1 | tee -a "$LOG"

trainer_numbers() {   # the last logged step's tokens/s and MFU, as the Trainer computed them
  $PY - "$1" <<'PY' 2>&1 | tee -a "$LOG"
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1] + "/metrics.jsonl") if '"loss"' in l]
last = rows[-1]; evals = [json.loads(l) for l in open(sys.argv[1] + "/metrics.jsonl") if '"val_loss"' in l]
print(f"step {last['step']}: {last['tokens_per_s']:,.0f} tokens/s, MFU {last.get('mfu', float('nan')):.1%}, loss {last['loss']:.3f}"
      + (f"; val bits/byte {evals[-1]['val_bpb']:.3f}" if evals else ""))
PY
}
section "the Trainer on CUDA: the tiny preset (bf16, torch.compile, 8-bit AdamW), then --resume"
W=$(mktemp -d)
if timeout 240 $PY -m pretrain_nb.cli train --out "$W/tiny" --max-steps 300 --eval-interval 150 --ckpt-interval 150 --quiet > "$RES/tiny.log" 2>&1
then say "PASS  pretrain_nb train (tiny) on CUDA"; trainer_numbers "$W/tiny"
else say "FAIL  pretrain_nb train (tiny) on CUDA"; tail -30 "$RES/tiny.log" | tee -a "$LOG"; fi
if timeout 120 $PY -m pretrain_nb.cli train --out "$W/tiny" --resume --max-steps 400 --quiet > "$RES/tiny-resume.log" 2>&1
then say "PASS  --resume on CUDA"; trainer_numbers "$W/tiny"; else say "FAIL  --resume on CUDA"; tail -20 "$RES/tiny-resume.log" | tee -a "$LOG"; fi

section "the Trainer on CUDA: GPT-2 124M shapes (4,096-token BPE), 0.5M tokens per step"
if timeout 300 $PY -m pretrain_nb.cli train --preset gpt2-124m --vocab-size 4096 --out "$W/g124" \
     --max-steps 6 --warmup-steps 2 --eval-interval 6 --eval-batches 4 --ckpt-interval 6 --sample-tokens 0 > "$RES/g124.log" 2>&1
then say "PASS  pretrain_nb train (GPT-2 124M shapes) on CUDA"; tr "\r" "\n" < "$RES/g124.log" | grep -E "^(model|batch):" | tee -a "$LOG"; trainer_numbers "$W/g124"
else say "FAIL  pretrain_nb train (GPT-2 124M shapes) on CUDA"; tail -30 "$RES/g124.log" | tr '\r' '\n' | tail -30 | tee -a "$LOG"; fi
rm -rf "$W"

section "the notebooks' gpu cells (nbdev_test --flags gpu)"
for nb in $(grep -l '"#| gpu' nbs/*.ipynb); do
  # (called with keywords: fastcore's command-line parsing only reads sys.argv when nbdev_test is a script's entry point)
  if timeout 240 $PY -c "import sys; from nbdev.test import nbdev_test; nbdev_test(path=sys.argv[1], flags='gpu', n_workers=0)" "$nb" > "$RES/nbtest.log" 2>&1
  then say "PASS  gpu cells of $nb"; else say "FAIL  gpu cells of $nb"; tail -25 "$RES/nbtest.log" | tee -a "$LOG"; fi
done
section "done"
