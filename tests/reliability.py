"""Reliability cases for `pretrain_nb train` and friends, run as a user runs them: as processes, with faults.

    python tests/reliability.py            # every case (about 5 minutes on two cores)
    python tests/reliability.py -k lock    # the cases whose name contains "lock"

Each case runs the command line (or a small script around it that injects a fault) in a sandbox that also holds a
user's own files, and checks three things: the exit status; that stderr is one line without a traceback (for every
failure that is the user's to fix); and that no file outside the run's own folder changed (hashed before and after).
Kill -9 is sent at random moments during training and during checkpoint writes; after each kill the latest checkpoint
must load (its checksum verified), and the run, resumed again and again, must end bit-for-bit where an uninterrupted
run ends. Prints `PASS  case` / `FAIL  case: why` per case and `N/N cases held` at the end; exits 1 if any failed.
"""
from __future__ import annotations
import argparse, errno, hashlib, inspect, json, os, random, shutil, signal, subprocess, sys, tempfile, textwrap, time, traceback
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PY = sys.executable
RNG = random.Random(os.environ.get("RELIABILITY_SEED"))           # kill times: different each run unless a seed is given

# ---------------------------------------------------------------- the sandbox
SANDBOX = Path(tempfile.mkdtemp(prefix="pretrain_nb-reliability-"))
USER = SANDBOX / "user"                                             # the user's own files: must never change
RUNS = SANDBOX / "runs"
ENV = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_HOME": str(SANDBOX / "hf"), "PYTHONUNBUFFERED": "1",
       "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
ENV.pop("PRETRAIN_NB_DEBUG", None)

def make_user_files():
    import json as _json
    os.chmod(SANDBOX, 0o755)                               # readable by the unprivileged user of the permission case
    USER.mkdir(parents=True)
    text = ("The quick brown fox jumps over the lazy dog. " * 30) + inspect.getsource(_json) + inspect.getsource(textwrap)
    (USER / "corpus.txt").write_text(text)
    (USER / "notes.md").write_text("# my notes\nnothing to see\n")
    (USER / "big-corpus.txt").write_text(text * 6)
    (SANDBOX / "hf").mkdir(); os.chmod(SANDBOX / "hf", 0o777)
    RUNS.mkdir()

def tree_hash(*folders: Path, exclude: tuple[Path, ...] = ()) -> dict[str, str]:
    "Every file under `folders` (minus `exclude`) with its SHA-256 and mode."
    out = {}
    for top in folders:
        if not top.exists(): continue
        for p in sorted(top.rglob("*")):
            if any(p == e or e in p.parents for e in exclude): continue
            if p.is_file() and not p.is_symlink():
                out[str(p)] = hashlib.sha256(p.read_bytes()).hexdigest()[:16] + f" {oct(p.stat().st_mode)}"
            elif p.is_dir(): out[str(p) + "/"] = "dir"
    return out

# ---------------------------------------------------------------- running things
SMALL = ["--tokenizer", "char", "--n-layer", "2", "--n-head", "2", "--d-model", "64", "--block-size", "32", "--batch-size", "8",
         "--eval-batches", "2", "--sample-tokens", "0", "--optimizer", "adamw8bit", "--warmup-steps", "10"]

def small_run(out: Path, steps: int = 40, ckpt: int = 10, data: Path | None = None, *extra) -> list[str]:
    return ["train", "--data", str(data or USER / "corpus.txt"), "--out", str(out), *SMALL, "--max-steps", str(steps),
            "--eval-interval", str(max(steps // 2, 1)), "--ckpt-interval", str(ckpt), "--quiet", *extra]

def cli(args, env=None, timeout=300, prefix=()) -> subprocess.CompletedProcess:
    return subprocess.run([*prefix, PY, "-m", "pretrain_nb.cli", *map(str, args)], capture_output=True, text=True,
                          env=env or ENV, timeout=timeout, cwd=SANDBOX)

def start(args, env=None) -> subprocess.Popen:
    return subprocess.Popen([PY, "-m", "pretrain_nb.cli", *map(str, args)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env=env or ENV, cwd=SANDBOX, start_new_session=True)

def with_fault(fault: str, args, timeout=300) -> subprocess.CompletedProcess:
    "The command line, in a process where `fault` (Python source) was run first: how the tests inject failures."
    code = textwrap.dedent(fault) + "\nimport sys\nfrom pretrain_nb.cli import main\nsys.exit(main(sys.argv[1:]))\n"
    return subprocess.run([PY, "-c", code, *map(str, args)], capture_output=True, text=True, env=ENV, timeout=timeout, cwd=SANDBOX)

def start_with_fault(fault: str, args) -> subprocess.Popen:
    code = textwrap.dedent(fault) + "\nimport sys\nfrom pretrain_nb.cli import main\nsys.exit(main(sys.argv[1:]))\n"
    return subprocess.Popen([PY, "-c", code, *map(str, args)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=ENV, cwd=SANDBOX, start_new_session=True)

def finish(p: subprocess.Popen, timeout=300) -> subprocess.CompletedProcess:
    out, err = p.communicate(timeout=timeout)
    return subprocess.CompletedProcess(p.args, p.returncode, out, err)

def wait_for(cond, timeout=120, every=0.02, proc=None) -> bool:
    t = time.time()
    while time.time() - t < timeout:
        if cond(): return True
        if proc is not None and proc.poll() is not None: return cond()
        time.sleep(every)
    return False

def metric_steps(run: Path) -> list[int]:
    p = run / "metrics.jsonl"
    if not p.exists(): return []
    out = []
    for line in p.read_text().splitlines():
        try: m = json.loads(line)
        except ValueError: continue
        if "loss" in m and "event" not in m: out.append(m["step"])
    return out

# ---------------------------------------------------------------- checks
class CaseFailed(AssertionError): pass

def need(ok, why: str):
    if not ok: raise CaseFailed(why)

def one_line(r: subprocess.CompletedProcess, code: int, contains: str | tuple = ()) -> str:
    "Exit status `code`, and stderr one line, no traceback, containing `contains`."
    err = r.stderr.strip()
    need(r.returncode == code, f"exit status {r.returncode}, expected {code}; stderr: {err[-600:]!r}")
    need("Traceback" not in err, f"a traceback on stderr: {err[-600:]!r}")
    need(len(err.splitlines()) == 1 and err.startswith("pretrain_nb: "), f"stderr is not one 'pretrain_nb:' line: {err[-600:]!r}")
    for c in (contains,) if isinstance(contains, str) else contains:
        need(c in err, f"stderr lacks {c!r}: {err!r}")
    return err

def ok_run(r: subprocess.CompletedProcess):
    need(r.returncode == 0, f"exit status {r.returncode}; stderr: {r.stderr.strip()[-800:]!r}")

def untouched(before: dict, *folders, exclude=()):
    after = tree_hash(*folders, exclude=exclude)
    changed = sorted(k for k in set(before) | set(after) if before.get(k) != after.get(k))
    need(not changed, f"files outside the run's own changed: {changed[:5]}")

def outside(run: Path) -> dict:
    "The hash of everything in the sandbox except this run's own folder (and the datasets cache)."
    return tree_hash(SANDBOX, exclude=(run, SANDBOX / "hf"))

def load_ok(run: Path) -> int:
    "The latest checkpoint loads and verifies; its step."
    sys.path.insert(0, str(ROOT))
    from pretrain_nb.trainer import load_checkpoint
    return load_checkpoint(run)["step"]

def final_state(run: Path, step: int) -> dict:
    import torch
    return torch.load(run / f"ckpt-{step:07d}.pt", weights_only=True)

def same_state(a, b) -> bool:
    import torch
    if isinstance(a, torch.Tensor): return isinstance(b, torch.Tensor) and a.dtype == b.dtype and torch.equal(a, b)
    if isinstance(a, dict): return isinstance(b, dict) and a.keys() == b.keys() and all(same_state(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)): return len(a) == len(b) and all(same_state(x, y) for x, y in zip(a, b))
    return a == b

def bit_exact(run: Path, ref: Path, step: int):
    a, b = final_state(run, step), final_state(ref, step)
    for k in ("model", "optimizer", "loader", "step"):
        need(same_state(a[k], b[k]), f"{k} at step {step} differs from the uninterrupted run's")

CASES: list[tuple[str, callable]] = []
def case(name):
    def deco(fn): CASES.append((name, fn)); return fn
    return deco

def fresh(name: str) -> Path:
    p = RUNS / name
    if p.exists(): shutil.rmtree(p)
    return p

# ================================================================ 1. the run folder is owned
@case("force refuses a folder of another tool's files (config.json, data/) and touches nothing")
def _():
    out = RUNS / "other-tool"; (out / "data").mkdir(parents=True)
    (out / "config.json").write_text('{"model": "some other tool", "epochs": 3}')
    (out / "data" / "corpus.bin").write_bytes(os.urandom(4096)); (out / "data" / "meta.json").write_text("{}")
    before = tree_hash(SANDBOX, exclude=(SANDBOX / "hf",))
    one_line(cli(small_run(out) + ["--force"]), 2, "is not empty and is not a pretrain_nb run folder")
    untouched(before, SANDBOX, exclude=(SANDBOX / "hf",))

@case("a second data file with no --out trains in a folder of its own (runs/tiny-<data>); the first run is untouched")
def _():
    (SANDBOX / "more").mkdir(exist_ok=True)
    (SANDBOX / "more" / "second.txt").write_text((USER / "corpus.txt").read_text()[::-1])
    def train(data): return ["train", "--data", str(data), *SMALL, "--max-steps", "10", "--eval-interval", "5", "--ckpt-interval", "5", "--quiet"]
    ok_run(cli(train(USER / "corpus.txt")))                      # no --out: the folder is named after the preset and the data
    first = RUNS / "tiny-corpus"
    need(load_ok(first) == 10, "the first run has no checkpoint at step 10 in runs/tiny-corpus")
    before = tree_hash(first)
    ok_run(cli(train(SANDBOX / "more" / "second.txt")))
    untouched(before, first)
    need(load_ok(RUNS / "tiny-second") == 10, "the second run has no checkpoint in runs/tiny-second")

@case("a first run never deletes the user's *.bin files or meta.json in --out/data")
def _():
    out = RUNS / "user-bins"; (out / "data").mkdir(parents=True)
    for n in ("train-00000.bin", "validation-00000.bin", "mine.bin"): (out / "data" / n).write_bytes(os.urandom(2048))
    (out / "data" / "meta.json").write_text('{"mine": true}')
    before = tree_hash(SANDBOX, exclude=(SANDBOX / "hf",))
    one_line(cli(small_run(out)), 2, "is not empty and is not a pretrain_nb run folder")
    untouched(before, SANDBOX, exclude=(SANDBOX / "hf",))

@case("--force on a real run removes only the run's files: the user's files inside it survive")
def _():
    out = fresh("force-keeps"); ok_run(cli(small_run(out, 20)))
    (out / "notes.txt").write_text("mine"); (out / "data" / "extra.bin").write_bytes(b"mine too")
    keep = {p: h for p, h in tree_hash(out).items() if p.endswith(("notes.txt", "extra.bin"))}
    before = outside(out)
    ok_run(cli(small_run(out, 10, 5) + ["--force"]))
    need({p: h for p, h in tree_hash(out).items() if p.endswith(("notes.txt", "extra.bin"))} == keep, "a user file in the run folder changed")
    need(not (out / "ckpt-0000020.pt").exists() and (out / "ckpt-0000010.pt").exists(), "the old run's checkpoint is still there")
    need(load_ok(out) == 10, "the new run's latest does not load")
    untouched(before, SANDBOX, exclude=(out, SANDBOX / "hf"))

@case("a user's file in the way of a checkpoint is never overwritten")
def _():
    out = fresh("in-the-way"); ok_run(cli(small_run(out, 20)))
    (out / "ckpt-0000030.pt").write_bytes(b"the user's file, named like a checkpoint")
    before = tree_hash(out / "ckpt-0000030.pt")
    one_line(cli(["train", "--out", out, "--resume", "--max-steps", "40", "--quiet"]), 2,
             "ckpt-0000030.pt is in the way: it was not written by pretrain_nb")
    untouched(before, out / "ckpt-0000030.pt")
    need(load_ok(out) == 20, "latest no longer loads")

@case("prepare refuses a non-empty folder that is not a shard folder")
def _():
    out = USER / "my-data"; out.mkdir(exist_ok=True); (out / "readme.txt").write_text("my data set")
    before = tree_hash(SANDBOX, exclude=(SANDBOX / "hf",))
    one_line(cli(["prepare", "--data", USER / "corpus.txt", "--out", out, "--tokenizer", "char"]), 2, "is not a pretrain_nb token-shard folder")
    untouched(before, SANDBOX, exclude=(SANDBOX / "hf",))

@case("--out names a file: refused in one line")
def _():
    before = tree_hash(USER)
    one_line(cli(small_run(USER / "notes.md")), 2, "is a file, not a folder")
    untouched(before, USER)

# ================================================================ 2. one writer at a time
def long_run(out: Path, steps=100_000) -> subprocess.Popen:
    p = start(small_run(out, steps, 200))
    need(wait_for(lambda: len(metric_steps(out)) >= 2, proc=p), f"the first run did not start: {p.stderr.read() if p.poll() is not None else ''}")
    return p

@case("lock: a --force run while another trains is refused (naming the holder's PID); the first run finishes intact")
def _():
    out = fresh("lock-force"); a = long_run(out, 1200)
    before = outside(out)
    one_line(cli(small_run(out, 10) + ["--force"]), 2, ("in use by another pretrain_nb process", f"pid {a.pid} "))
    ok_run(finish(a)); need(load_ok(out) == 1200, "the first run's latest checkpoint does not load")
    untouched(before, SANDBOX, exclude=(out, SANDBOX / "hf"))

@case("lock: two --resume at once: the second is refused, and every step is in metrics.jsonl once")
def _():
    out = fresh("lock-resume"); ok_run(cli(small_run(out, 20)))
    a = start(["train", "--out", out, "--resume", "--max-steps", "1200", "--quiet"])
    need(wait_for(lambda: max(metric_steps(out) or [0]) > 40, proc=a), "the resumed run did not start")
    one_line(cli(["train", "--out", out, "--resume", "--max-steps", "1200", "--quiet"]), 2, f"pid {a.pid} ")
    ok_run(finish(a))
    steps = metric_steps(out)
    need(len(steps) == len(set(steps)) and steps == sorted(steps), "metrics.jsonl holds some steps twice")

@case("lock: a plain second run into a folder in use is refused")
def _():
    out = fresh("lock-plain"); a = long_run(out, 1200)
    one_line(cli(small_run(out, 1200)), 2, "in use by another pretrain_nb process")
    ok_run(finish(a))

@case("lock: a stale lock left by kill -9 never blocks; the run resumes")
def _():
    out = fresh("stale-lock"); a = long_run(out, 100_000)
    need(wait_for(lambda: (out / "latest").exists(), proc=a), "no checkpoint before the kill")
    os.killpg(a.pid, signal.SIGKILL); a.wait()
    need((out / "run.lock").exists() and f"pid {a.pid}" in (out / "run.lock").read_text(), "the lock file does not name the dead holder")
    ok_run(cli(["train", "--out", out, "--resume", "--max-steps", str(load_ok(out) + 10), "--quiet"]))

# ================================================================ 3. a run that dies before its first step restarts
@case("a typo in --data, then the corrected command: starts without --force")
def _():
    out = fresh("typo")
    one_line(cli(small_run(out, 10, data=USER / "corpus.tx")), 2, "no such file or folder")
    ok_run(cli(small_run(out, 10)))

def interrupt_preparation(sig: int, code: int, name: str):
    "Signal a run while it prepares its data (loads the standard library, trains a BPE on it, tokenizes it)."
    for attempt, most in enumerate((2.5, 1.0, 0.3)):      # if preparation beat the signal, try again with a shorter wait
        out = fresh(name)
        args = ["train", "--data", "stdlib", "--out", out, "--n-layer", "1", "--n-head", "2", "--d-model", "32",
                "--block-size", "32", "--batch-size", "4", "--max-steps", "5", "--eval-batches", "1", "--sample-tokens", "0", "--quiet"]
        p = start(args)
        need(wait_for(lambda: (out / "run.json").exists(), proc=p), f"the run did not start: {p.stderr.read() if p.poll() is not None else ''}")
        time.sleep(RNG.uniform(0.0, most))
        if p.poll() is not None or (out / "config.json").exists(): p.kill(); p.wait(); continue
        os.killpg(p.pid, sig)
        r = finish(p, 60)
        if (out / "config.json").exists() and r.returncode != code: continue
        one_line(r, code, "stopped by " + signal.Signals(sig).name)
        need(not (out / "config.json").exists(), "the config was committed although training never started")
        need(not list(out.rglob("*.pretrain_nb-tmp-*")), "a temporary file was left behind")
        ok_run(cli(args, timeout=600))                     # the same command: no --force, no "already holds a run"
        return
    raise CaseFailed("data preparation always finished before the signal arrived")

@case("Ctrl-C (SIGINT) during data preparation: exit 130 in one line; the same command then starts")
def _(): interrupt_preparation(signal.SIGINT, 130, "sigint-prep")

@case("SIGTERM during data preparation: exit 143 in one line; the same command then starts")
def _(): interrupt_preparation(signal.SIGTERM, 143, "sigterm-prep")

@case("kill -9 after training started, before the first checkpoint: the same command starts it again")
def _():
    out = fresh("before-first-ckpt"); p = start(small_run(out, 100_000, 100_000))
    need(wait_for(lambda: (out / "config.json").exists() and len(metric_steps(out)) >= 1, proc=p), "training did not start")
    os.killpg(p.pid, signal.SIGKILL); p.wait()
    ok_run(cli(small_run(out, 20)))

# ================================================================ 4. the non-finite guard
GRADS_BLOW_UP = """
    import torch, pretrain_nb.trainer as T
    _step = T.Trainer.train_step
    def train_step(self):                   # a model that diverges at a high learning rate: from step 25 on, infinite gradients
        if self.cfg.lr > 5e-3 and self.step >= 24 and not getattr(self, "_hooked", False):
            self._hooked = True
            self.model.emb.wte.weight.register_hook(lambda g: torch.full_like(g, float("inf")))
        return _step(self)
    T.Trainer.train_step = train_step
"""

@case("finite loss, infinite gradients: skipped, never saved; exit 3 in one line naming the last good checkpoint")
def _():
    out = fresh("inf-grads")
    r = with_fault(GRADS_BLOW_UP, small_run(out, 60, 10, None, "--lr", "1e-2", "--max-bad-steps", "3"))
    err = one_line(r, 3, ("not finite for 3 steps in a row (steps 25–27)", "ckpt-0000020.pt (step 20)", "--resume --lr 0.001"))
    need(load_ok(out) == 20, "latest is not the checkpoint before the bad steps")
    import torch
    w = final_state(out, 20)["model"]
    need(all(torch.isfinite(v).all() for v in w.values() if v.is_floating_point()), "the saved weights are not finite")

@case("the advice of the non-finite guard works: --resume --lr lower continues to the end")
def _():
    out = RUNS / "inf-grads"
    need((out / "latest").exists(), "the previous case did not leave its run")
    r = with_fault(GRADS_BLOW_UP, ["train", "--out", out, "--resume", "--lr", "0.001", "--quiet"])
    ok_run(r); need(load_ok(out) == 60, "the resumed run did not reach its last step")
    events = [json.loads(l) for l in (out / "metrics.jsonl").read_text().splitlines() if '"event"' in l]
    need(events and events[-1]["changed"] == {"lr": [0.01, 0.001]}, f"the change of learning rate is not in the metrics: {events}")

@case("a NaN loss: skipped, exit 3 in one line, the last checkpoint still a good one")
def _():
    out = fresh("nan-loss")
    fault = """
        import torch, pretrain_nb.trainer as T
        _step = T.Trainer.train_step
        def train_step(self):
            if self.step == 33:
                with torch.no_grad(): self.model.emb.wte.weight.fill_(float("nan"))
            return _step(self)
        T.Trainer.train_step = train_step
    """
    one_line(with_fault(fault, small_run(out, 60, 10, None, "--max-bad-steps", "4")), 3, ("not finite for 4 steps in a row (steps 34–37)", "ckpt-0000030.pt"))
    need(load_ok(out) == 30, "latest moved past the last good step")

@case("a real bug (not a user's mistake) still shows its traceback")
def _():
    out = fresh("bug")
    r = with_fault("import pretrain_nb.trainer as T\nT.Trainer.evaluate = lambda self: 1 / 0\n", small_run(out, 10))
    need(r.returncode == 1 and "Traceback" in r.stderr and "ZeroDivisionError" in r.stderr, f"exit {r.returncode}: {r.stderr[-300:]!r}")

@case("--debug shows the traceback of a user error too")
def _():
    r = cli(["--debug", "train", "--lr", "inf", "--out", RUNS / "debug"])
    need(r.returncode != 0 and "Traceback" in r.stderr and "lr must be a finite number" in r.stderr, f"{r.returncode}: {r.stderr[-300:]!r}")

# ================================================================ 5. signals
@case("SIGTERM while training: saves at the step boundary, exit 143 in one line; resumed, ends bit-exact")
def _():
    ref = fresh("sig-ref"); ok_run(cli(small_run(ref, 400, 100)))
    out = fresh("sigterm"); p = start(small_run(out, 400, 100))
    need(wait_for(lambda: len(metric_steps(out)) >= 3, proc=p), "training did not start")
    time.sleep(RNG.uniform(0, 0.3)); os.killpg(p.pid, signal.SIGTERM)
    err = one_line(finish(p), 143, ("stopped by SIGTERM at step", "continue with --resume"))
    step = int(err.split("at step ")[1].split(":")[0])
    need(load_ok(out) == step, "the checkpoint is not at the step the message names")
    ok_run(cli(["train", "--out", out, "--resume", "--quiet"]))      # the run's own settings: nothing retyped
    bit_exact(out, ref, 400)

@case("SIGINT with --quiet while training: exit 130 (not 0) in one line; resumed, ends bit-exact")
def _():
    out = fresh("sigint"); p = start(small_run(out, 400, 100))
    need(wait_for(lambda: len(metric_steps(out)) >= 3, proc=p), "training did not start")
    time.sleep(RNG.uniform(0, 0.3)); os.killpg(p.pid, signal.SIGINT)
    one_line(finish(p), 130, "stopped by SIGINT at step")
    ok_run(cli(["train", "--out", out, "--resume", "--quiet"]))
    bit_exact(out, RUNS / "sig-ref", 400)

@case("a second signal during the checkpoint write exits at once; latest still loads, no temporary file left")
def _():
    out = fresh("second-signal")
    fault = """
        import sys, time, pretrain_nb.trainer as T
        _save = T.save_checkpoint
        def slow_save(folder, state, keep=2):
            if state["step"] > 10: print("saving", flush=True); time.sleep(30)
            return _save(folder, state, keep)
        T.save_checkpoint = slow_save
    """
    p = start_with_fault(fault, small_run(out, 100_000, 10))
    need(wait_for(lambda: (out / "latest").exists(), proc=p), "no first checkpoint")
    os.killpg(p.pid, signal.SIGTERM)
    need(p.stdout.readline().strip() == "saving", "the run did not start saving")
    t = time.time(); os.killpg(p.pid, signal.SIGINT)
    one_line(finish(p, 20), 130, "stopped by SIGINT")
    need(time.time() - t < 10, "the second signal did not stop the run at once")
    need(load_ok(out) == 10, "latest does not load after the second signal")
    need(not list(out.glob("*.pretrain_nb-tmp-*")) and not list(out.glob(".*pretrain_nb-tmp-*")), "a temporary file was left")

# ================================================================ 6. integrity
def finished_run(name, steps=30, ckpt=10) -> Path:
    out = fresh(name); ok_run(cli(small_run(out, steps, ckpt))); return out

def base_run() -> Path:
    "A finished 10-step run that the cases below read (made once)."
    out = RUNS / "base"
    if not (out / "latest").exists(): finished_run("base", 10, 10)
    return out

def flip_middle(p: Path, n=16):
    raw = bytearray(p.read_bytes())
    for i in range(len(raw) // 2, len(raw) // 2 + n): raw[i] ^= 0xFF
    p.write_bytes(raw)

@case("flipped bytes in the latest checkpoint: sample refuses in one line naming the previous good checkpoint")
def _():
    out = finished_run("flipped"); flip_middle(out / "ckpt-0000030.pt")
    one_line(cli(["sample", "--ckpt", out, "--max-new-tokens", "5"]), 2,
             ("ckpt-0000030.pt is damaged", f"the previous good checkpoint is {out / 'ckpt-0000020.pt'} (step 20)"))

@case("flipped bytes: --resume refuses, --resume with the previous good checkpoint continues")
def _():
    out = RUNS / "flipped"
    if not (out / "ckpt-0000030.pt").exists(): out = finished_run("flipped"); flip_middle(out / "ckpt-0000030.pt")
    one_line(cli(["train", "--out", out, "--resume", "--max-steps", "40", "--quiet"]), 2, "--resume ckpt-0000020.pt")
    ok_run(cli(["train", "--out", out, "--resume", "ckpt-0000020.pt", "--max-steps", "40", "--quiet"]))
    need(load_ok(out) == 40, "latest is not the resumed run's last checkpoint")
    from pretrain_nb.trainer import load_checkpoint
    load_checkpoint(out / "ckpt-0000030.pt")                       # the damaged step-30 file was replaced by the resumed run's

@case("a truncated checkpoint: one line, exit 2")
def _():
    out = finished_run("truncated"); p = out / "ckpt-0000030.pt"; p.write_bytes(p.read_bytes()[: p.stat().st_size // 3])
    one_line(cli(["sample", "--ckpt", out]), 2, ("is damaged or not a checkpoint", "ckpt-0000020.pt"))

@case("latest names a checkpoint that is gone: one line, exit 2")
def _():
    out = finished_run("missing-latest"); (out / "ckpt-0000030.pt").unlink()
    one_line(cli(["sample", "--ckpt", out]), 2, ("latest names 'ckpt-0000030.pt', which is not a checkpoint there", "ckpt-0000020.pt"))

@case("orphan temporary files from a killed write are removed at the next start")
def _():
    out = finished_run("orphans")
    for name in (".ckpt-0000040.pt.pretrain_nb-tmp-99999", ".latest.pretrain_nb-tmp-99999", "data/.train-00001.bin.pretrain_nb-tmp-99999"):
        (out / name).write_bytes(b"left by kill -9")
    ok_run(cli(["train", "--out", out, "--resume", "--max-steps", "40", "--quiet"]))
    need(not list(out.rglob("*.pretrain_nb-tmp-*")), f"orphans left: {list(out.rglob('*.pretrain_nb-tmp-*'))}")

@case("a checkpoint whose model_config does not fit its weights (51 TB asked): one line, nothing allocated")
def _():
    out = base_run()
    sys.path.insert(0, str(ROOT))
    from pretrain_nb.trainer import load_checkpoint, save_checkpoint
    s = load_checkpoint(out); s["model_config"] = {**s["model_config"], "vocab_size": 2**26, "d_model": 2**18, "n_head": 2}
    bad = RUNS / "huge-config-bad"; bad.mkdir(exist_ok=True); save_checkpoint(bad, s)
    t = time.time()
    one_line(cli(["sample", "--ckpt", bad]), 2, "its model configuration does not fit its weights")
    need(time.time() - t < 60, "took too long: was the model built?")

@case("a checkpoint with an unknown model_config field: one line, exit 2")
def _():
    from pretrain_nb.trainer import load_checkpoint, save_checkpoint
    s = load_checkpoint(base_run()); s["model_config"] = {**s["model_config"], "n_layers": 3}
    bad = RUNS / "typo-config"; bad.mkdir(exist_ok=True); save_checkpoint(bad, s)
    one_line(cli(["sample", "--ckpt", bad]), 2, "has unknown model field(s) ['n_layers']")

# ================================================================ 7. the character tokenizer
@case("a character seen only in the validation split does not stop a char-level run")
def _():
    (USER / "tail.txt").write_text("abc " * 600 + "Zebra!") if not (USER / "tail.txt").exists() else None
    out = fresh("char-tail"); ok_run(cli(small_run(out, 10, 10, USER / "tail.txt")))

# ================================================================ 8. a user's mistakes, one line each
def mistake(args, contains):
    before = tree_hash(USER)
    one_line(cli(args), 2, contains)
    untouched(before, USER)

@case("--lr inf")
def _(): mistake(small_run(RUNS / "m1") + ["--lr", "inf"], "lr must be a finite number, got inf")
@case("--batch-size 0")
def _(): mistake(small_run(RUNS / "m2") + ["--batch-size", "0"], "batch_size must be ≥ 1, got 0")
@case("--d-model not divisible by --n-head")
def _(): mistake(small_run(RUNS / "m3") + ["--d-model", "65"], "d_model=65 is not divisible by n_head=2")
@case("an unknown option, with a hint")
def _(): mistake(small_run(RUNS / "m4") + ["--max-step", "3"], "unknown option(s) --max-step (did you mean --max-steps?)")
@case("an unknown optimizer is refused before any data is prepared")
def _():
    mistake(small_run(RUNS / "m5") + ["--optimizer", "sgd8"], "unknown optimizer 'sgd8'")
    need(not (RUNS / "m5").exists(), "the run folder was created for a config that cannot work")
@case("a malformed YAML --config")
def _():
    (USER / "bad.yaml").write_text("lr: 1e-3\nmax_steps: [oops\n") if not (USER / "bad.yaml").exists() else None
    mistake(small_run(RUNS / "m6") + ["--config", USER / "bad.yaml"], "bad.yaml is not valid YAML (line 3")
@case("a --config file that is not there")
def _(): mistake(small_run(RUNS / "m7") + ["--config", USER / "nope.yaml"], "no config file at")
@case("--data hf:NAME without a network: one line in seconds, not a ConnectionError after retries")
def _():
    env = {k: v for k, v in ENV.items() if k not in ("HF_HUB_OFFLINE", "HF_DATASETS_OFFLINE")}
    t = time.time(); r = cli(["train", "--data", "hf:roneneldan/TinyStories", "--out", RUNS / "m8", "--quiet"], env=env)
    if r.returncode == 0: raise CaseFailed("the Hub was reachable: this case needs a machine without network")
    one_line(r, 2, ("roneneldan/TinyStories", "HF_HUB_OFFLINE=1")); need(time.time() - t < 30, f"took {time.time() - t:.0f}s")
@case("--data hf:NAME offline and not cached")
def _(): mistake(["train", "--data", "hf:roneneldan/TinyStories", "--out", RUNS / "m9", "--quiet"], "could not load the dataset 'roneneldan/TinyStories'")
@case("bench --steps 0")
def _(): mistake(["bench", "--steps", "0"], "argument --steps: invalid positive integer value: '0'")
@case("bench --preset tiny --data FILE (no `train`) measures FILE's run")
def _():
    r = cli(["bench", "--preset", "tiny", "--data", USER / "corpus.txt", "--steps", "1", "--no-compile", "--memory-preset", "none",
             *SMALL], timeout=300)
    ok_run(r); need(r.stdout.startswith("preset tiny") and "| Trainer step (" in r.stdout, r.stdout[-300:])
@case("sample --max-new-tokens -3")
def _(): mistake(["sample", "--ckpt", base_run(), "--max-new-tokens", "-3"], "invalid whole number ≥ 0 value: '-3'")
@case("sample --temperature -1")
def _(): mistake(["sample", "--ckpt", base_run(), "--temperature", "-1"], "--temperature must be ≥ 0")
@case("sample --device cuda on a machine without CUDA says so (not 'damaged')")
def _():
    import torch
    if torch.cuda.is_available(): mistake(["sample", "--ckpt", base_run(), "--device", "cuda:99"], "only")
    else: mistake(["sample", "--ckpt", base_run(), "--device", "cuda"], "sees no CUDA GPU here")
@case("sample from a folder that holds no run")
def _(): mistake(["sample", "--ckpt", USER], "is neither a run folder with a checkpoint")
@case("--resume into a folder that holds no run")
def _(): mistake(["train", "--out", fresh("no-run"), "--resume", "--quiet"], "holds no checkpoint to resume")
@case("a second run into a finished run's folder names the way out (--resume, --force, --out)")
def _(): mistake(small_run(base_run(), 10, 10), ("already holds a run", "--resume", "--force", "--out"))
@case("--resume may not change the model: refused with the list of differences")
def _(): mistake(["train", "--out", base_run(), "--resume", "--n-layer", "3", "--d-model", "96", "--quiet"],
                 "cannot change: n_layer=2 (now 3), d_model=64 (now 96)")
@case("generate() with an empty prompt: a one-line error, not an IndexError; sample_text('') starts a new document")
def _():
    import torch
    from pretrain_nb.api import load
    from pretrain_nb.generate import generate, sample_text
    from pretrain_nb.core import UserError
    loaded = load(base_run()); m, tok = loaded.model, loaded.tokenizer
    try: generate(m, torch.zeros(1, 0, dtype=torch.long), 5); raise CaseFailed("an empty prompt was accepted")
    except UserError as e: need("at least one token" in str(e) and "\n" not in str(e), str(e))
    need(isinstance(sample_text(m, tok, "", 5, seed=0), str), "sample_text('') failed")
@case("decode([65.7]) is refused, not read as 'A'")
def _():
    from pretrain_nb.tokenizer import CharTokenizer
    from pretrain_nb.core import UserError
    tok = CharTokenizer.train("ABC")
    try: tok.decode([65.7]); raise CaseFailed("a float id was accepted")
    except UserError as e: need("token ids must be integers, got 65.7" in str(e), str(e))
CANNOT_WRITE = """
    import errno, os
    _mkdir = os.mkdir
    def mkdir(path, *a, **k):                  # what the OS answers under a folder without write permission
        if str(path).startswith({locked!r}): raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(path))
        return _mkdir(path, *a, **k)
    os.mkdir = mkdir
"""

@case("--out under a folder the user may not write to: one line")
def _():
    locked = SANDBOX / "read-only"; locked.mkdir(exist_ok=True); os.chmod(locked, 0o555)
    args = small_run(locked / "run", 10)
    if os.geteuid() != 0: r = cli(args)                  # the OS refuses this user for real
    else:                                                # root writes anywhere: run as nobody, if nobody can run this checkout
        drop = ("setpriv", "--reuid=65534", "--regid=65534", "--clear-groups") if shutil.which("setpriv") else None
        runs = drop and subprocess.run([*drop, PY, "-c", "import pretrain_nb.cli"], capture_output=True, cwd="/").returncode == 0
        r = cli(args, prefix=drop) if runs else with_fault(CANNOT_WRITE.format(locked=str(locked)), args)
    one_line(r, 2, ("cannot write", "permission denied"))

# ================================================================ 9. disk full
@case("disk full during a checkpoint write: one line, the previous checkpoint kept, no temporary file filling the disk")
def _():
    out = fresh("disk-full"); ok_run(cli(small_run(out, 10, 10)))
    mount = None
    if os.geteuid() == 0 and shutil.which("mount"):
        mount = SANDBOX / "tiny-disk"; mount.mkdir(exist_ok=True)
        used = sum(p.stat().st_size for p in out.rglob("*") if p.is_file())
        if subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={used + 200_000}", "tmpfs", str(mount)]).returncode == 0:
            shutil.copytree(out, mount / "run"); out = mount / "run"
        else: mount = None
    try:
        args = ["train", "--out", out, "--resume", "--max-steps", "20", "--quiet"]
        if mount: r = cli(args)
        else:                                             # no file system of our own to fill: the OS's error, simulated
            r = with_fault("""
                import errno, torch
                _save = torch.save
                def save(obj, f, *a, **k):              # what torch.save does when the disk fills: a RuntimeError from an OSError
                    if "ckpt-0000020" in getattr(f, "name", ""):
                        f.write(b"x" * 100_000)
                        try: raise OSError(errno.ENOSPC, "No space left on device")
                        except OSError: raise RuntimeError("[enforce fail at inline_container.cc:672] . unexpected pos")
                    return _save(obj, f, *a, **k)
                torch.save = save
            """, args)
        one_line(r, 2, ("no space is left on the device while writing", "ckpt-0000020.pt"))
        need(load_ok(out) == 10, "the previous checkpoint does not load")
        need(not list(out.glob(".*pretrain_nb-tmp-*")), "the half-written temporary file was left on the full disk")
    finally:
        if mount: subprocess.run(["umount", str(mount)])

# ================================================================ 10. files from strangers
# Run folders, shard folders, saved models, exports and tokenizers get shared; each case hands pretrain_nb one made or
# edited by someone else. Nothing outside the folder may change, nothing huge may be allocated, and the answer is one
# line. Loads run under an address-space limit, so a memory bomb fails the case instead of the machine.
VICTIMS = SANDBOX / "victims"
AS_LIMIT = 6 * 2**30

def limited(n_bytes: int = AS_LIMIT):
    "A preexec_fn that caps the child's address space (torch itself reserves a few hundred MiB of it)."
    import resource
    return lambda: resource.setrlimit(resource.RLIMIT_AS, (n_bytes, n_bytes))

def cli_limited(args, n_bytes: int = AS_LIMIT, timeout=120, env=None) -> subprocess.CompletedProcess:
    return subprocess.run([PY, "-m", "pretrain_nb.cli", *map(str, args)], capture_output=True, text=True, env=env or ENV,
                          timeout=timeout, cwd=SANDBOX, preexec_fn=limited(n_bytes))

def victim(name="v.txt") -> Path:
    VICTIMS.mkdir(exist_ok=True); p = VICTIMS / name; p.write_text("a user's file outside every folder pretrain_nb owns")
    return p

def edit_json(p: Path, fn):
    doc = json.loads(p.read_text()); fn(doc); p.write_text(json.dumps(doc))

def copy_of(src: Path, name: str) -> Path:
    out = fresh(name); shutil.copytree(src, out); return out

def escapes(v: Path, folder: Path) -> list[str]:
    "Ways a listed entry could leave `folder` for file `v`: absolute, a leading .., a .. in the middle."
    up = os.path.relpath(v, folder)
    return [str(v), up, "data/" + os.path.relpath(v, folder / "data")]

@case("trust: a run marker that lists files outside its folder (absolute, ../, x/../..): --force refuses, they survive")
def _():
    v = victim()
    for i, bad in enumerate(escapes(v, RUNS / "marker-escape")):
        out = copy_of(base_run(), "marker-escape")
        edit_json(out / "run.json", lambda d: d["files"].append(bad))
        before = outside(out)
        one_line(cli(small_run(out, 10, 10) + ["--force"]), 2, "which is not a file inside")
        untouched(before, SANDBOX, exclude=(out, SANDBOX / "hf"))
        need(v.exists(), f"{bad!r}: the outside file was deleted")

@case("trust: a folder holding only a marker that lists an outside file: plain train refuses, the file survives")
def _():
    v = victim(); out = fresh("marker-only"); out.mkdir()
    (out / "run.json").write_text(json.dumps({"format": "pretrain_nb-run", "version": 1,
                                              "files": ["run.json", os.path.relpath(v, out)]}))
    before = outside(out)
    one_line(cli(small_run(out, 10, 10)), 2, "which is not a file inside")
    untouched(before, SANDBOX, exclude=(out, SANDBOX / "hf"))

@case("trust: a marker entry that reaches outside through a symbolic link: refused")
def _():
    v = victim(); out = copy_of(base_run(), "marker-link")
    (out / "elsewhere").symlink_to(VICTIMS)
    edit_json(out / "run.json", lambda d: d["files"].append("elsewhere/" + v.name))
    one_line(cli(small_run(out, 10, 10) + ["--force"]), 2, "is a symbolic link")
    need(v.exists(), "the outside file was deleted")

def prepared(name: str) -> Path:
    out = fresh(name)
    ok_run(cli(["prepare", "--data", USER / "corpus.txt", "--out", out, "--tokenizer", "char"]))
    return out

@case("trust: a shard folder's meta.json that lists an outside file: prepare refuses, the file survives")
def _():
    v = victim()
    for bad in escapes(v, RUNS / "meta-escape"):
        out = prepared("meta-escape"); edit_json(out / "meta.json", lambda d: d["files"].append(bad))
        edit_json(out / "meta.json", lambda d: d.update(key={}))                    # so that prepare rebuilds (and clears)
        before = outside(out)
        one_line(cli(["prepare", "--data", USER / "corpus.txt", "--out", out, "--tokenizer", "char"]), 2, "which is not a file inside")
        untouched(before, SANDBOX, exclude=(out, SANDBOX / "hf"))

@case("trust: a meta.json whose shard list names a file outside the folder: train --data refuses to read it")
def _():
    v = victim("v.bin"); v.write_bytes(os.urandom(4096))
    for bad in (str(v), os.path.relpath(v, RUNS / "shard-escape"), "sub/../../x.bin"):
        out = prepared("shard-escape")
        edit_json(out / "meta.json", lambda d: d["splits"]["train"]["shards"][0].__setitem__(0, bad))
        one_line(cli(["train", "--data", out, "--out", fresh("shard-escape-run"), *SMALL, "--max-steps", "2", "--quiet"]), 2,
                 "is not a shard file inside")

@case("trust: an export folder's marker that lists an outside file: export-hf refuses, the file survives")
def _():
    v = victim(); out = fresh("export-escape")
    ok_run(cli(["export-hf", "--ckpt", base_run(), "--out", out]))
    for bad in escapes(v, out):
        edit_json(out / "pretrain_nb-export.json", lambda d: d["files"].append(bad))
        before = outside(out)
        one_line(cli(["export-hf", "--ckpt", base_run(), "--out", out]), 2, "which is not a file inside")
        untouched(before, SANDBOX, exclude=(out, SANDBOX / "hf"))
        edit_json(out / "pretrain_nb-export.json", lambda d: d["files"].remove(bad))

@case("trust: a lock file that is a symbolic link to a user's file (run, prepare, export): refused, the file unchanged")
def _():
    v = victim(); want = v.read_text()
    for name, lock, args in (
            ("lock-link-run", "run.lock", lambda o: small_run(o, 10, 10)),
            ("lock-link-prepare", "prepare.lock", lambda o: ["prepare", "--data", USER / "corpus.txt", "--out", o, "--tokenizer", "char"]),
            ("lock-link-export", ".pretrain_nb-export.lock", lambda o: ["export-hf", "--ckpt", base_run(), "--out", o])):
        out = fresh(name); out.mkdir(); (out / lock).symlink_to(v)
        one_line(cli(args(out)), 2, "is a symbolic link")
        need(v.read_text() == want, f"{lock}: the file the link points at changed")

def write_run_plan(out: Path, **model):
    edit_json(out / "plan.json", lambda d: d["model"].update(model))
    edit_json(out / "config.json", lambda d: d.update(model))

@case("trust: a run's plan.json and config.json edited to a 200-layer, 16,384-wide model: --resume refuses in one line, nothing built")
def _():
    out = copy_of(base_run(), "huge-plan"); write_run_plan(out, n_layer=200, d_model=16384)
    t = time.time()
    one_line(cli_limited(["train", "--out", out, "--resume", "--max-steps", "20", "--quiet"]), 2, "plan.json")
    need(time.time() - t < 60, f"took {time.time() - t:.0f}s: was the model built?")

def saved_model(name: str) -> Path:
    "The base run saved as one .safetensors file (Pretrained.save)."
    p = RUNS / f"{name}.safetensors"
    r = subprocess.run([PY, "-c", "import sys, pretrain_nb; pretrain_nb.load(sys.argv[1]).save(sys.argv[2])", base_run(), p],
                       capture_output=True, text=True, env=ENV, cwd=SANDBOX)
    ok_run(r); return p

def edit_safetensors(p: Path, fn):
    "Rewrite a safetensors file's JSON header (its tensors' names, dtypes, shapes and the metadata) with `fn`."
    raw = p.read_bytes(); n = int.from_bytes(raw[:8], "little"); head = json.loads(raw[8:8 + n]); fn(head)
    new = json.dumps(head).encode(); new += b" " * (-len(new) % 8)
    p.write_bytes(len(new).to_bytes(8, "little") + new + raw[8 + n:])

@case("trust: a saved model whose metadata claims a 200-layer, 16,384-wide model: one line, nothing built")
def _():
    p = saved_model("huge-meta")
    def huge(h): c = json.loads(h["__metadata__"]["config"]); c.update(n_layer=200, d_model=16384); h["__metadata__"]["config"] = json.dumps(c)
    edit_safetensors(p, huge)
    t = time.time(); one_line(cli_limited(["sample", "--ckpt", p, "--max-new-tokens", "5"]), 2, "does not fit its weights")
    need(time.time() - t < 60, f"took {time.time() - t:.0f}s")

def exported(name: str) -> Path:
    out = fresh(name); ok_run(cli(["export-hf", "--ckpt", base_run(), "--out", out])); return out

@case("trust: an export whose config.json claims a width of 65,536: one line, nothing built")
def _():
    out = exported("export-huge")
    edit_json(out / "config.json", lambda d: d.update({("n_embd" if "n_embd" in d else "hidden_size"): 65536}))
    t = time.time(); one_line(cli_limited(["sample", "--ckpt", out, "--max-new-tokens", "5"]), 2, "config.json")
    need(time.time() - t < 60, f"took {time.time() - t:.0f}s")

@case("trust: a 761-byte tokenizer whose merges each double a token (2^40 bytes asked): one line")
def _():
    merges = [[97, 97]] + [[256 + i, 256 + i] for i in range(39)]
    doc = {"format": "pretrain_nb-tokenizer", "version": 1, "type": "bpe", "pattern_name": "gpt4", "pattern": "gpt4",
           "special_tokens": {"<|endoftext|>": 296}, "merges": merges}
    p = VICTIMS / "doubling.json"; VICTIMS.mkdir(exist_ok=True); p.write_text(json.dumps(doc))
    t = time.time()
    one_line(cli_limited(["prepare", "--data", USER / "corpus.txt", "--out", fresh("doubling"), "--tokenizer-file", p]), 2,
             "doubling.json")
    need(time.time() - t < 60, f"took {time.time() - t:.0f}s")

# -- malformed data files
def data_file(name: str, content: bytes | str) -> Path:
    d = SANDBOX / "data-files"; d.mkdir(exist_ok=True); p = d / name
    p.write_bytes(content if isinstance(content, bytes) else content.encode()); return p

def refuses_data(p: Path, contains, *extra):
    one_line(cli(["train", "--data", p, "--out", fresh("bad-data"), *SMALL, "--max-steps", "2", "--quiet", *extra]), 2,
             (p.name, *((contains,) if isinstance(contains, str) else contains)))

@case("trust: a malformed .jsonl: one line naming the file and the line")
def _(): refuses_data(data_file("broken.jsonl", '{"text": "fine"}\n{"text": "fine too"}\n{"text": oops\n'), "line 3")

@case("trust: .jsonl rows whose text is a number: one line")
def _(): refuses_data(data_file("numbers.jsonl", "".join(f'{{"text": {i}}}\n' for i in range(50))), "not text")

@case("trust: a corrupt .parquet: one line")
def _(): refuses_data(data_file("corrupt.parquet", b"PAR1" + os.urandom(3000) + b"PAR1"), "not a readable parquet file")

def empty_parquet() -> Path:
    import pyarrow as pa, pyarrow.parquet as pq
    p = SANDBOX / "data-files" / "empty.parquet"; p.parent.mkdir(exist_ok=True)
    pq.write_table(pa.table({"text": pa.array([], pa.string())}), p); return p

@case("trust: prepare --streaming of a corrupt and of an empty .parquet: one line each")
def _():
    bad = data_file("corrupt-stream.parquet", b"PAR1" + os.urandom(3000) + b"PAR1")
    one_line(cli(["prepare", "--data", bad, "--out", fresh("stream-corrupt"), "--streaming", "--tokenizer", "char"]), 2,
             ("corrupt-stream.parquet", "not a readable parquet file"))
    one_line(cli(["prepare", "--data", empty_parquet(), "--out", fresh("stream-empty"), "--streaming", "--tokenizer", "char"]), 2,
             ("empty.parquet", "no documents"))

@case("trust: a 1-byte corpus: one line that says how small it is")
def _():
    one_line(cli(["train", "--data", data_file("one-byte.txt", "x"), "--out", fresh("bad-data"), *SMALL, "--max-steps", "2",
                  "--quiet"]), 2, "is too small to train on: 1 byte of text")

# -- malformed models and exports
@case("trust: sample --seed 2**64: one line")
def _(): mistake(["sample", "--ckpt", base_run(), "--seed", str(2**64)], "--seed must be")

@case("trust: an export's config.json with a wrong vocab_size, a missing width or depth, or invalid JSON: one line each")
def _():
    for what, edit in (("a wrong vocab_size", lambda d: d.update(vocab_size=d["vocab_size"] + 7)),
                       ("no vocab_size", lambda d: d.pop("vocab_size")),
                       ("no width", lambda d: [d.pop(k, None) for k in ("n_embd", "hidden_size")]),
                       ("no depth", lambda d: [d.pop(k, None) for k in ("n_layer", "num_hidden_layers")]),
                       ("a string for a number", lambda d: d.update(n_head="two", num_attention_heads="two"))):
        out = exported("export-config"); edit_json(out / "config.json", edit)
        r = cli_limited(["sample", "--ckpt", out, "--max-new-tokens", "5"])
        try: one_line(r, 2, "config.json")
        except CaseFailed as e: raise CaseFailed(f"{what}: {e}")
    out = exported("export-config"); (out / "config.json").write_text('{"model_type": "gpt2", ')
    one_line(cli(["sample", "--ckpt", out]), 2, ("config.json", "not valid JSON"))

@case("trust: a saved model with a missing tensor, a wrongly shaped one, or NaN weights: one line each")
def _():
    import torch
    from safetensors.torch import load_file, save_file
    from safetensors import safe_open
    for what, edit in (("missing", lambda w: w.pop(sorted(w)[0])),
                       ("wrongly shaped", lambda w: w.update({sorted(w)[0]: torch.zeros(3, 5)})),
                       ("NaN", lambda w: w[sorted(w)[0]].fill_(float("nan")))):
        p = saved_model("edited-model")
        with safe_open(str(p), "pt") as f: meta = f.metadata()
        w = load_file(str(p)); edit(w); save_file(w, str(p), metadata=meta)
        try: one_line(cli(["sample", "--ckpt", p, "--max-new-tokens", "5"]), 2, p.name)
        except CaseFailed as e: raise CaseFailed(f"{what}: {e}")

# -- limits of the machine
@case("trust: ulimit -f too small for a checkpoint: one line (file too large), the previous checkpoint kept")
def _():
    import resource
    out = copy_of(base_run(), "efbig"); size = (out / "ckpt-0000010.pt").stat().st_size
    lim = lambda: resource.setrlimit(resource.RLIMIT_FSIZE, (size // 2, size // 2))
    r = subprocess.run([PY, "-m", "pretrain_nb.cli", "train", "--out", out, "--resume", "--max-steps", "20", "--quiet"],
                       capture_output=True, text=True, env=ENV, cwd=SANDBOX, preexec_fn=lim, timeout=300)
    one_line(r, 2, ("ulimit -f", "ckpt-0000020.pt"))
    need(load_ok(out) == 10, "the previous checkpoint no longer loads")

@case("trust: --batch-size 100000 beyond the machine's memory: one line that names the setting to lower")
def _():
    r = cli_limited(small_run(fresh("huge-batch"), 2, 2) + ["--batch-size", "100000", "--d-model", "256", "--block-size", "256"],
                    n_bytes=4 * 2**30, timeout=300)
    one_line(r, 2, ("out of memory", "--batch-size"))

@case("trust: --loggers wandb without wandb installed, and a typo in a logger's name: refused before any data is prepared")
def _():
    hide = SANDBOX / "no-wandb"; hide.mkdir(exist_ok=True); (hide / "wandb.py").write_text("raise ImportError('no wandb here')\n")
    env = {**ENV, "PYTHONPATH": str(hide) + os.pathsep + ENV["PYTHONPATH"]}
    out = fresh("no-wandb-run")
    one_line(cli(small_run(out, 5, 5) + ["--loggers", "wandb"], env=env), 2, ("wandb", "pip install wandb"))
    need(not (out / "data").exists(), "data was prepared before the logger was checked")
    one_line(cli(small_run(fresh("typo-logger"), 5, 5) + ["--loggers", "tensorbord"]), 2, "did you mean tensorboard")

@case("trust: a 700-byte YAML of nested aliases (a billion laughs): one line in seconds")
def _():
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x]"] + [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]" for i in range(1, 9)]
    p = data_file("laughs.yaml", "\n".join(lines) + "\nlr: *a8\n")
    need(p.stat().st_size < 1000, f"the file is {p.stat().st_size} bytes")
    t = time.time(); r = cli_limited(small_run(fresh("laughs"), 5, 5) + ["--config", p], timeout=120)
    one_line(r, 2, "laughs.yaml")
    need(time.time() - t < 30, f"took {time.time() - t:.0f}s")

@case("trust: --block-size 1 (a bigram model): trains, and samples")
def _():
    out = fresh("block1"); ok_run(cli(small_run(out, 5, 5) + ["--block-size", "1"]))
    r = cli(["sample", "--ckpt", out, "--max-new-tokens", "20", "--seed", "0", "--prompt", "The"]); ok_run(r)
    need(r.stdout.startswith("The") and len(r.stdout.strip()) > 3, f"no sample: {r.stdout!r}")

# -- the lock, removed while a run trains
@case("trust: run.lock removed while a run trains: the first run stops in one line; the second owns the folder; no step twice")
def _():
    out = fresh("lock-removed"); ok_run(cli(small_run(out, 20, 20)))
    a = start(["train", "--out", out, "--resume", "--max-steps", "100000", "--ckpt-interval", "200", "--log-interval", "1", "--quiet"])
    need(wait_for(lambda: max(metric_steps(out) or [0]) > 30, proc=a), "the resumed run did not start")
    (out / "run.lock").unlink()
    b = start(["train", "--out", out, "--resume", "--max-steps", "60", "--quiet"])
    one_line(finish(a, 120), 2, "was removed or replaced while this process held it")
    ok_run(finish(b, 300))
    need(load_ok(out) == 60, "the second run's checkpoint does not load")
    steps = metric_steps(out)
    need(len(steps) == len(set(steps)) and steps == sorted(steps), "metrics.jsonl holds a step twice, or out of order")

# -- an interrupted prepare
@case("trust: SIGTERM to prepare right after its tokenizer.json appears: the next prepare continues and finishes")
def _():
    out = fresh("prepare-term")
    args = ["prepare", "--data", USER / "big-corpus.txt", "--out", out, "--tokenizer", "char"]
    p = start(args)
    need(wait_for(lambda: (out / "tokenizer.json").exists(), proc=p, every=0.001), "prepare never wrote tokenizer.json")
    os.killpg(p.pid, signal.SIGTERM); r = finish(p, 60)
    last = r.stderr.strip().splitlines()[-1] if r.stderr.strip() else ""          # after prepare's progress bars
    if r.returncode != 0:
        need(r.returncode == 143 and "Traceback" not in r.stderr and last.startswith("pretrain_nb: ")
             and "stopped by SIGTERM" in last, f"exit {r.returncode}: {r.stderr[-400:]!r}")
    ok_run(cli(args)); ok_run(cli(small_run(fresh("prepare-term-run"), 5, 5, out)))

# -- minor
@case("trust: --out '~/x' is the home folder's x, as --data's ~ is")
def _():
    home = SANDBOX / "home"; home.mkdir(exist_ok=True)
    ok_run(cli(small_run(Path("~/tilde-run"), 5, 5), env={**ENV, "HOME": str(home)}))
    need((home / "tilde-run" / "latest").exists() and not (SANDBOX / "~").exists(), "the run is not in $HOME/tilde-run")

@case("trust: --data-config with a local file: refused, not ignored")
def _(): mistake(small_run(RUNS / "cfg-local", 5, 5) + ["--data-config", "sample-10BT"], "data_config chooses a configuration")

@case("trust: --time-budget 0.001: a note that the budget is too small for even one step")
def _():
    r = cli([a for a in small_run(fresh("tiny-budget"), 5, 5) if a != "--quiet"] + ["--time-budget", "0.001"])
    ok_run(r); need("time budget" in r.stderr + r.stdout, f"no note about the budget: {r.stderr[-300:]!r}")

def corpus_copy(name: str, text: str) -> Path:
    p = SANDBOX / "data-files" / name; p.parent.mkdir(exist_ok=True); p.write_text(text); return p

@case("trust: --resume after the corpus changed (even at the same length): one line; --allow-data-change continues")
def _():
    text = (USER / "corpus.txt").read_text(); data = corpus_copy("changing.txt", text)
    out = fresh("data-changed"); ok_run(cli(small_run(out, 20, 10, data)))
    data.write_text(text[::-1])                                           # the same characters and length, other text
    one_line(cli(["train", "--out", out, "--resume", "--max-steps", "30", "--quiet"]), 2, ("changed since", "--allow-data-change"))
    ok_run(cli(["train", "--out", out, "--resume", "--max-steps", "30", "--allow-data-change", "--quiet"]))
    need(load_ok(out) == 30, "the run did not continue")

@case("trust: the char-small preset exports (a model without biases, GPT-2 layout)")
def _():
    out = fresh("char-small"); ok_run(cli(["train", "--preset", "char-small", "--data", USER / "corpus.txt", "--out", out,
                                           "--max-steps", "2", "--eval-interval", "2", "--eval-batches", "1", "--sample-tokens", "0", "--quiet"]))
    ok_run(cli(["export-hf", "--ckpt", out, "--out", fresh("char-small-export")]))
    ok_run(cli(["sample", "--ckpt", RUNS / "char-small-export", "--max-new-tokens", "5", "--seed", "0"]))

@case("trust: a read-only HOME (datasets cache) is named as the problem, not --out")
def _():
    home = SANDBOX / "ro-home"; home.mkdir(exist_ok=True); os.chmod(home, 0o555)
    env = {k: v for k, v in ENV.items() if k != "HF_HOME"}; env["HOME"] = str(home)
    if os.geteuid() == 0:                                   # root writes anywhere: point the cache at a file instead
        (SANDBOX / "not-a-folder").write_text("x"); env["HF_HOME"] = str(SANDBOX / "not-a-folder")
    one_line(cli(small_run(fresh("ro-home-run"), 5, 5), env=env), 2, ("datasets", "HF_HOME"))

@case("trust: --resume --max-steps below the run's step: a note, not a silent exit")
def _():
    out = copy_of(base_run(), "past-max")
    r = cli(["train", "--out", out, "--resume", "--max-steps", "5"])
    ok_run(r); need("already at step 10" in r.stdout + r.stderr, f"no note: {(r.stdout + r.stderr)[-300:]!r}")

@case("trust: bench leaves no run folder behind in TMPDIR")
def _():
    tmp = SANDBOX / "bench-tmp"; tmp.mkdir(exist_ok=True)
    r = cli(["bench", "--preset", "tiny", "--data", USER / "corpus.txt", "--steps", "1", "--no-compile", "--memory-preset", "none", *SMALL],
            env={**ENV, "TMPDIR": str(tmp)}, timeout=300)
    ok_run(r)
    left = [p.name for p in tmp.iterdir() if not p.name.startswith("torchinductor")]      # PyTorch's own cache may stay
    need(not left, f"left in TMPDIR: {left}")

@case("trust: train --out EXPORT --resume: one line saying the folder is an export, not a run")
def _(): mistake(["train", "--out", exported("export-as-run"), "--resume", "--quiet"], "is an exported model, not a run folder")

# ================================================================ 11. kill -9, again and again
def kill_chain(name: str, steps: int, ckpt: int, kills: int, during_write: bool, extra=()) -> tuple[int, int]:
    "Run to `steps`, killing the process `kills` times; after each kill latest must load. Returns (kills, kills that left a half-written file)."
    ref = fresh(name + "-ref"); ok_run(cli(small_run(ref, steps, ckpt, None, *extra)))
    out = fresh(name); args = small_run(out, steps, ckpt, None, *extra)
    done = mid_write = attempts = 0
    while done < kills and attempts < kills * 3:
        attempts += 1
        p = start(args + (["--resume"] if (out / "latest").exists() else []))
        if during_write:
            tmp = lambda: any(".pretrain_nb-tmp-" in e.name and e.name.startswith(".ckpt-") for e in os.scandir(out)) if out.exists() else False
            seen = wait_for(tmp, timeout=120, every=0.0005, proc=p)
            if p.poll() is not None: break                                # it finished: no more writes to interrupt
            os.killpg(p.pid, signal.SIGKILL); p.wait()
            if not seen: continue
            mid_write += tmp()                                            # the kill landed inside the write
        else:
            base = max(metric_steps(out) or [0])
            if not wait_for(lambda: max(metric_steps(out) or [0]) > base, proc=p) or p.poll() is not None: break
            time.sleep(RNG.uniform(0, 0.4))
            if p.poll() is not None: break
            os.killpg(p.pid, signal.SIGKILL); p.wait()
        done += 1
        if (out / "latest").exists(): load_ok(out)                        # raises if latest does not load or verify
    ok_run(cli(args + ["--resume"] if (out / "latest").exists() else args))
    bit_exact(out, ref, steps)
    print(f"      {name}: {done} kills in {attempts} starts" + (f", {mid_write} inside a checkpoint write (a half-written "
          f"temporary file was left, then removed by the next start)" if during_write else ""), flush=True)
    return done, mid_write

def kill_cases(name, during_write, n=10):
    state = {}
    def run_chain():
        if "result" not in state:
            extra = ("--d-model", "256", "--n-layer", "4", "--n-head", "4") if during_write else ()
            state["result"] = kill_chain(name, 200 if during_write else 3000, 5 if during_write else 20, n, during_write, extra)
        return state["result"]
    for i in range(n):
        def one(i=i):
            done, mid = run_chain()
            need(done > i, f"only {done} kills happened")
            if during_write: need(mid > i, f"only {mid} of {done} kills landed inside a checkpoint write")
        case(f"kill -9 {'during a checkpoint write' if during_write else 'while training'} #{i + 1}: latest loads, the resumed run ends bit-exact")(one)

kill_cases("kill-train", during_write=False)
kill_cases("kill-write", during_write=True)

# ---------------------------------------------------------------- run
def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("-k", default="", help="run only the cases whose name contains this")
    a = ap.parse_args()
    make_user_files()
    chosen = [(n, f) for n, f in CASES if a.k.lower() in n.lower()]
    held, t0 = 0, time.time()
    print(f"{len(chosen)} cases in {SANDBOX}", flush=True)
    for name, fn in chosen:
        t = time.time()
        try: fn(); held += 1; print(f"PASS  {name} ({time.time() - t:.1f}s)", flush=True)
        except CaseFailed as e: print(f"FAIL  {name}: {e}", flush=True)
        except Exception as e: print(f"FAIL  {name}: {type(e).__name__}: {e}\n{traceback.format_exc()[-1500:]}", flush=True)
    print(f"\n{held}/{len(chosen)} cases held ({time.time() - t0:.0f}s)")
    for p in SANDBOX.rglob("*"):
        if p.is_dir(): os.chmod(p, 0o755)
    shutil.rmtree(SANDBOX, ignore_errors=True)
    return 0 if held == len(chosen) else 1

if __name__ == "__main__":
    sys.exit(main())
