#!/usr/bin/env python
"""Run chapters and save their outputs (the figures and printed results the docs pages show).

    python .ci/record.py nbs/04_attention.ipynb [more notebooks] [--long]

Cells flagged `slow` run too; `long` cells only with --long; `gpu` and `notest` cells never (they keep the outputs they
have). Runs with the notebook's folder as the working directory, like nbdev_test, with progress bars off (TQDM_DISABLE),
so a saved output never holds a frozen bar. Run `nbdev_clean` afterwards.
"""
import argparse, json, os, re, sys, time
from pathlib import Path
sys.path.insert(0, str(Path(__file__).parent))
from book_stats import hide_solutions

def flags_of(src: str) -> set[str]:
    return {m.group(1) for line in src.splitlines() if (m := re.match(r"^#\|\s*(slow|long|gpu|notest)\s*$", line.strip()))}

def record(path: Path, with_long: bool, timeout: int = 1800):
    import nbformat
    from nbclient import NotebookClient
    nb = nbformat.read(path, as_version=4)
    skip = {"gpu", "notest"} | (set() if with_long else {"long"})
    kept = {}
    for c in nb.cells:
        if c.cell_type == "code" and flags_of(c.source) & skip:
            c.metadata.setdefault("tags", []).append("skip-execution"); kept[c.id] = c.get("outputs", [])
    t = time.time()
    NotebookClient(nb, timeout=timeout, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}).execute()
    for c in nb.cells:
        if c.cell_type != "code": continue
        tags = c.metadata.get("tags", [])
        if "skip-execution" in tags:
            tags.remove("skip-execution"); c.outputs = kept.get(c.id, [])
            if not tags: c.metadata.pop("tags", None)
    nbformat.write(nb, path)
    raw = json.loads(path.read_text())                              # exercise solutions: collapsed, without output
    if hide_solutions(raw): path.write_text(json.dumps(raw, indent=1, ensure_ascii=False) + "\n")
    print(f"recorded {path} in {time.time() - t:.0f}s", flush=True)

if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("notebooks", nargs="+"); ap.add_argument("--long", action="store_true")
    a = ap.parse_args()
    os.environ.update(TQDM_DISABLE="1", HF_HUB_DISABLE_PROGRESS_BARS="1", HF_DATASETS_DISABLE_PROGRESS_BARS="1")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    for nb in a.notebooks: record(Path(nb).resolve(), a.long)
