#!/usr/bin/env python
"""Write README.md from nbs/index.ipynb (what `nbdev_readme` does, without needing Quarto).

    python .ci/readme.py          # regenerate README.md
    python .ci/readme.py --check  # exit 1 if README.md is out of date
"""
import copy, re, sys
from pathlib import Path
import nbformat
from nbconvert import MarkdownExporter

ROOT = Path(__file__).resolve().parent.parent
DIRECTIVE = re.compile(r"^\s*#\|\s*(.*)$")

def _directives(src):
    return [m.group(1).strip() for line in src.splitlines() if (m := DIRECTIVE.match(line))]

def render(nb_path=ROOT / "nbs" / "index.ipynb"):
    nb = nbformat.read(nb_path, as_version=4)
    nb = copy.deepcopy(nb)
    cells = []
    for c in nb.cells:
        if c.cell_type == "code":
            ds = _directives(c.source)
            if any(d.split()[0] in ("hide", "export", "exporti", "default_exp") for d in ds if d): continue
            c.source = "\n".join(l for l in c.source.splitlines() if not DIRECTIVE.match(l)).strip()
            if any(d.startswith("hide_input") or d.startswith("echo: false") for d in ds): c.source = ""
            c.outputs = [o for o in c.get("outputs", []) if not ({"image/png", "image/svg+xml"} & set(o.get("data", {})))]  # pictures live on the site
            if not c.source and not c.outputs: continue
        cells.append(c)
    nb.cells = cells
    nb.metadata["language_info"] = {"name": "python"}   # code fences tagged python
    body, _ = MarkdownExporter().from_notebook_node(nb)
    body = re.sub(r"\n{3,}", "\n\n", body).strip() + "\n"
    # Quarto renders links to sibling notebooks as .html pages of the docs site.
    body = re.sub(r"\]\((\w[\w-]*)\.ipynb\)", r"](https://pretrain-nb.github.io/pretrain_nb/\1.html)", body)
    return body

if __name__ == "__main__":
    out, readme = render(), ROOT / "README.md"
    if "--check" in sys.argv:
        if not readme.exists() or readme.read_text() != out:
            print("README.md is out of date with nbs/index.ipynb: run `python .ci/readme.py` and commit it.")
            sys.exit(1)
        print("README.md matches nbs/index.ipynb")
    else:
        readme.write_text(out)
        print(f"wrote {readme.relative_to(ROOT)}")
