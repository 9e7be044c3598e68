#!/usr/bin/env python
"""From GPT-2's recipe to today's: every change alone, then together, for the same wall-clock budget on this machine.

    python bench/recipe.py [--budget 90] [--seeds 0,1] [--only gpt2,rope,...] [--out bench/results/recipe.json]
    python bench/recipe.py --time-to-quality [--candidate modern-muon]   # the GPT-2 recipe's 800 steps vs the candidate
    python bench/recipe.py --speed                  # each recipe's training step alone, interleaved: what each costs per step

Each run is the `tiny` preset (4 layers × 192, context 128, batch 16, the default 8-bit AdamW unless the change is Muon) on
the embedded corpus, prepared once; `--time-budget` fits each run's schedule to the same wall-clock budget (the cosine decay
ends when the budget does), and the validation bits per byte are recorded every 25 steps with the seconds elapsed. Two seeds
per change show the spread, so a gain can be compared with the noise. Results go to a JSON file (read by the "Today's recipe"
chapter) and a Markdown table; the chapter reads the copies kept in bench/recorded/. Nothing is asserted on time: the table
is the result.
"""
import argparse, json, os, subprocess, sys, tempfile, time
from pathlib import Path
from pretrain_nb.recipe import RECIPE_CHANGES, change_flags, recipe_settings, run_curve, summarize, summary_markdown, time_to_reach

def train(data: Path, out: Path, settings: dict, seed: int, extra: list[str]) -> dict:
    "One whole `pretrain_nb train` on the prepared shards: its evaluations (step, seconds, bits per byte) and wall clock."
    cmd = [sys.executable, "-m", "pretrain_nb.cli", "train", "--data", str(data), "--out", str(out), "--force", "--quiet",
           "--sample-tokens", "0", "--seed", str(seed), "--eval-interval", "25", "--eval-batches", "10", "--ckpt-interval", "100000",
           *change_flags(settings), *extra]
    t = time.time()
    r = subprocess.run(cmd, capture_output=True, text=True, env={**os.environ, "PRETRAIN_NB_DEVICE": "cpu"})
    if r.returncode: raise SystemExit(f"{' '.join(cmd)} failed:\n{r.stderr[-2000:]}")
    curve = run_curve(out)
    return {"wall_s": time.time() - t, "steps": curve[-1][0], "final_bpb": curve[-1][2],
            "curve": [(s, t, round(b, 4)) for s, t, b in curve]}

def prepare(work: Path) -> Path:
    data = work / "stdlib-shards"
    if not (data / "meta.json").is_file():
        subprocess.run([sys.executable, "-m", "pretrain_nb.cli", "prepare", "--data", "stdlib", "--out", str(data)], check=True,
                       capture_output=True)
    return data

def ablation(a, data: Path, work: Path) -> dict:
    names = a.only.split(",") if a.only else list(RECIPE_CHANGES)
    seeds = [int(x) for x in a.seeds.split(",")]
    results = {}
    for name in names:
        for seed in seeds:
            r = train(data, work / f"{name}-{seed}", recipe_settings(name), seed, ["--time-budget", f"{a.budget / 60:.4f}", "--budget-fit", "none"])   # the same model size for every change
            results.setdefault(name, []).append(r)
            print(f"{name:>12} seed {seed}: {r['steps']:>4} steps in {r['wall_s']:.0f} s, val bits/byte {r['final_bpb']:.4f}", flush=True)
    head = f"Every change for the same {a.budget:.0f} s on {os.cpu_count()} CPU cores (tiny preset, embedded corpus, seeds {a.seeds}):"
    table = summary_markdown(summarize(results)) if "gpt2" in results else ""
    return {"budget_s": a.budget, "seeds": seeds, "results": results, "table": head + "\n\n" + table}

def time_to_quality(a, data: Path, work: Path) -> dict:
    "The GPT-2 recipe for its 800 steps; the candidate for the same 800 steps: when does it first reach the GPT-2 recipe's final bits per byte?"
    ref = train(data, work / "ttq-gpt2", recipe_settings("gpt2"), 0, [])
    cand = train(data, work / f"ttq-{a.candidate}", recipe_settings(a.candidate), 0, [])
    reached = time_to_reach(cand["curve"], ref["final_bpb"])
    ref_t = ref["curve"][-1][1]
    lines = [f"Time to the GPT-2 recipe's quality (tiny preset, 800 steps each, embedded corpus, {os.cpu_count()} CPU cores):", "",
             "| recipe | steps | training time | final val bits/byte |", "|---|---|---|---|",
             f"| gpt2 (the GPT-2 recipe) | {ref['steps']} | {ref_t:.0f} s | {ref['final_bpb']:.4f} |",
             f"| {a.candidate} | {cand['steps']} | {cand['curve'][-1][1]:.0f} s | {cand['final_bpb']:.4f} |", ""]
    if reached is not None:
        lines.append(f"{a.candidate} first reached {ref['final_bpb']:.4f} bits/byte after {reached:.0f} s: "
                     f"{reached / ref_t:.2f}× the GPT-2 recipe's {ref_t:.0f} s (target ≤ 0.6×).")
    else: lines.append(f"{a.candidate} did not reach {ref['final_bpb']:.4f} bits/byte in 800 steps.")
    back = time_to_reach(ref["curve"], cand["final_bpb"])
    lines.append(f"The other way: the GPT-2 recipe " + (f"reached {a.candidate}'s final {cand['final_bpb']:.4f} bits/byte after {back:.0f} s."
                 if back is not None else f"never reached {a.candidate}'s final {cand['final_bpb']:.4f} bits/byte in its 800 steps."))
    return {"reference": ref, "candidate": a.candidate, "run": cand, "reached": reached, "table": "\n".join(lines)}

def speed(a) -> dict:
    """Each recipe's training step (forward, backward, optimizer step) on the tiny model with a random batch of 16 × 128
    tokens, the recipes interleaved round by round so that a machine that slows down mid-run slows every recipe alike;
    the median over rounds."""
    import statistics, torch
    from pretrain_nb.model import GPT
    from pretrain_nb.optim import make_optimizer
    from pretrain_nb.trainer import make_config, run_model_config
    names = a.only.split(",") if a.only else list(RECIPE_CHANGES)
    setups = {}
    for name in names:
        cfg = make_config("tiny", **recipe_settings(name), out="unused")
        torch.manual_seed(0); model = GPT(run_model_config(cfg, vocab_size=4096))
        x = torch.randint(0, 4096, (16, 128)); opt = make_optimizer(model, cfg.optimizer, cfg.lr)
        def step(model=model, opt=opt, x=x):
            _, loss = model(x, x); loss.backward(); opt.step(); opt.zero_grad(set_to_none=True)
        for _ in range(3): step()
        setups[name] = step
    times = {n: [] for n in names}
    for _ in range(a.rounds):
        for n, step in setups.items():
            t = time.perf_counter(); step(); step(); times[n].append((time.perf_counter() - t) / 2)
    med = {n: statistics.median(ts) for n, ts in times.items()}
    base = med.get("gpt2", next(iter(med.values())))
    lines = [f"Training step of each recipe (tiny, 16 × 128 tokens, {torch.get_num_threads()} threads, median of {a.rounds} interleaved rounds):", "",
             "| recipe | ms / step | vs gpt2 | tokens / s |", "|---|---|---|---|"]
    lines += [f"| {n} | {m * 1e3:.0f} | {m / base:.2f}× | {16 * 128 / m:,.0f} |" for n, m in med.items()]
    return {"ms_per_step": {n: m * 1e3 for n, m in med.items()}, "table": "\n".join(lines)}

def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--budget", type=float, default=90, help="seconds per run (default: 90)")
    ap.add_argument("--seeds", default="0,1")
    ap.add_argument("--only", default=None, help=f"a comma-separated subset of: {', '.join(RECIPE_CHANGES)}")
    ap.add_argument("--time-to-quality", action="store_true", help="instead: 800 steps of gpt2 vs --candidate")
    ap.add_argument("--speed", action="store_true", help="instead: each recipe's training step alone, interleaved")
    ap.add_argument("--rounds", type=int, default=15, help="rounds of --speed (default: 15)")
    ap.add_argument("--candidate", default="modern-muon", choices=list(RECIPE_CHANGES))
    ap.add_argument("--work", default=None, help="the folder for the runs (default: a temporary one)")
    ap.add_argument("--out", default=None, help="the JSON results (default: bench/results/recipe.json or recipe_ttq.json)")
    a = ap.parse_args()
    if a.speed: res = speed(a)
    else:
        work = Path(a.work or tempfile.mkdtemp(prefix="pretrain_nb-recipe-"))
        data = prepare(work)
        res = time_to_quality(a, data, work) if a.time_to_quality else ablation(a, data, work)
    import torch
    res["machine"] = {"cpus": os.cpu_count(), "torch": torch.__version__, "date": time.strftime("%Y-%m-%d")}
    out = Path(a.out or f"bench/results/recipe{'_ttq' if a.time_to_quality else '_speed' if a.speed else ''}.json")
    out.parent.mkdir(parents=True, exist_ok=True); out.write_text(json.dumps(res, indent=1) + "\n")
    out.with_suffix(".md").write_text(res["table"] + "\n")
    print("\n" + res["table"])

if __name__ == "__main__": main()
