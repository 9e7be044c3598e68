#!/usr/bin/env python
"""Per-chapter numbers of the book: words of prose, figures, code cells, exercises — and the checks on them.

    python .ci/book_stats.py            # print the Markdown table
    python .ci/book_stats.py --update   # write it into nbs/index.ipynb (between the book-stats markers)
    python .ci/book_stats.py --hide-solutions   # collapse every exercise's solution cells in Jupyter, outputs dropped
    python .ci/book_stats.py --check    # exit 1 if the table in nbs/index.ipynb is out of date, or a teaching chapter has
                                        # under 900 words of prose, no figure, fewer than two exercises, or a saved output
                                        # with a frozen progress bar or a warning, or a cell that mixes imports with other
                                        # code (nbdev's docs processing runs every cell that imports, on its own)

Words are counted in markdown cells (code, math and HTML left out); a figure is a saved image output (PNG or SVG) of a
code cell; an exercise is a markdown cell that starts with "**Exercise".
"""
import ast, json, re, sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NOT_TEACHING = {"index", "00_core", "90_measurements"}

def words(md: str) -> int:
    md = re.sub(r"```.*?```", " ", md, flags=re.S)                 # code blocks
    md = re.sub(r"\$\$.*?\$\$|\$[^$]*\$", " ", md, flags=re.S)      # math
    md = re.sub(r"<[^>]+>|`[^`]*`|\[([^\]]*)\]\([^)]*\)", r" \1 ", md)
    return len(re.findall(r"[A-Za-z][A-Za-z'’-]*", md))

def mixes_imports(source: str) -> bool:
    """True for a cell nbdev's docs processing would run out of context: it imports (anywhere, even inside a function)
    and does something else too. Exported cells are run whole on purpose; those are fine."""
    directives = " ".join(l for l in source.splitlines() if l.startswith("#|"))
    if re.search(r"\bexport|exec_doc|eval:\s*false", directives): return False
    try: tree = ast.parse("\n".join(l for l in source.splitlines() if not l.lstrip().startswith(("%", "!"))))
    except SyntaxError: return False
    imports = (ast.Import, ast.ImportFrom)
    return any(isinstance(n, imports) for n in ast.walk(tree)) and any(not isinstance(n, imports) for n in tree.body)

def solution_cells(nb: dict) -> list[dict]:
    "The code cells that answer an exercise: those after a markdown cell that starts with '**Exercise', up to the next markdown."
    out, inside = [], False
    for c in nb["cells"]:
        if c["cell_type"] == "markdown": inside = "".join(c["source"]).lstrip().startswith("**Exercise")
        elif inside: out.append(c)
    return out

def hide_solutions(nb: dict) -> int:
    "Collapse every solution cell in Jupyter (source_hidden) and drop its outputs; returns how many changed."
    n = 0
    for c in solution_cells(nb):
        want = {**c.get("metadata", {}), "jupyter": {"source_hidden": True}}
        if c.get("metadata") != want or c.get("outputs"): c["metadata"], c["outputs"] = want, []; n += 1
    return n

def stats(nb_path: Path) -> dict:
    nb = json.loads(nb_path.read_text())
    md = ["".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "markdown"]
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    figs = sum(1 for c in code for o in c.get("outputs", []) if {"image/png", "image/svg+xml"} & set(o.get("data", {})))
    bad = [o for c in code for o in c.get("outputs", [])
           if re.search(r"\b0%\||Warning", "".join(o.get("text", "")) + "".join(o.get("data", {}).get("text/plain", "")))]
    title = next((re.sub(r"^#\s*", "", m.splitlines()[0]) for m in md if m.startswith("# ")), nb_path.stem)
    return {"chapter": nb_path.stem, "title": title, "words": sum(map(words, md)), "figures": figs, "code_cells": len(code),
            "exercises": sum(m.lstrip().startswith("**Exercise") for m in md), "dirty_outputs": len(bad),
            "mixed_imports": [c.get("id") for c in code if mixes_imports("".join(c["source"]))],
            "open_solutions": sum(1 for c in solution_cells(nb)
                                  if not c.get("metadata", {}).get("jupyter", {}).get("source_hidden") or c.get("outputs"))}

def table(rows) -> str:
    out = ["| chapter | words of prose | figures | code cells | exercises |", "|---|---|---|---|---|"]
    out += [f"| {r['title']} | {r['words']:,} | {r['figures']} | {r['code_cells']} | {r['exercises']} |" for r in rows]
    return "\n".join(out)

START, END = "<!-- book-stats -->", "<!-- /book-stats -->"

def index_table(text: str | None = None):
    "The index notebook, and the cell and text of its table (between the markers)."
    p = ROOT / "nbs" / "index.ipynb"; nb = json.loads(p.read_text())
    for c in nb["cells"]:
        src = "".join(c["source"])
        if START in src and END in src: return p, nb, c, src
    raise SystemExit(f"nbs/index.ipynb has no {START} … {END} markers")

def main():
    if "--hide-solutions" in sys.argv:
        for q in sorted((ROOT / "nbs").glob("*.ipynb")):
            nb = json.loads(q.read_text())
            if hide_solutions(nb): q.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n"); print("hid solutions in", q.name)
    rows = [stats(p) for p in sorted((ROOT / "nbs").glob("*.ipynb")) if p.stem != "index"]
    t = table(rows)
    print(t)
    p, nb, cell, src = index_table()
    current = src[src.index(START) + len(START): src.index(END)].strip()
    if "--update" in sys.argv:
        new = src[:src.index(START) + len(START)] + "\n" + t + "\n" + src[src.index(END):]
        cell["source"] = [l + "\n" for l in new.split("\n")]; cell["source"][-1] = cell["source"][-1][:-1]
        p.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n")
        print("updated the table in nbs/index.ipynb")
    if "--check" in sys.argv:
        problems = [] if current == t.strip() else ["the table in nbs/index.ipynb is out of date: run python .ci/book_stats.py --update"]
        for r in rows:
            teaching = r["chapter"] not in NOT_TEACHING
            if teaching and r["words"] < 900: problems.append(f"{r['chapter']}: {r['words']} words of prose (fewer than 900)")
            if teaching and r["figures"] < 1: problems.append(f"{r['chapter']}: no figure")
            if teaching and r["exercises"] < 2: problems.append(f"{r['chapter']}: {r['exercises']} exercises (fewer than 2)")
            if r["mixed_imports"]: problems.append(f"{r['chapter']}: cells {', '.join(r['mixed_imports'])} mix imports with "
                                                   "other code (nbdev's docs processing runs them alone): split them")
            if r["open_solutions"]: problems.append(f"{r['chapter']}: {r['open_solutions']} exercise solutions open in Jupyter "
                                                    "or with saved output: run python .ci/book_stats.py --hide-solutions")
            if r["dirty_outputs"]: problems.append(f"{r['chapter']}: {r['dirty_outputs']} saved outputs with a progress bar or a warning")
        for p in problems: print("FAIL  " + p)
        sys.exit(1 if problems else 0)

if __name__ == "__main__":
    main()
