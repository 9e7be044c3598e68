#!/usr/bin/env python
"""Time to quality: pretrain_nb's default recipe under a time budget vs nanoGPT's small CPU recipe, on the same text.

    python bench/time_to_quality.py [--data english.txt] [--budget-fraction 0.25] [-- more pretrain_nb options]

nanoGPT's CPU recipe (its README's `train_shakespeare_char` command for a CPU: character level, 4 layers, 4 heads, width
128, context 64, batch 12, no dropout, no biases, fp32 AdamW with lr 1e-3 → 1e-4, β2 0.99, 100 warm-up steps, 2,000 steps,
20 evaluation batches every 250 steps) runs as the `char-small` preset; then `pretrain_nb train --data FILE --time-budget M`
runs with the default recipe (BPE tokenizer, the `tiny` model) and M = budget-fraction × the reference's whole wall-clock
time. Both are whole commands timed from the outside (tokenizer training and data preparation included), evaluated in bits
per byte on the same validation split. A third run keeps the `tiny` model and fits only its steps to the same budget
(`--budget-fit none`): what fitting the model's size and learning rate to the budget is worth.

Then each run's curve answers the other's question: when did pretrain_nb first reach nanoGPT's final bits per byte, and
when did nanoGPT's recipe reach pretrain_nb's? A crossing between two evaluations is interpolated (`time_to_reach`), and a
command's time at a crossing is its start-up (the whole command's wall clock minus its training's) plus the training
seconds there. Without --data the text is the pydoc topics (the English prose of Python's `help()`), written to a file.
Nothing is asserted on time: the table is the result.

    python bench/time_to_quality.py --sizes [--data english.txt] [--budget-fraction 0.25]

instead runs every size the budget fitting chooses from (the tiny model, then `BUDGET_LADDER`) for the same budget, each
with peak lr 8e-3 and a 10-step warm-up, and prints the training tokens per parameter each got and its bits per byte: the
measurement behind `TOKENS_PER_PARAM`.
"""
import argparse, json, os, subprocess, sys, time
from pathlib import Path
from pretrain_nb.recipe import run_curve, time_to_reach
from pretrain_nb.trainer import BUDGET_LADDER

def english_text(path: Path) -> Path:
    from pydoc_data.topics import topics
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n\n".join(topics[k] for k in sorted(topics)))
    return path

def run(args: list[str], out: Path) -> dict:
    "One whole `pretrain_nb train` command: wall-clock seconds and its last evaluation."
    cmd = [sys.executable, "-m", "pretrain_nb.cli", "train", "--out", str(out), "--force", "--sample-tokens", "0", "--quiet", *args]
    t = time.time()
    r = subprocess.run(cmd, capture_output=True, text=True, env={**os.environ, "PRETRAIN_NB_DEVICE": os.environ.get("PRETRAIN_NB_DEVICE", "cpu")})
    wall = time.time() - t
    if r.returncode: raise SystemExit(f"{' '.join(cmd)} failed:\n{r.stderr[-2000:]}")
    curve = run_curve(out)
    return {"wall_s": wall, "val_bpb": curve[-1][2], "curve": curve, "steps": curve[-1][0],   # (under a budget: the steps it fitted)
            "start_s": wall - curve[-1][1]}                     # process start, imports, saving: outside the training's clock

def reach(run: dict, target: float) -> float | None:
    "Whole-command seconds at which `run` first reached `target` bits per byte (None: never)."
    t = time_to_reach(run["curve"], target)
    return None if t is None else run["start_s"] + t

def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", help="a text file (default: the pydoc topics as one file)")
    ap.add_argument("--budget-fraction", type=float, default=0.25)
    ap.add_argument("--work", default="bench/results/ttq")
    ap.add_argument("--out", default="bench/results/time_to_quality.md")
    ap.add_argument("--sizes", action="store_true", help="each candidate size for the same budget (see above)")
    ap.add_argument("--reference-s", type=float, help="the nanoGPT recipe's wall clock, if already measured (skips its run; --sizes only)")
    ap.add_argument("extra", nargs="*", help="more options for the pretrain_nb run (after --)")
    a = ap.parse_args()
    work = Path(a.work)
    data = Path(a.data) if a.data else english_text(work / "english.txt")
    ref = {"wall_s": a.reference_s} if a.sizes and a.reference_s else run(["--preset", "char-small", "--data", str(data)], work / "nanogpt-char-small")
    budget_min = ref["wall_s"] * a.budget_fraction / 60
    if a.sizes: return sizes(a, data, work, budget_min)
    ours = run(["--data", str(data), "--time-budget", f"{budget_min:.3f}", *a.extra], work / "pretrain_nb-default")
    steps_only = run(["--data", str(data), "--time-budget", f"{budget_min:.3f}", "--budget-fit", "none", *a.extra], work / "pretrain_nb-steps-only")
    rows = [("nanoGPT recipe (char-small preset)", ref), (f"pretrain_nb default, --time-budget {budget_min:.2f} min", ours),
            ("the same, tiny model and lr kept (--budget-fit none)", steps_only)]
    lines = [f"Time to quality on {data} ({data.stat().st_size / 1e6:.2f} MB), validation bits per byte, whole commands:", "",
             "| run | steps | wall clock | val bits/byte | time vs nanoGPT recipe |", "|---|---|---|---|---|"]
    for name, r in rows:
        lines.append(f"| {name} | {r['steps']} | {r['wall_s']:.0f} s | {r['val_bpb']:.3f} | {r['wall_s'] / ref['wall_s']:.2f}× |")
    verdict = ("reached" if ours["val_bpb"] <= ref["val_bpb"] else "did not reach")
    lines += ["", f"pretrain_nb's default {verdict} the nanoGPT recipe's {ref['val_bpb']:.3f} bits/byte in "
              f"{ours['wall_s'] / ref['wall_s']:.2f}× its time ({ours['val_bpb']:.3f}).", ""]
    for who, run_, other, name in ((f"pretrain_nb", ours, ref, "the nanoGPT recipe's"), ("The nanoGPT recipe", ref, ours, "pretrain_nb's")):
        t = reach(run_, other["val_bpb"])
        lines.append(f"- {who} reached {name} final {other['val_bpb']:.3f} bits/byte " +
                     (f"after {t:.0f} s: {t / ref['wall_s']:.2f}× the nanoGPT recipe's whole {ref['wall_s']:.0f} s." if t is not None
                      else "never, in its whole run."))
    lines += ["", "Validation curves (step: bits/byte at seconds of training):",
              "- nanoGPT recipe: " + ", ".join(f"{s}: {b:.3f} at {t:.0f} s" for s, t, b in ref["curve"]),
              "- pretrain_nb: " + ", ".join(f"{s}: {b:.3f} at {t:.0f} s" for s, t, b in ours["curve"])]
    text = "\n".join(lines)
    print(text)
    Path(a.out).parent.mkdir(parents=True, exist_ok=True); Path(a.out).write_text(text + "\n")

def sizes(a, data: Path, work: Path, budget_min: float):
    "Each candidate size for the same budget, lr 8e-3 and warm-up 10: tokens per parameter and bits per byte."
    lines = [f"Every candidate size for --time-budget {budget_min:.2f} min on {data} (peak lr 8e-3, warm-up 10 steps):", "",
             "| layers × width | parameters | steps | tokens per parameter | val bits/byte |", "|---|---|---|---|---|"]
    rows = []
    for L, d in ((4, 192), *BUDGET_LADDER[1:]):
        out = work / f"size-{L}x{d}"
        r = run(["--data", str(data), "--time-budget", f"{budget_min:.3f}", "--budget-fit", "none", "--n-layer", str(L), "--d-model", str(d),
                 "--n-head", str(4 if d == 192 else d // 32), "--lr", "8e-3", "--warmup-steps", "10", *a.extra], out)
        n, tokens = _params(out), r["steps"] * 16 * 128                  # the tiny preset's batch: 16 sequences of 128 tokens
        lines.append(f"| {L} × {d} | {n / 1e6:.2f}M | {r['steps']} | {tokens / n:.2f} | {r['val_bpb']:.3f} |")
        rows.append({"n_layer": L, "d_model": d, "params": n, "steps": r["steps"], "tokens_per_param": tokens / n, "val_bpb": r["val_bpb"]})
        print(lines[-1], flush=True)
    text = "\n".join(lines)
    print(text)
    Path(a.out).parent.mkdir(parents=True, exist_ok=True); Path(a.out).write_text(text + "\n")
    Path(a.out).with_suffix(".json").write_text(json.dumps({"budget_min": budget_min, "data": data.name, "rows": rows}, indent=1) + "\n")

def _params(out: Path) -> int:
    from pretrain_nb.trainer import find_checkpoint, load_checkpoint, model_from_checkpoint
    return model_from_checkpoint(load_checkpoint(find_checkpoint(out))).num_params()

if __name__ == "__main__": main()
