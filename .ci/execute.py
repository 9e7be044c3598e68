#!/usr/bin/env python
"""Run notebooks and save their outputs in place, skipping cells the way `nbdev_test` does.

    python .ci/execute.py nbs/01_tokenizer.ipynb [more.ipynb] [--flags "slow"]

Cells flagged with a `tst_flags` flag that is not asked for (`#| gpu` on a CPU machine, say)
and `#| eval: false` cells are left without output. Run `nbdev_clean` afterwards.
"""
import argparse, configparser, copy, re
from pathlib import Path
import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parent.parent

def _flags_of(src):
    return {m.group(1).strip() for m in re.finditer(r"^\s*#\|\s*(.+)$", src, re.M)}

def execute(path, flags=(), timeout=1800):
    cfg = configparser.ConfigParser(); cfg.read(ROOT / "settings.ini")
    tst_flags = set(cfg["DEFAULT"].get("tst_flags", "").split())
    skip = tst_flags - set(flags)
    nb = nbformat.read(path, as_version=4)
    run = copy.deepcopy(nb)
    for c in run.cells:
        if c.cell_type != "code": continue
        ds = _flags_of(c.source)
        if ds & skip or any(re.fullmatch(r"eval:\s*false", d) for d in ds):
            c.source, c.metadata["skipped"] = "", True
    NotebookClient(run, timeout=timeout, kernel_name="python3",
                   resources={"metadata": {"path": str(Path(path).parent)}}).execute()
    for c, r in zip(nb.cells, run.cells):
        if c.cell_type == "code":
            c.outputs = [] if r.metadata.get("skipped") else r.outputs
            c.execution_count = None
    nbformat.write(nb, path)
    print(f"executed {path}")

if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("notebooks", nargs="+")
    ap.add_argument("--flags", default="", help="space-separated test flags to run (e.g. 'slow')")
    a = ap.parse_args()
    for p in a.notebooks: execute(p, a.flags.split())
