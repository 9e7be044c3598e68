#!/usr/bin/env python
"""Cells of one idea and lines a person can read: the book's two size rules, measured.

    python .ci/style.py           # per chapter: exported cells, those over 40 lines, the longest; per module: lines over 120
    python .ci/style.py --check   # exit 1 if an exported cell has more than 40 lines or a line of the package more than 120

The one line the rule cannot reach is the first line of the `__all__` that nbdev generates (it wraps the names at 120 and
then puts `__all__ = ` in front); it is left out.
"""
import json, re, sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MAX_CELL, MAX_LINE = 40, 120


def exported_cells(nb_path: Path) -> list[str]:
    nb = json.loads(nb_path.read_text())
    return ["".join(c["source"]) for c in nb["cells"]
            if c["cell_type"] == "code" and re.search(r"^#\|\s*exports?\b", "".join(c["source"]), re.M)]


def long_lines(py: Path) -> list[tuple[int, str]]:
    lines = py.read_text(encoding="utf-8").splitlines()
    return [(n, l) for n, l in enumerate(lines, 1) if len(l) > MAX_LINE and not l.startswith("__all__ = [")]


def main():
    problems = []
    print(f"| chapter | exported cells | over {MAX_CELL} lines | longest |\n|---|---|---|---|")
    for p in sorted((ROOT / "nbs").glob("*.ipynb")):
        cells = exported_cells(p)
        if not cells: continue
        sizes = [len(c.splitlines()) for c in cells]
        over = [c for c in cells if len(c.splitlines()) > MAX_CELL]
        print(f"| {p.stem} | {len(cells)} | {len(over)} | {max(sizes)} |")
        problems += [f"{p.stem}: an exported cell of {len(c.splitlines())} lines ({c.splitlines()[1][:60]}…): split it "
                     "into cells of one idea" for c in over]
    print(f"\n| module | lines | lines over {MAX_LINE} characters |\n|---|---|---|")
    for py in sorted((ROOT / "pretrain_nb").glob("*.py")):
        if py.name == "_modidx.py": continue
        bad = long_lines(py)
        print(f"| {py.name} | {len(py.read_text(encoding='utf-8').splitlines())} | {len(bad)} |")
        problems += [f"{py.name}:{n}: {len(l)} characters: {l.strip()[:60]}…" for n, l in bad]
    if "--check" in sys.argv:
        for q in problems: print("FAIL  " + q)
        sys.exit(1 if problems else 0)


if __name__ == "__main__": main()
