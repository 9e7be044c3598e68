#!/usr/bin/env python
"""Data benchmark: `prepare` throughput on the default corpus (1 vs 2 encoding threads) and loader time per batch.

    python bench/data.py

Prints a table; ratios are against the 1-thread run measured in the same process. Nothing is asserted on time.
"""
import os, tempfile, time
os.environ.setdefault("HF_HUB_OFFLINE", "1")
from pathlib import Path
from pretrain_nb.data import load_corpus, split_corpus, prepare, corpus_stats, TokenLoader
from pretrain_nb.tokenizer import BPETokenizer

def main(out="bench/results/data.md"):
    tmp = Path(tempfile.mkdtemp())
    corpus = load_corpus("stdlib")
    t0 = time.perf_counter()
    tok = BPETokenizer.train(split_corpus(corpus)["train"]["text"], vocab_size=4096)
    t_tok = time.perf_counter() - t0
    rows, base = [], None
    for n in (1, 2):
        t = time.perf_counter()
        prepare("stdlib", tok, tmp / f"p{n}", num_proc=n, force=True, progress=False)
        dt = time.perf_counter() - t
        st = corpus_stats(tmp / f"p{n}")
        mb = sum(s["bytes"] for s in st.values()) / 1e6
        toks = sum(s["tokens"] for s in st.values())
        base = base or dt
        rows.append((f"prepare stdlib, {n} thread{'s' if n > 1 else ''}", f"{dt:.1f} s", f"{mb / dt:.2f} MB/s", f"{toks / dt / 1e6:.2f} M tokens/s", f"{base / dt:.2f}×"))
    for mode in ("random", "blocks"):
        dl = TokenLoader(tmp / "p1", batch_size=16, block_size=256, mode=mode)
        for _ in range(20): dl.next_batch()
        t = time.perf_counter(); n = 500
        for _ in range(n): dl.next_batch()
        us = (time.perf_counter() - t) / n * 1e6
        rows.append((f"TokenLoader {mode}, B=16, T=256", f"{us:.0f} µs/batch", "", f"{16 * 256 / us:.1f} M tokens/s", ""))
    table = ["| measurement | time | MB/s | tokens/s | speed-up |", "|---|---|---|---|---|"]
    table += ["| " + " | ".join(r) + " |" for r in rows]
    print(f"(tokenizer training, V=4096, train split: {t_tok:.1f} s)")
    print("\n".join(table))
    Path(out).parent.mkdir(parents=True, exist_ok=True); Path(out).write_text("\n".join(table) + "\n")

if __name__ == "__main__":
    main()
