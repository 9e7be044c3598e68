"""The book in a real browser: the chapters' widgets driven in JupyterLab, and the docs pages opened in Chromium.

    python tests/browser.py            # both parts
    python tests/browser.py lab        # JupyterLab: run the widget chapters, drive each widget, assert on the DOM
    python tests/browser.py docs       # build the HTML pages (tests/docs_html.py), open each one, assert on the DOM

Needs Chromium (Debian: `apt-get install chromium`, at /usr/bin/chromium, or set CHROMIUM=...) and
`pip install -e ".[dev,browser]"` (Playwright). Screenshots go to tests/artifacts/ (look at them).
Everything stays on 127.0.0.1; the server and the browser are shut down at the end, also on failure.
"""
from __future__ import annotations
import argparse, contextlib, http.server, json, os, secrets, shutil, socket, subprocess, sys
import tempfile, threading, time, traceback
from functools import partial
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
from docs_html import build_site, flagged, skip_flags      # the browser runs what the default tests run
NBS = ROOT / "nbs"
ARTIFACTS = ROOT / "tests" / "artifacts"
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--no-first-run", "--disable-sync"]
KERNEL_READY_S, CELL_RUN_S = 120, 240              # generous: a loaded 2-core machine

# --- a small runner: each check prints PASS/FAIL and the run ends with "N passed, N failed"
results: list[tuple[str, bool, str]] = []

def check(name: str, fn, *args):
    t0 = time.time()
    try: fn(*args); results.append((name, True, "")); print(f"PASS  {name} ({time.time() - t0:.0f}s)", flush=True)
    except Exception as e:
        results.append((name, False, str(e)))
        print(f"FAIL  {name} ({time.time() - t0:.0f}s): {type(e).__name__}: {e}", flush=True)
        traceback.print_exc(file=sys.stdout)

def copy_without_flagged(src: Path, dst: Path, flags: list[str]) -> Path:
    "A copy of a chapter without its slow/gpu/notest cells (a run leaves the copy unsaved, the chapter untouched)."
    nb = json.loads(src.read_text())
    nb["cells"] = [c for c in nb["cells"] if not (c["cell_type"] == "code" and flagged("".join(c["source"]), flags))]
    dst.write_text(json.dumps(nb, indent=1)); return dst

def free_port() -> int:
    with socket.socket() as s: s.bind(("127.0.0.1", 0)); return s.getsockname()[1]

def wait_until(cond, timeout: float, what: str, every: float = 0.25):
    t_end = time.time() + timeout
    while time.time() < t_end:
        v = cond()
        if v: return v
        time.sleep(every)
    raise TimeoutError(f"waited {timeout:.0f}s for {what}")

@contextlib.contextmanager
def chromium():
    from playwright.sync_api import sync_playwright
    if not Path(CHROMIUM).exists():
        raise FileNotFoundError(f"no Chromium at {CHROMIUM}: install it (Debian: apt-get install chromium) or set CHROMIUM")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try: yield browser
        finally: browser.close()

# --- JupyterLab
@contextlib.contextmanager
def jupyterlab(root: Path):
    "A JupyterLab server on 127.0.0.1 with a random port and token, its settings in a fresh folder; yields its base URL."
    port, token, home = free_port(), secrets.token_hex(16), Path(tempfile.mkdtemp(prefix="lab-home-"))
    env = {**os.environ, "PRETRAIN_NB_DEVICE": "cpu"}
    for var in ("JUPYTER_CONFIG_DIR", "JUPYTER_RUNTIME_DIR", "JUPYTER_DATA_DIR", "IPYTHONDIR",
                "JUPYTERLAB_SETTINGS_DIR", "JUPYTERLAB_WORKSPACES_DIR"):
        env[var] = str(home / var.lower()); Path(env[var]).mkdir(parents=True)
    settings = Path(env["JUPYTERLAB_SETTINGS_DIR"])
    (settings / "@jupyterlab/apputils-extension").mkdir(parents=True)
    (settings / "@jupyterlab/apputils-extension/notification.jupyterlab-settings").write_text(
        json.dumps({"fetchNews": "false", "checkForUpdates": False}))
    (settings / "@jupyterlab/notebook-extension").mkdir(parents=True)
    (settings / "@jupyterlab/notebook-extension/tracker.jupyterlab-settings").write_text(
        json.dumps({"windowingMode": "none"}))      # every cell in the DOM, not only those scrolled into view
    log = open(ARTIFACTS / "jupyterlab.log", "w")
    server = subprocess.Popen(
        [sys.executable, "-m", "jupyterlab", "--no-browser", "--allow-root", "--ServerApp.ip=127.0.0.1",
         f"--ServerApp.port={port}", "--ServerApp.port_retries=0", f"--IdentityProvider.token={token}",
         f"--ServerApp.root_dir={root}", "--LabApp.extension_manager=readonly", "--LabApp.news_url=None",
         "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate", "--LabApp.expose_app_in_browser=True"],
        stdout=log, stderr=subprocess.STDOUT, env=env, cwd=root)
    base = f"http://127.0.0.1:{port}"
    try:
        import urllib.request
        def up():
            if server.poll() is not None: raise RuntimeError(f"JupyterLab exited ({server.returncode}); see {log.name}")
            try: return urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=2).status == 200
            except OSError: return False
        wait_until(up, 60, "JupyterLab to answer")
        yield base, token
    finally:
        server.terminate()
        try: server.wait(15)
        except subprocess.TimeoutExpired: server.kill(); server.wait()
        log.close(); shutil.rmtree(home, ignore_errors=True)

_STATE_JS = """() => {
  const root = (window.jupyterapp && window.jupyterapp.shell.currentWidget || {}).node || document;   // this tab only
  const cells = [...root.querySelectorAll('.jp-Notebook .jp-CodeCell')];
  const prompts = cells.map(c => (c.querySelector('.jp-InputArea-prompt') || {}).textContent || '');
  const errors = [...root.querySelectorAll('.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]')]
      .map(e => e.textContent).filter(t => /Traceback|Error:/.test(t));
  const live = root.querySelector('.live-loss-widget');
  // counted in the notebook's model: a cell whose input is collapsed (an exercise's solution) shows no prompt
  const w = window.jupyterapp && window.jupyterapp.shell.currentWidget;
  const model = w && w.content && w.content.model;
  const code = model ? Array.from(model.cells).filter(c => c.type === 'code') : [];
  return {n: code.length || cells.length,
          done: code.length ? code.filter(c => c.executionCount != null).length
                            : prompts.filter(p => /\\[\\d+\\]/.test(p)).length,
          busy: prompts.some(p => p.includes('*')) || code.some(c => c.executionState === 'running'), errors,
          live_src: live ? (live.querySelector('img') || {}).src || '' : null,
          live_label: live ? live.textContent : null};
}"""

def run_chapter(page, base: str, token: str, name: str, on_poll=None) -> dict:
    "Open a notebook in JupyterLab, wait for its kernel, run all cells, and wait until every code cell has run."
    page.goto(f"{base}/lab/workspaces/{Path(name).stem}/tree/{name}?reset&token={token}")   # a fresh workspace: no old tabs
    page.wait_for_function("() => [...document.querySelectorAll('.jp-StatusBar-TextItem')].some(e => /\\| Idle/.test(e.textContent))",
                           timeout=KERNEL_READY_S * 1000)
    page.wait_for_function("() => window.jupyterapp && document.querySelector('.jp-Notebook .jp-CodeCell')", timeout=30_000)
    page.evaluate("() => { window.jupyterapp.commands.execute('notebook:run-all-cells'); }")   # not awaited: we watch it run
    t_end = time.time() + CELL_RUN_S
    while True:
        s = page.evaluate(_STATE_JS)
        if on_poll: on_poll(s)
        if s["errors"]: raise AssertionError(f"{name}: a cell failed in JupyterLab:\n" + s["errors"][0][-1500:])
        if s["n"] and s["done"] == s["n"] and not s["busy"]: return s
        if time.time() > t_end: raise TimeoutError(f"{name}: {s['done']}/{s['n']} cells ran in {CELL_RUN_S}s")
        time.sleep(0.1)

def shutdown_kernels(base: str, token: str):
    "Shut the kernels down, so the next chapter has the CPUs to itself."
    import urllib.request
    with contextlib.suppress(Exception):
        for k in json.load(urllib.request.urlopen(f"{base}/api/kernels?token={token}", timeout=10)):
            urllib.request.urlopen(urllib.request.Request(f"{base}/api/kernels/{k['id']}?token={token}", method="DELETE"), timeout=30)

def shoot(locator, name: str):
    locator.scroll_into_view_if_needed(); locator.screenshot(path=str(ARTIFACTS / f"{name}.png"))

def lab_tokenizer(page, base, token):
    run_chapter(page, base, token, "01_tokenizer.ipynb")
    w = page.locator(".tokenizer-widget").first
    spans = w.locator(".tok-span")
    before = spans.count()
    text = "for i in range(10):\n    print(i * i)  # squares"
    w.locator("textarea").fill(text)
    # byte-level BPE loses nothing: the spans, read back in order, spell the typed text (newlines shown as \\n)
    shown = text.replace("\n", "\\n")
    page.wait_for_function("([el, t]) => [...el.querySelectorAll('.tok-span')].map(s => s.textContent).join('') === t",
                           arg=[w.element_handle(), shown], timeout=30_000)
    n = spans.count()
    assert 0 < n < len(text), f"{n} token spans for {len(text)} characters: the tokenizer merged nothing"
    stats = w.inner_text()
    assert f"{len(text)} characters" in stats and f"{n} tokens" in stats, stats
    print(f"      tokenizer widget: {before} spans → {n} spans for {len(text)} typed characters")
    shoot(w, "tokenizer-widget")

def lab_attention(page, base, token):
    run_chapter(page, base, token, "04_attention.ipynb")
    w = page.locator(".attention-widget").first
    img = w.locator("img.attn-heatmap, .attn-heatmap img").first
    page.wait_for_function("el => el.src && el.naturalWidth > 0", arg=img.element_handle(), timeout=30_000)  # a drawn image
    layer, head = w.locator("select").nth(0), w.locator("select").nth(1)
    n_heads = head.locator("option").count()
    assert n_heads >= 2, f"{n_heads} heads to choose from"
    seen, current = {img.get_attribute("src")}, int(head.input_value())
    for h in [h for h in range(n_heads) if h != current]:
        old = img.get_attribute("src")
        head.select_option(index=h)
        page.wait_for_function("([el, s]) => el.src !== s", arg=[img.element_handle(), old], timeout=30_000)
        seen.add(img.get_attribute("src"))
    assert len(seen) == n_heads, f"{n_heads} heads drew {len(seen)} different heatmaps"
    old = img.get_attribute("src")
    w.locator("input[type=text]").first.fill("x = [i for i in range(3)]")
    page.wait_for_function("([el, s]) => el.src !== s", arg=[img.element_handle(), old], timeout=30_000)
    print(f"      attention widget: {n_heads} heads → {len(seen)} distinct heatmaps; new text → a new heatmap")
    shoot(w, "attention-widget")

def _table(w) -> list[tuple[str, float]]:
    rows = w.locator(".next-token-table tr").all()[1:]
    return [(r.locator("td.tok").inner_text(), float(r.locator("td.p").inner_text())) for r in rows]

def lab_next_token(page, base, token):
    run_chapter(page, base, token, "06_loss.ipynb")
    w = page.locator(".next-token-widget").first
    img = w.locator("img.next-token-bars, .next-token-bars img").first
    wait_until(lambda: _table(w), 30, "the probability table")
    before, src0 = _table(w), img.get_attribute("src")
    w.locator("input[type=text]").first.fill("import os\nprint(")     # (the chapter's own test left another prompt there)
    wait_until(lambda: _table(w) != before, 30, "the table to follow the new prompt")
    after = _table(w)
    assert [t for t, _ in after] != [t for t, _ in before], "a new prompt gave the same top tokens"
    assert img.get_attribute("src") != src0, "the bar chart did not change"
    # temperature: type into the slider's readout; a colder softmax gives the favourite more, a warmer one less,
    # and neither changes the order
    readout = w.locator(".temperature-slider .widget-readout")
    t_was = float(readout.inner_text())
    t_new = 0.1 if t_was > 0.5 else 2.0
    readout.click(); page.keyboard.press("Control+A"); page.keyboard.type(str(t_new)); page.keyboard.press("Enter")
    wait_until(lambda: _table(w) != after, 30, "the probabilities to follow the temperature")
    moved = _table(w)
    assert [t for t, _ in moved] == [t for t, _ in after], "temperature changed the ranking"
    assert (moved[0][1] > after[0][1]) == (t_new < t_was), f"top probability {after[0][1]} → {moved[0][1]} at temperature {t_was} → {t_new}"
    print(f"      next-token widget: top token {before[0][0]!r} → {after[0][0]!r} after a new prompt; "
          f"top p {after[0][1]:.4f} → {moved[0][1]:.4f} as the temperature went {t_was} → {t_new}")
    shoot(w, "next-token-widget")

def lab_live_loss(page, base, token):
    srcs, labels = set(), set()
    def poll(s):
        if os.environ.get("BROWSER_DEBUG"): print(round(time.time() % 1000, 2), s["done"], s["n"], (s["live_src"] or "")[-12:], s["live_label"])
        if s["live_src"]: srcs.add(s["live_src"])
        if s["live_label"]: labels.add(s["live_label"])
    run_chapter(page, base, token, "08_train.ipynb", on_poll=poll)
    w = page.locator(".live-loss-widget").first
    final = w.inner_text()
    assert "step 60/60" in final, f"the widget's label ended at {final!r}"
    assert len(srcs) >= 2, f"the loss plot was seen in {len(srcs)} states while the cell ran"
    print(f"      live loss widget: the plot seen in {len(srcs)} states and the label in {len(labels)} while training ran")
    shoot(w, "live-loss-widget")

LAB_CHECKS = {"tokenizer widget in JupyterLab": lab_tokenizer, "attention widget in JupyterLab": lab_attention,
              "next-token widget in JupyterLab": lab_next_token, "live loss widget in JupyterLab": lab_live_loss}
CHAPTERS = ["01_tokenizer", "04_attention", "06_loss", "08_train"]

def run_lab(only: str | None = None):
    root = Path(tempfile.mkdtemp(prefix="lab-root-"))
    try:
        flags = skip_flags()
        for name in CHAPTERS: copy_without_flagged(NBS / f"{name}.ipynb", root / f"{name}.ipynb", flags)
        with jupyterlab(root) as (base, token), chromium() as browser:
            for name, fn in LAB_CHECKS.items():
                if only and only not in name: continue
                page = browser.new_page(viewport={"width": 1400, "height": 1000})
                errors = []
                page.on("pageerror", lambda e: errors.append(str(e)))
                check(name, fn, page, base, token)
                with contextlib.suppress(Exception): page.screenshot(path=str(ARTIFACTS / f"lab-{fn.__name__}.png"))
                if errors: print("      JavaScript errors in JupyterLab:", *errors[:5], sep="\n        ")
                page.close(); shutdown_kernels(base, token)
    finally:
        shutil.rmtree(root, ignore_errors=True)

# --- the docs pages
@contextlib.contextmanager
def serve(folder: Path):
    "A static file server on 127.0.0.1 for the rendered pages."
    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args): pass
    handler = partial(Quiet, directory=str(folder))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try: yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally: httpd.shutdown(); httpd.server_close()

def docs_page(browser, base: str, page_info: dict):
    page = browser.new_page(viewport={"width": 1200, "height": 900})
    errors, failed = [], []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("requestfailed", lambda r: failed.append(r.url))
    try:
        page.goto(f"{base}/{page_info['html']}", wait_until="load")
        h1 = page.locator("h1").first.inner_text(timeout=10_000).strip()
        assert h1.startswith(page_info["title"][:40]), f"heading {h1!r}, expected {page_info['title']!r}"
        n_code = page.locator(".jp-CodeCell").count()
        assert n_code >= page_info["code_cells"] > 0, f"{n_code} code cells on the page, {page_info['code_cells']} in the notebook"
        n_img = page.locator(".jp-OutputArea-output img").count()
        assert n_img >= page_info["images"], f"{n_img} figures on the page, {page_info['images']} in the notebook"
        for cls in page_info["widgets"]:                          # rendered from the saved widget state
            page.wait_for_selector(f".{cls}", timeout=20_000)
            el = page.locator(f".{cls}").first
            assert el.locator("img, .tok-span, table").count() > 0, f"the {cls} has no content on the static page"
        text = page.locator("body").inner_text()
        shown = [n for n in page_info.get("exports", []) if f"def {n}(" not in text and f"class {n}" not in text]
        assert not shown, f"the page does not show the code of what the chapter exports: {shown[:5]}"
        if page_info["html"] != "00_core.html":                 # every page from the landing page and chapter 1 on has a picture
            assert n_img >= 1, "no figure on the page"
        for rel in ("prev", "next"):
            if page_info.get(rel):
                assert page.locator(f"nav.page-nav a.{rel}[href='{page_info[rel]}']").count() == 1, f"no {rel} link to {page_info[rel]}"
        hrefs = page.eval_on_selector_all("a[href]", "els => els.map(e => e.getAttribute('href'))")
        outside = [h for h in hrefs if "pretrain-nb.github.io" in h or h.split("#")[0].endswith(".ipynb")]
        assert not outside, f"links that leave the site for its own chapters: {outside[:3]}"
        assert page.locator("nav.book-nav a").count() >= 14, "the book's contents are not on the page"
        assert not errors, f"JavaScript errors: {errors[:3]}"
        assert not failed, f"requests that failed (an offline page must need nothing from the network): {failed[:3]}"
        page.screenshot(path=str(ARTIFACTS / f"docs-{Path(page_info['html']).stem}.png"), full_page=False)
        if page_info["widgets"]:
            shoot(page.locator(f".{page_info['widgets'][0]}").first, f"docs-{Path(page_info['html']).stem}-widget")
    finally: page.close()

def run_docs(site: Path, build: bool):
    if build:
        check("docs pages rendered to HTML (nbdev processing, widget state, nbconvert)", build_site, site)
    manifest = site / "pages.json"
    if not manifest.exists(): raise SystemExit(f"no {manifest}: build the pages first (python tests/docs_html.py)")
    pages = json.loads(manifest.read_text())
    with serve(site) as base, chromium() as browser:
        for info in pages:
            check(f"docs page {info['html']}: heading, the code it exports, figures, widgets, contents and previous/next links", docs_page, browser, base, info)

def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("part", nargs="?", choices=["lab", "docs", "all"], default="all")
    ap.add_argument("--site", default=str(ROOT / "_html"), help="where the docs pages are built")
    ap.add_argument("--only", help="run only the JupyterLab checks whose name contains this")
    ap.add_argument("--no-build", action="store_true", help="check the pages already in --site")
    a = ap.parse_args(argv)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    t0 = time.time()
    for part, run in (("lab", lambda: run_lab(a.only)), ("docs", lambda: run_docs(Path(a.site), not a.no_build))):
        if a.part not in (part, "all"): continue
        try: run()
        except Exception as e:                      # a missing browser, Playwright or server: one clear failure, not a crash
            results.append((f"{part} checks", False, str(e)))
            print(f"FAIL  {part} checks could not run: {type(e).__name__}: {e}", flush=True); traceback.print_exc(file=sys.stdout)
    n_ok = sum(ok for _, ok, _ in results)
    print(f"browser checks took {time.time() - t0:.0f}s; screenshots in {ARTIFACTS}")
    print(f"{n_ok} passed, {len(results) - n_ok} failed")
    return 0 if results and n_ok == len(results) else 1

if __name__ == "__main__": sys.exit(main())
