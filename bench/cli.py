"""How fast does the command line answer? `pretrain_nb --help` and `pretrain_nb train --help`, each a fresh process, against
`python -c "import torch"` (what every --help cost while the CLI imported PyTorch before parsing) and `python -c pass` (the
interpreter alone), measured in the same run. Prints a table of medians.   python bench/cli.py [--runs 7]"""
import argparse, shutil, statistics, subprocess, sys, time

def wall(cmd: list[str], runs: int) -> float:
    "The median wall time of `runs` fresh processes (after one unmeasured run to warm the file cache)."
    subprocess.run(cmd, capture_output=True, check=True)
    times = []
    for _ in range(runs):
        t0 = time.perf_counter(); subprocess.run(cmd, capture_output=True, check=True); times.append(time.perf_counter() - t0)
    return statistics.median(times)

def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--runs", type=int, default=7)
    a = ap.parse_args()
    exe = shutil.which("pretrain_nb") or sys.exit("pretrain_nb is not installed (pip install -e .)")
    rows = [("python -c pass (the interpreter alone)", [sys.executable, "-c", "pass"]),
            ('python -c "import torch" (the old cost of every --help)', [sys.executable, "-c", "import torch"]),
            ("pretrain_nb --help", [exe, "--help"]),
            ("pretrain_nb train --help", [exe, "train", "--help"]),
            ("pretrain_nb sample --help", [exe, "sample", "--help"])]
    times = {name: wall(cmd, a.runs) for name, cmd in rows}
    base = times[rows[1][0]]
    print(f"| command (median of {a.runs} fresh processes) | seconds | vs importing torch |\n|---|---|---|")
    for name, t in times.items(): print(f"| {name} | {t:.3f} | {t / base:.2f}× |")
    worst = max(times[r[0]] for r in rows[2:])
    print(f"\nthe slowest help screen: {worst:.2f} s ({'under' if worst < 1 else 'OVER'} the 1 s a user should wait)")

if __name__ == "__main__": main()
