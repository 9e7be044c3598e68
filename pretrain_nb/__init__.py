"""Pre-train small GPTs on your own text: `pretrain_nb.train(...)`, `pretrain_nb.load(path)`, then `.generate(...)` and
`.export_hf(folder)`.

Each name below is imported on first use, so `import pretrain_nb` loads no PyTorch (the command line's `--help` answers
at once)."""

__version__ = "0.1.0"

__all__ = ["train", "load", "Pretrained"]

def __getattr__(name: str):
    "train, load and Pretrained come from `pretrain_nb.api` (chapter 11), imported when first asked for."
    if name in __all__:
        from . import api
        return getattr(api, name)
    raise AttributeError(f"module 'pretrain_nb' has no attribute {name!r}")

def __dir__() -> list[str]: return sorted([*globals(), *__all__])
