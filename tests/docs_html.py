"""The docs pages as static HTML, offline: nbdev's docs processing, then nbconvert — what Quarto does, without Quarto.

    python tests/docs_html.py [--out _html]

1. `nbdev.serve.proc_nbs` turns `nbs/*.ipynb` into `_proc/` (directives applied, `show_doc` cells added), as `nbdev_docs` does.
2. Chapters whose outputs hold widgets are executed again with their widget state saved (cells flagged slow, gpu or
   notest keep their recorded outputs), so the widgets appear, live-looking, in the static page.
3. nbconvert's `lab` template writes one HTML page per chapter; MathJax, RequireJS and the widget renderer come from
   the npm registry once (cached in ~/.cache/pretrain_nb/npm) and are served from the site itself, so a page needs no network.

With Quarto installed, `nbdev_docs` builds the full site (navigation, search, `_docs/`) from the same `_proc/`.
"""
from __future__ import annotations
import argparse, json, re, shutil, subprocess, tarfile, time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NBS = ROOT / "nbs"
CACHE = Path.home() / ".cache" / "pretrain_nb" / "npm"
NPM_PACKAGES = {"html-manager": "@jupyter-widgets/html-manager@1.0.14", "requirejs": "requirejs@2.3.8", "mathjax": "mathjax@2.7.7"}
WIDGET_MIME, STATE_MIME = "application/vnd.jupyter.widget-view+json", "application/vnd.jupyter.widget-state+json"

def npm_package(name: str) -> Path:
    "Unpack an npm package (fetched once with `npm pack`) and return its folder."
    dest = CACHE / name
    if (dest / "package.json").exists(): return dest
    CACHE.mkdir(parents=True, exist_ok=True)
    if not shutil.which("npm"): raise FileNotFoundError("npm is needed once to fetch MathJax, RequireJS and the widget renderer")
    out = subprocess.run(["npm", "pack", NPM_PACKAGES[name], "--pack-destination", str(CACHE)], capture_output=True,
                         text=True, check=True).stdout.strip().splitlines()[-1]
    tgz = CACHE / out
    tmp = CACHE / f"{name}.tmp"; shutil.rmtree(tmp, ignore_errors=True)
    with tarfile.open(tgz) as t: t.extractall(tmp, filter="data")
    shutil.rmtree(dest, ignore_errors=True); (tmp / "package").rename(dest); shutil.rmtree(tmp); tgz.unlink()
    return dest

def copy_static(site: Path) -> dict:
    "The page scripts, copied into the site; returns nbconvert's settings pointing at them."
    static = site / "_static"; static.mkdir(parents=True, exist_ok=True)
    shutil.copy(npm_package("requirejs") / "require.js", static / "require.js")
    hm = npm_package("html-manager") / "dist"
    for f in hm.iterdir():
        if f.suffix != ".map": shutil.copy(f, static / f.name)     # embed-amd.js and the fonts it loads
    mj = npm_package("mathjax")
    if not (static / "mathjax").exists():
        shutil.copytree(mj, static / "mathjax", ignore=shutil.ignore_patterns("unpacked", "*.md", "test", "docs"))
    return {"require_js_url": "_static/require.js", "widget_renderer_url": "_static/embed-amd.js",
            "mathjax_url": "_static/mathjax/MathJax.js?config=TeX-AMS_CHTML-full,Safe"}

def skip_flags() -> list[str]:
    import configparser
    cfg = configparser.ConfigParser(); cfg.read(ROOT / "settings.ini")
    return cfg["DEFAULT"].get("tst_flags", "").split()

def flagged(source: str, flags: list[str]) -> bool:
    "Does a cell carry one of these `#| flag` lines?"
    return any(re.match(rf"^#\|\s*{re.escape(f)}\s*$", line.strip()) for line in source.splitlines() for f in flags)

def flagged_ids(nb_path: Path, flags: list[str]) -> set[str]:
    "Ids of the cells nbdev_test skips by default (the processed copy keeps cell ids but drops the `#|` lines)."
    nb = json.loads(nb_path.read_text())
    return {c["id"] for c in nb["cells"] if c["cell_type"] == "code" and flagged("".join(c["source"]), flags)}

def front_matter_to_title(nb):
    "Quarto turns the front matter into the page title and subtitle; do the same as markdown."
    import nbformat, yaml
    for i, c in enumerate(nb.cells):
        if c.cell_type == "raw" and c.source.startswith("---"):
            meta = yaml.safe_load(c.source.strip().strip("-")) or {}
            md = f"# {meta.get('title', '')}\n\n" + (f"> {meta['description']}\n" if meta.get("description") else "")
            nb.cells[i] = nbformat.v4.new_markdown_cell(md, id=c.get("id", f"title{i}"))
            nb.metadata["title"] = meta.get("title", "")
            return meta.get("title", "")
    return ""

def has_widgets(nb) -> bool:
    return any(WIDGET_MIME in o.get("data", {}) for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []))

def execute_with_widget_state(src: Path, skip: set[str], timeout: int = 600):
    "Run a chapter as nbdev_test does (cwd nbs/, flagged cells skipped) and keep its widget state in the metadata."
    import nbformat
    from nbclient import NotebookClient
    nb = nbformat.read(src, as_version=4)
    for c in nb.cells:
        if c.get("id") in skip: c.metadata.setdefault("tags", []).append("skip-execution")
    NotebookClient(nb, timeout=timeout, kernel_name="python3", store_widget_state=True,
                   resources={"metadata": {"path": str(NBS)}}).execute()
    return nb

def transplant(executed, page):
    "Fresh outputs (matched by cell id) and the widget state, from the executed chapter into the processed page."
    fresh = {c.get("id"): c.get("outputs", []) for c in executed.cells
             if c.cell_type == "code" and "skip-execution" not in c.metadata.get("tags", [])}   # skipped: keep the recorded ones
    for c in page.cells:
        if c.cell_type == "code" and c.get("id") in fresh: c.outputs = fresh[c.get("id")]
    if "widgets" in executed.metadata: page.metadata["widgets"] = executed.metadata["widgets"]

def quarto_like(nb):
    "What Quarto does with the cell options: `echo: false` hides the code; the `#|` lines never show; link attributes apply."
    for c in nb.cells:
        if c.cell_type != "code": continue
        for o in c.get("outputs", []):                  # show_doc's "[source](url){target=...}": Pandoc syntax, not Markdown
            if "text/markdown" in o.get("data", {}):
                o["data"]["text/markdown"] = re.sub(r"(\]\([^)]*\))\{[^}]*\}", r"\1", o["data"]["text/markdown"])
        lines = c.source.splitlines()
        if any(re.match(r"^#\|\s*echo:\s*false", l) for l in lines): c.metadata.setdefault("tags", []).append("remove_input")
        c.source = "\n".join(l for l in lines if not l.startswith("#|")).strip("\n")

def widget_classes(nb) -> list[str]:
    "The pretrain_nb widget classes (e.g. `attention-widget`) present in the saved widget state."
    state = nb.metadata.get("widgets", {}).get(STATE_MIME, {}).get("state", {})
    ours = {"tokenizer-widget", "attention-widget", "next-token-widget", "live-loss-widget"}
    found = {cls for m in state.values() for cls in m.get("state", {}).get("_dom_classes", []) if cls in ours}
    return sorted(found)

def chapter_order() -> list[str]:
    "The notebooks in the order of the sidebar (nbs/sidebar.yml): the book's reading order."
    import yaml
    def walk(items):
        for it in items:
            if isinstance(it, str): yield Path(it).stem
            elif isinstance(it, dict): yield from walk(it.get("contents", []))
    return list(walk(yaml.safe_load((NBS / "sidebar.yml").read_text())["website"]["sidebar"]["contents"]))

def exported_names(nb_path: Path) -> list[str]:
    "The functions and classes a notebook exports (what its page must show the code of)."
    nb = json.loads(nb_path.read_text())
    names = []
    for c in nb["cells"]:
        src = "".join(c["source"])
        if c["cell_type"] == "code" and re.match(r"^#\|\s*exports?\s*$", src.splitlines()[0] if src else ""):
            names += re.findall(r"^(?:def|class) (\w+)", src, re.M)
    return names

NAV_CSS = """<style>
body { margin-left: 250px; }
nav.book-nav { position: fixed; top: 0; left: 0; width: 230px; height: 100vh; overflow-y: auto; padding: 16px 12px;
  background: #f7f7f9; border-right: 1px solid #e0e0e0; font: 14px/1.5 system-ui, sans-serif; box-sizing: border-box; }
nav.book-nav a { display: block; color: #2a5db0; text-decoration: none; padding: 2px 4px; border-radius: 3px; }
nav.book-nav a.current { background: #dde7f7; font-weight: 600; }
nav.book-nav .section { margin-top: 10px; color: #666; font-size: 12px; text-transform: uppercase; }
nav.page-nav { display: flex; justify-content: space-between; margin: 32px 16px; font: 15px system-ui, sans-serif; }
nav.page-nav a { color: #2a5db0; text-decoration: none; }
</style>"""

def navigate(html: str, name: str, order: list[str], titles: dict) -> str:
    "The page with the book's contents on the side, previous/next links at the bottom, and links between chapters kept inside the site."
    href = lambda stem: "index.html" if stem == "index" else f"{stem}.html"
    html = re.sub(r'href="(?:https?://pretrain-nb\.github\.io/pretrain_nb/)?([0-9A-Za-z_]+)\.(?:ipynb|html)(#[^"]*)?"',
                  lambda m: f'href="{href(m.group(1))}{m.group(2) or ""}"', html)
    items = []
    for stem in order:
        if stem == "90_measurements": items.append('<div class="section">Appendix</div>')
        current = ' class="current"' if stem == name else ""
        items.append(f'<a href="{href(stem)}"{current}>{titles.get(stem, stem)}</a>')
    side = '<nav class="book-nav"><div class="section">pretrain_nb</div>' + "".join(items) + "</nav>"
    i = order.index(name)
    prev = f'<a class="prev" href="{href(order[i - 1])}">← {titles.get(order[i - 1], order[i - 1])}</a>' if i > 0 else "<span></span>"
    nxt = f'<a class="next" href="{href(order[i + 1])}">{titles.get(order[i + 1], order[i + 1])} →</a>' if i + 1 < len(order) else "<span></span>"
    bottom = f'<nav class="page-nav">{prev}{nxt}</nav>'
    html = html.replace("</head>", NAV_CSS + "</head>", 1)
    return re.sub(r"(<body[^>]*>)", lambda m: m.group(1) + side, html, count=1).replace("</body>", bottom + "</body>", 1)

def build_site(site: Path | str = ROOT / "_html", execute: bool = True) -> list[dict]:
    import nbformat
    from nbconvert import HTMLExporter
    from nbconvert.preprocessors import TagRemovePreprocessor
    from nbdev.serve import proc_nbs
    site = Path(site); site.mkdir(parents=True, exist_ok=True)
    t0 = time.time()
    proc = Path(proc_nbs(path=NBS, n_workers=2, force=True))
    n_src, n_proc = len(list(NBS.glob("*.ipynb"))), len(list(proc.glob("*.ipynb")))
    if n_proc != n_src or not (proc / "_quarto.yml").exists():
        raise RuntimeError(f"nbdev's docs processing left {n_proc} of {n_src} notebooks (and _quarto.yml?) in {proc}")
    print(f"      nbdev docs processing: {time.time() - t0:.0f}s → {proc}")
    exporter = HTMLExporter(template_name="lab", **copy_static(site))
    exporter.register_preprocessor(TagRemovePreprocessor(remove_input_tags={"remove_input"}), enabled=True)
    flags, pages, order = skip_flags(), [], chapter_order()
    missing = sorted({p.stem for p in proc.glob("*.ipynb")} - set(order))
    if missing: raise RuntimeError(f"notebooks missing from nbs/sidebar.yml (the book's order): {missing}")
    titles = {}
    for stem in order:
        first = json.loads((NBS / f"{stem}.ipynb").read_text())["cells"][0]
        titles[stem] = re.sub(r"^#\s*", "", "".join(first["source"]).splitlines()[0]) if stem != "index" else "Home"
    for p in sorted(proc.glob("*.ipynb"), key=lambda q: order.index(q.stem)):
        nb = nbformat.read(p, as_version=4)
        title = front_matter_to_title(nb)
        if execute and has_widgets(nb):
            t1 = time.time(); transplant(execute_with_widget_state(NBS / p.name, flagged_ids(NBS / p.name, flags)), nb)
            print(f"      executed {p.name} with its widget state: {time.time() - t1:.0f}s")
        quarto_like(nb)
        html, _ = exporter.from_notebook_node(nb, resources={"metadata": {"name": title or p.stem}})
        name = "index.html" if p.stem == "index" else f"{p.stem}.html"
        (site / name).write_text(navigate(html, p.stem, order, titles))
        outs = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])]
        i = order.index(p.stem)
        pages.append({"html": name, "title": title or p.stem, "code_cells": sum(c.cell_type == "code" for c in nb.cells),
                      "images": sum(bool({"image/png", "image/svg+xml"} & set(o.get("data", {}))) for o in outs),
                      "widgets": widget_classes(nb), "exports": exported_names(NBS / p.name),
                      "prev": ("index.html" if order[i - 1] == "index" else f"{order[i - 1]}.html") if i > 0 else None,
                      "next": f"{order[i + 1]}.html" if i + 1 < len(order) else None})
    (site / "pages.json").write_text(json.dumps(pages, indent=1))
    print(f"      {len(pages)} pages in {site} ({time.time() - t0:.0f}s)")
    return pages

if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=str(ROOT / "_html"))
    ap.add_argument("--no-execute", action="store_true", help="keep the recorded outputs (widgets then show as text)")
    a = ap.parse_args()
    build_site(a.out, execute=not a.no_execute)
