#!/usr/bin/env python
"""Per-chapter numbers of the book: words of prose, figures, code cells, exercises — and the checks on them.

    python .ci/book_stats.py            # print the Markdown table (the one in nbs/index.ipynb)
    python .ci/book_stats.py --check    # exit 1 if a teaching chapter has under 900 words of prose, no figure (chapter 1 on),
                                        # no exercises, or a saved output with a frozen progress bar or a warning

Words are counted in markdown cells (code, math and HTML left out); a figure is a saved image output (PNG or SVG) of a
code cell; an exercise is a markdown cell that starts with "**Exercise".
"""
import json, re, sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NOT_TEACHING = {"index", "00_core", "90_measurements"}

def words(md: str) -> int:
    md = re.sub(r"```.*?```", " ", md, flags=re.S)                 # code blocks
    md = re.sub(r"\$\$.*?\$\$|\$[^$]*\$", " ", md, flags=re.S)      # math
    md = re.sub(r"<[^>]+>|`[^`]*`|\[([^\]]*)\]\([^)]*\)", r" \1 ", md)
    return len(re.findall(r"[A-Za-z][A-Za-z'’-]*", md))

def stats(nb_path: Path) -> dict:
    nb = json.loads(nb_path.read_text())
    md = ["".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "markdown"]
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    figs = sum(1 for c in code for o in c.get("outputs", []) if {"image/png", "image/svg+xml"} & set(o.get("data", {})))
    bad = [o for c in code for o in c.get("outputs", [])
           if re.search(r"\b0%\||Warning", "".join(o.get("text", "")) + "".join(o.get("data", {}).get("text/plain", "")))]
    title = next((re.sub(r"^#\s*", "", m.splitlines()[0]) for m in md if m.startswith("# ")), nb_path.stem)
    return {"chapter": nb_path.stem, "title": title, "words": sum(map(words, md)), "figures": figs, "code_cells": len(code),
            "exercises": sum(m.lstrip().startswith("**Exercise") for m in md), "dirty_outputs": len(bad)}

def table(rows) -> str:
    out = ["| chapter | words of prose | figures | code cells | exercises |", "|---|---|---|---|---|"]
    out += [f"| {r['title']} | {r['words']:,} | {r['figures']} | {r['code_cells']} | {r['exercises']} |" for r in rows]
    return "\n".join(out)

def main():
    rows = [stats(p) for p in sorted((ROOT / "nbs").glob("*.ipynb")) if p.stem != "index"]
    print(table(rows))
    if "--check" in sys.argv:
        problems = []
        for r in rows:
            teaching = r["chapter"] not in NOT_TEACHING
            if teaching and r["words"] < 900: problems.append(f"{r['chapter']}: {r['words']} words of prose (fewer than 900)")
            if teaching and r["figures"] < 1: problems.append(f"{r['chapter']}: no figure")
            if teaching and r["exercises"] < 2: problems.append(f"{r['chapter']}: {r['exercises']} exercises (fewer than 2)")
            if r["dirty_outputs"]: problems.append(f"{r['chapter']}: {r['dirty_outputs']} saved outputs with a progress bar or a warning")
        for p in problems: print("FAIL  " + p)
        sys.exit(1 if problems else 0)

if __name__ == "__main__":
    main()
