"""How many CPU threads should PyTorch use? Sampling (one sequence, KV cache) and a training step, 1 thread vs all cores,
on an idle machine and with one busy process beside it. Prints a table; the rule in `pretrain_nb.core.auto_threads` is read
from it.   python bench/threads.py [--tokens 50] [--repeats 3]"""
import argparse, multiprocessing as mp, os, time
import torch
from pretrain_nb.core import auto_threads
from pretrain_nb.model import GPT, GPTConfig
from pretrain_nb.generate import generate

SIZES = {"tiny (train preset)": dict(vocab_size=4096, block_size=128, n_layer=4, n_head=4, d_model=192),
         "small": dict(vocab_size=4096, block_size=256, n_layer=6, n_head=6, d_model=384),
         "gpt2-124m": dict(vocab_size=50304, block_size=1024, n_layer=12, n_head=12, d_model=768)}

def _spin(stop):
    x = 0
    while not stop.is_set(): x += 1

def time_sampling(model, n_tokens, threads, repeats):
    torch.set_num_threads(threads)
    p = torch.zeros(1, 1, dtype=torch.long)
    generate(model, p, 5, temperature=0)                       # warm-up
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter(); generate(model, p, n_tokens, temperature=0); best = min(best, time.perf_counter() - t0)
    return n_tokens / best

def time_training(model, threads, repeats, batch=8):
    torch.set_num_threads(threads)
    T = model.config.block_size
    x = torch.randint(0, model.config.vocab_size, (batch, T))
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4)
    def step():
        _, loss = model(x, x); loss.backward(); opt.step(); opt.zero_grad(set_to_none=True)
    step()
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter(); step(); best = min(best, time.perf_counter() - t0)
    return batch * T / best

def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--tokens", type=int, default=50); ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--sizes", default=",".join(SIZES))
    a = ap.parse_args()
    cores = os.cpu_count()
    print(f"{cores} cores; torch's default: {torch.get_num_threads()} threads\n")
    print("| model | params | work | machine | 1 thread (tok/s) | " + f"{cores} threads (tok/s) | {cores} vs 1 | auto_threads picks |")
    print("|---|---|---|---|---|---|---|---|")
    for name in a.sizes.split(","):
        torch.manual_seed(0)
        model = GPT(GPTConfig(**SIZES[name])).eval()
        n = model.num_params()
        for busy in (False, True):
            stop = mp.Event(); hog = mp.Process(target=_spin, args=(stop,)) if busy else None
            if hog: hog.start(); time.sleep(0.5)
            try:
                for work in ("sampling", "training"):
                    if work == "training" and n > 50e6: continue              # minutes per step on 2 cores: not a CPU job
                    f = (lambda th: time_sampling(model, a.tokens, th, a.repeats)) if work == "sampling" else \
                        (lambda th: time_training(model.train(), th, a.repeats))
                    one, many = f(1), f(cores)
                    model.eval()
                    print(f"| {name} | {n / 1e6:.1f}M | {work} | {'one busy process beside' if busy else 'idle'} | {one:,.0f} | "
                          f"{many:,.0f} | {many / one:.2f}× | {auto_threads(n, work)} |", flush=True)
            finally:
                if hog: stop.set(); hog.join()

if __name__ == "__main__": main()
