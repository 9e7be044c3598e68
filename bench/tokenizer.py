#!/usr/bin/env python
"""Tokenizer benchmark: training time, encoding throughput and compression, printed as a table.

    python bench/tokenizer.py            # everything (the naive trainer alone takes a few minutes)
    python bench/tokenizer.py --quick    # skip the naive reference

Ratios are against baselines measured in the same run; nothing here is asserted on time.
"""
import argparse, os, sys, sysconfig, time
from pathlib import Path
import regex
from pretrain_nb.tokenizer import (BPETokenizer, SPLIT_PATTERNS, train_bpe, train_bpe_naive, count_words, bytes_per_token)

def stdlib_texts():
    "The default corpus, read directly: the standard library's .py files (no test suites) + pydoc topics."
    root = Path(sysconfig.get_paths()["stdlib"])
    skip = {"test", "tests", "idle_test", "site-packages", "__pycache__"}
    files = sorted(p for p in root.rglob("*.py") if not skip & set(p.relative_to(root).parts))
    texts = [p.read_text(encoding="utf-8", errors="replace") for p in files]
    from pydoc_data.topics import topics
    return texts + [topics[k] for k in sorted(topics)]

def first_megabyte(texts, n=1_000_000):
    out, size = [], 0
    for t in texts:
        b = t.encode("utf-8")
        if size + len(b) >= n:
            out.append(b[: n - size].decode("utf-8", errors="ignore")); break
        out.append(t); size += len(b)
    return out

def timed(f, *a, **k):
    t = time.perf_counter(); r = f(*a, **k); return r, time.perf_counter() - t

def hf_train(texts, vocab_size, pattern):
    from tokenizers import Tokenizer, Regex, models, pre_tokenizers, trainers
    tk = Tokenizer(models.BPE())
    tk.pre_tokenizer = pre_tokenizers.Sequence([pre_tokenizers.Split(Regex(pattern), behavior="isolated"),
                                                pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)])
    tr = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=["<|endoftext|>"], show_progress=False,
                             initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    tk.train_from_iterator(texts, trainer=tr)
    return tk

def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="skip the naive reference trainer")
    ap.add_argument("--out", default="bench/results/tokenizer.md")
    a = ap.parse_args()
    pat = SPLIT_PATTERNS["gpt4"]
    texts = stdlib_texts()
    mb1 = first_megabyte(texts)
    size_all = sum(len(t.encode()) for t in texts) / 1e6
    rows = []
    def row(*cells): rows.append(cells); print(" | ".join(str(c) for c in cells), flush=True)

    print(f"corpus: {len(texts)} documents, {size_all:.1f} MB; slice: {sum(len(t.encode()) for t in mb1)/1e6:.2f} MB")
    # --- training, 1 MB at V=512
    ours, t_ours = timed(BPETokenizer.train, mb1, 512)
    hf, t_hf = timed(hf_train, mb1, 512, pat)
    row("train 1 MB, V=512", "pretrain_nb (word counts + heap)", f"{t_ours:.2f} s", "1.00×")
    row("train 1 MB, V=512", "tokenizers BpeTrainer (Rust)", f"{t_hf:.2f} s", f"ours takes {t_ours / t_hf:.2f}× as long")
    if not a.quick:
        naive, t_naive = timed(train_bpe_naive, mb1, 512 - 257, pat)
        same = naive == ours.merges
        row("train 1 MB, V=512", f"naive reference (merges identical: {same})", f"{t_naive:.1f} s",
            f"ours is {t_naive / t_ours:.0f}× faster")
        if not same: sys.exit("the real trainer's merges differ from the naive reference")
    # --- training, whole corpus at V=8192
    big, t_big = timed(BPETokenizer.train, texts, 8192)
    hfb, t_hfb = timed(hf_train, texts, 8192, pat)
    row(f"train {size_all:.0f} MB, V=8192", "pretrain_nb", f"{t_big:.1f} s", "1.00×")
    row(f"train {size_all:.0f} MB, V=8192", "tokenizers BpeTrainer", f"{t_hfb:.1f} s", f"ours takes {t_big / t_hfb:.2f}× as long")
    # --- encoding throughput on the whole corpus with the V=8192 tokenizer
    mb = size_all
    fresh = BPETokenizer(big.merges, "gpt4")                     # cold word cache
    _, t_py = timed(lambda: [fresh.encode_ordinary(t) for t in texts])
    fast = big.fast
    _, t_tt1 = timed(lambda: [fast.encode_ordinary(t) for t in texts])
    _, t_tt2 = timed(lambda: fast.encode_ordinary_batch(texts, num_threads=2))
    hfe = __import__("pretrain_nb.tokenizer", fromlist=["to_hf_tokenizer"]).to_hf_tokenizer(big)
    _, t_hf1 = timed(lambda: [hfe.encode(t) for t in texts])
    _, t_hf2 = timed(lambda: hfe.encode_batch(texts))
    row("encode, V=8192", "Python encoder + word cache (1 thread)", f"{mb / t_py:.2f} MB/s", "1.00×")
    row("encode, V=8192", "compiled backend: tiktoken (1 thread)", f"{mb / t_tt1:.2f} MB/s", f"{t_py / t_tt1:.1f}×")
    row("encode, V=8192", "compiled backend: tiktoken (2 threads)", f"{mb / t_tt2:.2f} MB/s", f"{t_py / t_tt2:.1f}×")
    row("encode, V=8192", "tokenizers (1 call per text)", f"{mb / t_hf1:.2f} MB/s", f"{t_py / t_hf1:.1f}×")
    row("encode, V=8192", "tokenizers encode_batch (all cores)", f"{mb / t_hf2:.2f} MB/s", f"{t_py / t_hf2:.1f}×")
    # --- compression: the first merges of the V=8192 run are the V=512 and V=4096 tokenizers
    for V in (512, 4096, 8192):
        t = BPETokenizer(big.merges[: V - 257], "gpt4")
        row(f"compression, V={V}", "bytes per token, whole corpus", f"{bytes_per_token(t, texts):.2f}", "")
    table = ["| measurement | what | result | ratio |", "|---|---|---|---|"] + ["| " + " | ".join(map(str, r)) + " |" for r in rows]
    Path(a.out).parent.mkdir(parents=True, exist_ok=True)
    Path(a.out).write_text("\n".join(table) + "\n")
    print("\n" + "\n".join(table))

if __name__ == "__main__":
    main()
