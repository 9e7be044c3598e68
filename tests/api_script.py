"""The Python API as a user's script meets it: only `import pretrain_nb` (and transformers, to read the export back).

Trains a small run on short documents, loads it back with `pretrain_nb.load`, draws the same text twice with one seed, exports
it to 🤗 `transformers`, reloads it with `AutoModelForCausalLM` / `AutoTokenizer`, and checks that greedy generation gives the
same tokens in both and stops at `<|endoftext|>`. Prints one PASS/FAIL line per check; exits non-zero on a failure.
    python tests/api_script.py"""
import json, os, sys, tempfile, time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
import pretrain_nb

failures = 0
def check(ok: bool, what: str):
    global failures
    print(("PASS  " if ok else "FAIL  ") + what, flush=True)
    failures += not ok

work = Path(tempfile.mkdtemp(prefix="pretrain_nb-api-"))
os.chdir(work)                                                       # runs/ lands here, as in a user's project folder
docs = [f"The {a} sat {p}. It was {w} and it slept." for a in ("cat", "dog", "fox", "owl", "bee", "elk")
        for p in ("on the mat", "in the box", "by the door", "under the tree", "near the lake") for w in ("warm", "tired", "happy")]
Path("stories.jsonl").write_text("\n".join(json.dumps({"text": d}) for d in docs))

t0 = time.time()
run = pretrain_nb.train(data="stories.jsonl", n_layer=2, n_head=2, d_model=64, block_size=64, batch_size=16, lr=3e-3,
                        warmup_steps=20, max_steps=300, eval_interval=100, eval_batches=2, progress=False)
check(run.source == work / "runs" / "tiny-stories" / "ckpt-0000300.pt", f"train: a run folder named after the data, runs/tiny-stories ({time.time() - t0:.0f}s)")

model = pretrain_nb.load("runs/tiny-stories")
check(model.settings["max_steps"] == 300 and model.config.n_layer == 2, "load: the run's settings and model shape")
a, b = (model.generate("The fox sat", max_new_tokens=40, temperature=0.8, seed=7) for _ in range(2))
check(a == b and a.startswith("The fox sat"), f"generate with a seed is repeatable: {a!r}")

greedy = model.generate_ids("The owl sat", max_new_tokens=40, temperature=0)
eot = model.tokenizer.eot_id
check(greedy[-1] == eot, f"greedy generation ends the document with <|endoftext|> ({len(greedy)} tokens)")

out = model.export_hf("hf/stories")
from transformers import AutoModelForCausalLM, AutoTokenizer, logging
import torch
logging.set_verbosity_error(); logging.disable_progress_bar()
hf = AutoModelForCausalLM.from_pretrained(out).eval()
tok = AutoTokenizer.from_pretrained(out)
check((hf.config.vocab_size, hf.config.bos_token_id, hf.config.eos_token_id, hf.generation_config.eos_token_id, tok.eos_token_id)
      == (model.tokenizer.vocab_size, eot, eot, eot, eot),
      f"export: the tokenizer's vocabulary ({model.tokenizer.vocab_size}) and its own <|endoftext|> id ({eot}) everywhere")
ids = tok("The owl sat", return_tensors="pt").input_ids
with torch.no_grad():
    hf_new = hf.generate(ids, attention_mask=torch.ones_like(ids), max_new_tokens=40, do_sample=False)[0, ids.shape[1]:].tolist()
check(hf_new == greedy, f"transformers' greedy tokens are pretrain_nb's: {tok.decode(hf_new)!r}")
check(hf_new[-1] == eot and len(hf_new) < 40, "transformers' generate() stops at <|endoftext|>")
check(pretrain_nb.load(out).generate_ids("The owl sat", 40, temperature=0) == greedy, "pretrain_nb.load reads the export back")
print(f"{'all checks held' if not failures else f'{failures} check(s) failed'}; files in {work}")
sys.exit(1 if failures else 0)
