#!/usr/bin/env python
"""Streaming preparation of a large local corpus laid out like FineWeb (data/CC-MAIN-*/000_0000N.parquet, a `text` column):
peak memory, throughput, reuse on a second run, and a short training run on the result (bits per byte present).

    python bench/stream.py [--mb 500] [--out bench/results/stream.md]

The corpus is generated from the standard library's documents. Every command runs in its own process, as a user runs it:
`pretrain_nb prepare --streaming` (tokenizer trained on a bounded sample, then one pass), the same command again (reused),
then `pretrain_nb train --data SHARDS`. Peak RSS is the child process's high-water mark. Nothing is asserted on time.
"""
import argparse, json, os, re, resource, subprocess, sys, tempfile, time
from pathlib import Path

def make_corpus(root: Path, mb: int) -> tuple[int, int]:
    "Write about `mb` MB of text as FineWeb-style parquet files of ~64 MB; returns (documents, bytes)."
    import pyarrow as pa, pyarrow.parquet as pq
    from pretrain_nb.data import stdlib_corpus
    base = [t for t in stdlib_corpus()["text"] if 200 < len(t) < 200_000]
    n_docs = n_bytes = part = 0
    target = mb * 2**20
    while n_bytes < target:
        rows, size = [], 0
        while size < 64 * 2**20 and n_bytes + size < target:
            t = base[(n_docs + len(rows)) % len(base)]
            t = f"# copy {n_docs + len(rows)}\n" + t                         # no two documents are the same
            rows.append(t); size += len(t.encode())
        dump = root / "data" / f"CC-MAIN-2024-{10 + part // 4:02d}"
        dump.mkdir(parents=True, exist_ok=True)
        pq.write_table(pa.table({"text": rows, "id": [f"<urn:{n_docs + i}>" for i in range(len(rows))], "score": [3.1] * len(rows)}),
                       dump / f"000_{part % 4:05d}.parquet", row_group_size=2048)
        n_docs += len(rows); n_bytes += size; part += 1
    return n_docs, n_bytes

def run(cmd) -> tuple[float, float, str]:
    "Wall seconds, peak RSS (GiB) and output of a command in a fresh process."
    t = time.time()
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env={**os.environ, "HF_HUB_OFFLINE": "1"})
    out, _ = p.communicate()
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 2**20      # KiB → GiB; the largest child so far
    if p.returncode: sys.exit(f"failed ({p.returncode}): {' '.join(map(str, cmd))}\n{out[-3000:]}")
    return time.time() - t, peak, out

def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--mb", type=int, default=500); ap.add_argument("--out", default="bench/results/stream.md")
    ap.add_argument("--sample", type=int, default=20_000_000, help="characters the tokenizer is trained on")
    a = ap.parse_args()
    root = Path(tempfile.mkdtemp(prefix="pretrain_nb-stream-"))
    t = time.time(); n_docs, n_bytes = make_corpus(root / "corpus", a.mb)
    print(f"generated {n_docs:,} documents, {n_bytes / 2**20:.0f} MB of parquet text in {time.time() - t:.0f}s", flush=True)
    cli = [sys.executable, "-m", "pretrain_nb.cli"]
    prep = [*cli, "prepare", "--data", str(root / "corpus"), "--streaming", "--out", str(root / "shards"),
            "--tokenizer-sample", str(a.sample), "--vocab-size", "4096"]
    dt1, peak1, out1 = run(prep)
    m = re.search(r"of text in ([\d.]+)s \(([\d.]+) MB/s\)", out1)
    tok_s, mbps = (float(m.group(1)), float(m.group(2))) if m else (float("nan"), float("nan"))
    dt2, _, out2 = run(prep)
    reused = "reusing the token shards" in out2
    meta = json.loads((root / "shards" / "meta.json").read_text())
    sp = meta["splits"]
    train = [*cli, "train", "--data", str(root / "shards"), "--out", str(root / "run"), "--max-steps", "20", "--eval-interval", "20",
             "--eval-batches", "2", "--sample-tokens", "0", "--quiet"]
    dt3, _, _ = run(train)
    evals = [json.loads(l) for l in (root / "run" / "metrics.jsonl").read_text().splitlines() if '"val_bpb"' in l]
    cores = os.cpu_count() or 1
    lines = [f"Streaming preparation of {n_bytes / 2**20:.0f} MB of FineWeb-style parquet ({n_docs:,} documents) on {cores} cores",
             "", "| measurement | value |", "|---|---|",
             f"| `pretrain_nb prepare --streaming`, whole command (tokenizer on {a.sample / 1e6:.0f}M characters, then one pass) | {dt1:.1f} s |",
             f"| the tokenizing pass | {tok_s:.1f} s, {mbps:.1f} MB/s, **{mbps / cores:.1f} MB/s per core** |",
             f"| peak RSS of the prepare process | **{peak1:.2f} GiB** |",
             f"| tokens written (train / validation) | {sp['train']['tokens']:,} / {sp['validation']['tokens']:,} in {len(sp['train']['shards'])} + {len(sp['validation']['shards'])} shards |",
             f"| the same command again | {dt2:.1f} s, {'shards reused, nothing tokenized' if reused else 'NOT reused'} |",
             f"| `pretrain_nb train --data SHARDS`, 20 steps | {dt3:.1f} s, validation {evals[-1]['val_bpb']:.3f} bits/byte |" if evals else "| train | no evaluation |"]
    text = "\n".join(lines)
    print("\n" + text)
    Path(a.out).parent.mkdir(parents=True, exist_ok=True); Path(a.out).write_text(text + "\n")
    import shutil; shutil.rmtree(root, ignore_errors=True)
    if not (reused and evals and peak1 < 2.0): sys.exit(1)

if __name__ == "__main__":
    main()
