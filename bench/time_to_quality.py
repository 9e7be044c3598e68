#!/usr/bin/env python
"""Time to quality: pretrain_nb's default recipe under a time budget vs nanoGPT's small CPU recipe, on the same text.

    python bench/time_to_quality.py [--data english.txt] [--budget-fraction 0.25] [-- more pretrain_nb options]

nanoGPT's CPU recipe (its README's `train_shakespeare_char` command for a CPU: character level, 4 layers, 4 heads, width
128, context 64, batch 12, no dropout, no biases, fp32 AdamW with lr 1e-3 → 1e-4, β2 0.99, 100 warm-up steps, 2,000 steps,
20 evaluation batches every 250 steps) runs as the `char-small` preset; then `pretrain_nb train --data FILE --time-budget M`
runs with the default recipe (BPE tokenizer, the `tiny` model) and M = budget-fraction × the reference's whole wall-clock
time. Both are whole commands timed from the outside (tokenizer training and data preparation included), evaluated in bits
per byte on the same validation split.

Then each run's curve answers the other's question: when did pretrain_nb first reach nanoGPT's final bits per byte, and
when did nanoGPT's recipe reach pretrain_nb's? A crossing between two evaluations is interpolated (`time_to_reach`), and a
command's time at a crossing is its start-up (the whole command's wall clock minus its training's) plus the training
seconds there. Without --data the text is the pydoc topics (the English prose of Python's `help()`), written to a file.
Nothing is asserted on time: the table is the result.
"""
import argparse, os, subprocess, sys, time
from pathlib import Path
from pretrain_nb.recipe import run_curve, time_to_reach

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
    ap.add_argument("extra", nargs="*", help="more options for the pretrain_nb run (after --)")
    a = ap.parse_args()
    work = Path(a.work)
    data = Path(a.data) if a.data else english_text(work / "english.txt")
    ref = run(["--preset", "char-small", "--data", str(data)], work / "nanogpt-char-small")
    budget_min = ref["wall_s"] * a.budget_fraction / 60
    ours = run(["--data", str(data), "--time-budget", f"{budget_min:.3f}", *a.extra], work / "pretrain_nb-default")
    rows = [("nanoGPT recipe (char-small preset)", ref), (f"pretrain_nb default, --time-budget {budget_min:.2f} min", ours)]
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

if __name__ == "__main__": main()
