"""Files from strangers, fuzzed: random mutations of every file format pretrain_nb reads, loaded under a memory limit.

    python tests/fuzz.py                 # every format (about 4 minutes on two cores)
    python tests/fuzz.py -k tokenizer    # the formats whose name contains "tokenizer"
    python tests/fuzz.py --examples 200  # more cases per format

A run folder, a shard folder, a saved model, an export and a tokenizer are made once; each case copies the one it needs,
lets `hypothesis` mutate one of its files — a JSON value replaced, removed or added anywhere in the document (huge and
negative numbers, paths that leave the folder, wrong types, deep nesting), raw bytes truncated or flipped, a tensor's
header changed — and hands it to the code that reads it, the way a user's command would (loading, resuming, preparing
or exporting into it). Every case must end in success or in a one-line `UserError`: any other exception is a traceback
and fails the run. A canary tree beside the folders is hashed before and after every case: a file outside the folder
that changed fails the run. The process runs under an address-space limit (`resource.setrlimit`), so an allocation a
file talked it into fails instead of the machine. Prints one line per format and a summary: files mutated, cases run,
tracebacks, outside files changed, peak memory. Exits 1 on any failure.
"""
from __future__ import annotations
import argparse, copy, hashlib, io, json, os, resource, shutil, subprocess, sys, tempfile, time, traceback, warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.update(HF_HUB_OFFLINE="1", TQDM_DISABLE="1", HF_DATASETS_DISABLE_PROGRESS_BARS="1")
EXPLORE = "--explore" in sys.argv   # new random cases each run (CI runs the same derandomized cases every time)
AS_LIMIT = 10 * 2**30            # torch maps a few GiB of address space by itself; a bomb asks for far more

from hypothesis import given, settings, strategies as st, HealthCheck, Phase
import torch
from pretrain_nb.core import UserError, OwnedFolder
from pretrain_nb.tokenizer import BPETokenizer, load_tokenizer
from pretrain_nb.data import prepare, TokenLoader, read_prepared
from pretrain_nb.trainer import make_config, Trainer, saved_config, load_checkpoint, find_checkpoint, state_checksum
from pretrain_nb.api import load, export_hf

SANDBOX = Path(tempfile.mkdtemp(prefix="pretrain_nb-fuzz-"))
CANARY = SANDBOX / "canary"                                         # must never change
WORK = SANDBOX / "work"
STATS = {"cases": 0, "files": set(), "tracebacks": [], "outside": [], "refused": 0}

# ---------------------------------------------------------------- what is fuzzed
def make_originals() -> dict[str, Path]:
    "One of everything, made by the package itself."
    CANARY.mkdir(parents=True)
    (CANARY / "victim.txt").write_text("a user's file beside the folders")
    (CANARY / "data").mkdir(); (CANARY / "data" / "train-00000.bin").write_bytes(b"not ours" * 100)
    orig = SANDBOX / "originals"; orig.mkdir()
    text = "".join(f"The {a} sat on the {b}. It was {c}.\n\n" for a in ("cat", "dog", "owl", "fox") for b in
                   ("mat", "log", "box") for c in ("warm", "happy", "tired"))
    (orig / "corpus.txt").write_text(text * 20)
    cfg = dict(data=str(orig / "corpus.txt"), out=str(orig / "run"), tokenizer="char", n_layer=1, n_head=2, d_model=32,
               block_size=16, batch_size=4, max_steps=4, eval_interval=4, eval_batches=1, ckpt_interval=2,
               sample_tokens=0, warmup_steps=1, arch="gpt2")
    t = Trainer(make_config("tiny", **cfg), progress=False).setup(); t.fit(); t.close()
    tok = BPETokenizer.train(text, 300)
    tok.save(orig / "tokenizer.json")
    prepare(orig / "corpus.txt", tok, orig / "shards", progress=False)
    p = load(orig / "run")
    p.save(orig / "model.safetensors")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")                                  # a char tokenizer has no tokenizer.json form
        export_hf(p, orig / "export")
    return {"run": orig / "run", "shards": orig / "shards", "model": orig / "model.safetensors",
            "export": orig / "export", "tokenizer": orig / "tokenizer.json", "corpus": orig / "corpus.txt"}

# ---------------------------------------------------------------- mutations
PATHS_OUT = ["../canary/victim.txt", "../../canary/victim.txt", str(SANDBOX / "canary" / "victim.txt"), "/etc/passwd",
             "data/../../canary/victim.txt", "..", "", ".", "\x00", "a\\..\\..\\victim.txt", "ckpt-0000002.pt",
             "data/", "run.lock", "../canary/data/train-00000.bin"]
NUMBERS = [0, -1, 1, 2, 3, 7, 2**15, 2**16, 2**31 - 1, 2**31, 2**32, 2**40, 2**63, 2**64, 10**30, -2**63, 16384, 65536]
scalars = st.one_of(st.sampled_from(NUMBERS), st.integers(-2**70, 2**70), st.floats(allow_nan=True),
                    st.booleans(), st.none(), st.text(max_size=12), st.sampled_from(PATHS_OUT))
values = st.recursive(scalars, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                       st.dictionaries(st.text(max_size=8), inner, max_size=3)),
                      max_leaves=12)

def json_paths(doc, at=()):
    "Every place in a JSON document or a checkpoint's dictionary (tensors and tuples are leaves), the root included."
    yield at
    if isinstance(doc, dict):
        for k, v in doc.items(): yield from json_paths(v, at + (k,))
    elif isinstance(doc, list):
        for i, v in enumerate(doc[:20]): yield from json_paths(v, at + (i,))      # long lists: their start

def mutate_json(data, doc):
    "One random edit: a value replaced, a key or item removed, a key added — anywhere in the document."
    doc = copy.deepcopy(doc)
    paths = list(json_paths(doc))
    where = data.draw(st.sampled_from(paths), label="where")
    op = data.draw(st.sampled_from(["replace", "remove", "add"]), label="op")
    if not where: return data.draw(values, label="new document") if op == "replace" else doc
    parent = doc
    for k in where[:-1]: parent = parent[k]
    key = where[-1]
    if op == "replace": parent[key] = data.draw(values, label="value")
    elif op == "remove": del parent[key]
    elif isinstance(parent, dict): parent[data.draw(st.text(max_size=10), label="new key")] = data.draw(values)
    else: parent.insert(key, data.draw(values, label="new item"))
    return doc

def mutate_bytes(data, raw: bytes) -> bytes:
    "Truncated, flipped, or with garbage inserted."
    op = data.draw(st.sampled_from(["truncate", "flip", "insert"]), label="byte op")
    i = data.draw(st.integers(0, max(0, len(raw) - 1)), label="at")
    if op == "truncate": return raw[:i]
    if op == "flip": return raw[:i] + bytes([raw[i] ^ 0xFF]) + raw[i + 1:] if raw else raw
    return raw[:i] + data.draw(st.binary(min_size=1, max_size=64), label="garbage") + raw[i:]

def mutate_file(data, p: Path):
    "A JSON file mutated as JSON most of the time, as bytes otherwise."
    STATS["files"].add(p.name)
    raw = p.read_bytes()
    try: doc = json.loads(raw)
    except ValueError: doc = None
    if doc is not None and data.draw(st.integers(0, 3), label="as json?") > 0:
        doc = mutate_json(data, doc)
        # an editor who knows the format drops the fingerprint that would give the edit away
        if isinstance(doc, dict) and "fingerprint" in doc and data.draw(st.booleans(), label="unsigned?"): del doc["fingerprint"]
        p.write_text(json.dumps(doc))
    else: p.write_bytes(mutate_bytes(data, raw))

def mutate_safetensors_header(data, p: Path):
    "The JSON header of a safetensors file (tensor shapes, dtypes and offsets; our metadata) mutated."
    STATS["files"].add(p.name + " (header)")
    raw = p.read_bytes(); n = int.from_bytes(raw[:8], "little"); head = json.loads(raw[8:8 + n])
    if data.draw(st.booleans(), label="metadata config?") and "config" in head.get("__metadata__", {}):
        c = json.loads(head["__metadata__"]["config"])
        head["__metadata__"]["config"] = json.dumps(mutate_json(data, c))
    else: head = mutate_json(data, head)
    new = json.dumps(head).encode(); new += b" " * (-len(new) % 8)
    p.write_bytes(len(new).to_bytes(8, "little") + new + raw[8 + n:])

# ---------------------------------------------------------------- one case
def canary_hash() -> dict:
    return {str(q): hashlib.sha256(q.read_bytes()).hexdigest() for q in sorted(CANARY.rglob("*")) if q.is_file()} | {
        "__tree__": str(sorted(str(q) for q in CANARY.rglob("*")))}

CANARY_BEFORE: dict = {}

def fresh_copy(src: Path, name: str) -> Path:
    dst = WORK / name
    if dst.exists() or dst.is_symlink():
        for q in dst.rglob("*"):
            if q.is_dir() and not q.is_symlink(): q.chmod(0o755)
        shutil.rmtree(dst, ignore_errors=True)
    if src.is_dir(): shutil.copytree(src, dst, symlinks=True)
    else: WORK.mkdir(exist_ok=True); shutil.copy2(src, dst)
    return dst

def run_case(fmt: str, action, *args):
    "The action must succeed or say no in one line; nothing outside the work folder may change."
    STATS["cases"] += 1
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            action(*args)
    except UserError as e:
        STATS["refused"] += 1
        msg = str(e)
        if os.environ.get("FUZZ_SHOW"): print(f"      refused ({fmt}): {msg[:160]}")
        if "\n" in msg or len(msg) > 2000:
            STATS["tracebacks"].append((fmt, f"a UserError of {len(msg)} characters / {msg.count(chr(10))} lines: {msg[:200]!r}"))
    except Exception as e:                                            # anything else is a traceback for the user
        STATS["tracebacks"].append((fmt, f"{type(e).__name__}: {str(e)[:300]}\n{traceback.format_exc()[-1500:]}"))
    after = canary_hash()
    if after != CANARY_BEFORE:
        changed = sorted(k for k in set(after) | set(CANARY_BEFORE) if after.get(k) != CANARY_BEFORE.get(k))
        STATS["outside"].append((fmt, changed))
        restore_canary()

def restore_canary():
    shutil.rmtree(CANARY, ignore_errors=True); CANARY.mkdir()
    (CANARY / "victim.txt").write_text("a user's file beside the folders")
    (CANARY / "data").mkdir(); (CANARY / "data" / "train-00000.bin").write_bytes(b"not ours" * 100)

# ---------------------------------------------------------------- what reads each format
def resume(run: Path):
    cfg = make_config(base=saved_config(run), out=str(run), max_steps=6)       # (the copy's own folder)
    t = Trainer(cfg, progress=False)
    try: t.setup(resume=True); t.fit()
    finally: t.close()

def clear_run(run: Path):
    f = OwnedFolder(run).open()
    try: f.clear(keep=("tokenizer.json", "data/"))
    finally: f.unlock()

def sample_from(path: Path):
    p = load(path)
    p.generate("The cat", max_new_tokens=4, seed=0)

def loader_batches(shards: Path):
    dl = TokenLoader(shards, "train", batch_size=2, block_size=8)
    for _ in range(3): dl.next_batch()

def prepare_into(shards: Path, tok: Path, corpus: Path):
    prepare(corpus, load_tokenizer(tok), shards, progress=False)

def export_into(src: Path, out: Path):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        export_hf(load(src), out)

def tokenizer_round_trip(p: Path):
    tok = load_tokenizer(p)
    ids = tok.encode("The cat sat on the mat.")
    tok.decode(ids)

tensors = st.builds(lambda shape: torch.zeros(shape), st.lists(st.integers(0, 40), max_size=3))

def checkpoint_dict(data, ckpt_dir: Path):
    "Any value of a checkpoint's dictionary mutated — and its checksum recomputed, as someone editing it on purpose would."
    state = load_checkpoint(ckpt_dir)
    STATS["files"].add("ckpt-*.pt (dictionary)")
    where = data.draw(st.sampled_from([p for p in json_paths(state) if p]), label="where")
    parent = state
    for k in where[:-1]: parent = parent[k]
    op = data.draw(st.sampled_from(["replace", "replace", "remove"]), label="op")
    if op == "remove": del parent[where[-1]]
    else: parent[where[-1]] = data.draw(st.one_of(values, tensors), label="value")
    state["checksum"] = state_checksum(state)
    torch.save(state, find_checkpoint(ckpt_dir))

def controls(orig: dict):
    "Each reader on an unmutated copy must succeed: a fuzz case that is refused has to be refused for its mutation."
    run, cp = lambda: fresh_copy(orig["run"], "run"), fresh_copy
    checks = [lambda: clear_run(run()), lambda: sample_from(run()), lambda: resume(run()),
              lambda: tokenizer_round_trip(cp(orig["tokenizer"], "tokenizer.json")),
              lambda: sample_from(cp(orig["model"], "model.safetensors")),
              lambda: sample_from(cp(orig["export"], "export")),
              lambda: export_into(orig["run"], cp(orig["export"], "export")),
              lambda: loader_batches(cp(orig["shards"], "shards")),
              lambda: prepare_into(cp(orig["shards"], "shards"), orig["tokenizer"], orig["corpus"])]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for check in checks: check()                              # raises: the harness is broken, not the package
    print(f"controls: every reader succeeds on unmutated files ({len(checks)} readers)", flush=True)

# ---------------------------------------------------------------- the formats
def formats(orig: dict, n: int):
    tests = []
    def fuzz(name, examples=n):
        def deco(body):
            @settings(max_examples=examples, deadline=None, database=None, derandomize=not EXPLORE,
                      suppress_health_check=list(HealthCheck), phases=[Phase.generate])
            @given(st.data())
            def test(data): body(data)
            test.fmt = name
            tests.append(test)
            return test
        return deco

    @fuzz("run marker (run.json) — then train --force clears the run")
    def _(data):
        run = fresh_copy(orig["run"], "run"); mutate_file(data, run / "run.json"); run_case("run.json", clear_run, run)

    @fuzz("latest — then load / sample")
    def _(data):
        run = fresh_copy(orig["run"], "run"); mutate_file(data, run / "latest"); run_case("latest", sample_from, run)

    @fuzz("config.json and plan.json of a run — then --resume")
    def _(data):
        run = fresh_copy(orig["run"], "run")
        mutate_file(data, run / data.draw(st.sampled_from(["config.json", "plan.json"]), label="file"))
        run_case("run config/plan", resume, run)

    @fuzz("checkpoint dictionary (any value; checksum recomputed) — then load or --resume")
    def _(data):
        run = fresh_copy(orig["run"], "run"); checkpoint_dict(data, run)
        run_case("checkpoint", data.draw(st.sampled_from([sample_from, resume]), label="reader"), run)

    @fuzz("tokenizer file — then encode and decode")
    def _(data):
        p = fresh_copy(orig["tokenizer"], "tokenizer.json"); mutate_file(data, p); run_case("tokenizer", tokenizer_round_trip, p)

    @fuzz("saved model (safetensors header and metadata) — then load")
    def _(data):
        p = fresh_copy(orig["model"], "model.safetensors"); mutate_safetensors_header(data, p)
        run_case("safetensors", sample_from, p)

    @fuzz("export config.json and marker — then load")
    def _(data):
        out = fresh_copy(orig["export"], "export")
        mutate_file(data, out / data.draw(st.sampled_from(["config.json", "pretrain_nb-export.json",
                                                           "pretrain_nb_tokenizer.json"]), label="file"))
        run_case("export", sample_from, out)

    @fuzz("export marker — then export-hf into the folder again")
    def _(data):
        out = fresh_copy(orig["export"], "export"); mutate_file(data, out / "pretrain_nb-export.json")
        run_case("export marker", export_into, orig["run"], out)

    @fuzz("shard metadata (meta.json, shard headers) — then batches")
    def _(data):
        d = fresh_copy(orig["shards"], "shards")
        if data.draw(st.integers(0, 3), label="meta?") > 0: mutate_file(data, d / "meta.json")
        else:
            STATS["files"].add("train-*.bin (header)")
            shard = d / read_prepared(orig["shards"])["splits"]["train"]["shards"][0][0]
            raw = shard.read_bytes(); shard.write_bytes(mutate_bytes(data, raw[:4096]) + raw[4096:])
        run_case("shards", loader_batches, d)

    @fuzz("shard folder's meta.json — then prepare into it")
    def _(data):
        d = fresh_copy(orig["shards"], "shards"); mutate_file(data, d / "meta.json")
        run_case("shards marker", prepare_into, d, orig["tokenizer"], orig["corpus"])

    return tests

# ---------------------------------------------------------------- run
def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("-k", default="", help="only the formats whose name contains this")
    ap.add_argument("--examples", type=int, default=40, help="cases per format (default: 40)")
    ap.add_argument("--explore", action="store_true", help="random cases, different each run (default: the same cases)")
    a = ap.parse_args()
    t0 = time.time()
    orig = make_originals()
    resource.setrlimit(resource.RLIMIT_AS, (AS_LIMIT, AS_LIMIT))     # from here on, a bomb fails instead of the machine
    global CANARY_BEFORE
    CANARY_BEFORE = canary_hash()
    controls(orig)
    failed = 0
    for test in formats(orig, a.examples):
        if a.k.lower() not in test.fmt.lower(): continue
        c0, r0, tb0, out0, t = (STATS["cases"], STATS["refused"], len(STATS["tracebacks"]), len(STATS["outside"]),
                                time.time())
        test()
        bad = len(STATS["tracebacks"]) - tb0 + len(STATS["outside"]) - out0
        failed += bool(bad)
        print(f"{'FAIL' if bad else 'PASS'}  fuzz: {test.fmt}: {STATS['cases'] - c0} cases "
              f"({STATS['refused'] - r0} refused in one line, the rest read), "
              f"{len(STATS['tracebacks']) - tb0} tracebacks, {len(STATS['outside']) - out0} outside changes "
              f"({time.time() - t:.0f}s)", flush=True)
    for fmt, tb in STATS["tracebacks"][:8]: print(f"\n--- traceback ({fmt}):\n{tb}")
    for fmt, changed in STATS["outside"][:8]: print(f"\n--- outside files changed ({fmt}): {changed[:5]}")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    print(f"\nfiles mutated: {len(STATS['files'])} ({', '.join(sorted(STATS['files']))}); cases: {STATS['cases']}; "
          f"refused in one line: {STATS['refused']}; tracebacks: {len(STATS['tracebacks'])}; "
          f"outside files changed: {len(STATS['outside'])}; "
          f"peak memory: {peak / 2**20:.0f} MiB (limit {AS_LIMIT / 2**30:.0f} GiB of address space); "
          f"{time.time() - t0:.0f}s")
    shutil.rmtree(SANDBOX, ignore_errors=True)
    return 1 if failed else 0

if __name__ == "__main__":
    sys.exit(main())
