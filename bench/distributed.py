#!/usr/bin/env python
"""Tokens/s of the `tiny` preset's training step with 1 and with 2 gloo processes on the CPU (torchrun).

    python bench/distributed.py [--steps 30]

Two processes on a two-core machine share the cores: no speed-up is expected, the number is reported as measured.
"""
import argparse, json, os, subprocess, sys, tempfile
from pathlib import Path

def run(n, out, steps):
    args = ["train", "--out", str(out), "--max-steps", str(steps), "--eval-interval", str(steps), "--eval-batches", "2",
            "--ckpt-interval", str(steps), "--log-interval", "1", "--sample-tokens", "0", "--quiet", "--optimizer", "adamw"]
    cmd = ([sys.executable, "-m", "pretrain_nb.cli"] if n == 1 else
           [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={n}", "-m", "pretrain_nb.cli"])
    env = {**os.environ, "PRETRAIN_NB_DEVICE": "cpu", "OMP_NUM_THREADS": str(max(1, (os.cpu_count() or 2) // n))}
    subprocess.run(cmd + args, check=True, env=env, capture_output=True)
    rows = [json.loads(l) for l in (Path(out) / "metrics.jsonl").read_text().splitlines() if "tokens_per_s" in l]
    tps = [r["tokens_per_s"] for r in rows[5:]]                     # skip the first steps (start-up)
    return sum(tps) / len(tps)

def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--steps", type=int, default=30); ap.add_argument("--out", default="bench/results/distributed.md")
    a = ap.parse_args()
    tmp = Path(tempfile.mkdtemp())
    one = run(1, tmp / "one", a.steps); two = run(2, tmp / "two", a.steps)
    table = ["| processes | tokens/s (global batch) | vs 1 process |", "|---|---|---|",
             f"| 1 | {one:,.0f} | 1.00× |", f"| 2 (gloo) | {two:,.0f} | {two / one:.2f}× |"]
    print("\n".join(table))
    Path(a.out).parent.mkdir(parents=True, exist_ok=True); Path(a.out).write_text("\n".join(table) + "\n")

if __name__ == "__main__":
    main()
