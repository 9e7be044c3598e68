#!/usr/bin/env python
"""The import graph of the package's modules, read from their source with `ast`, and a check that it has no cycle.

    python .ci/imports.py           # print the graph (module -> the pretrain_nb modules it imports, at the top or inside functions)
    python .ci/imports.py --check   # and exit 1 if the graph has a cycle, printing it

Imports inside functions count too: a cycle hidden in a lazy import is still a cycle a reader has to keep in mind.
"""
import ast, sys
from pathlib import Path

PKG = Path(__file__).resolve().parents[1] / "pretrain_nb"


def imports_of(path: Path) -> set[str]:
    "The pretrain_nb modules `path` imports, anywhere in the file."
    out = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            if node.level == 1 and node.module: out.add(node.module.split(".")[0])
            elif node.level == 1: out |= {a.name for a in node.names}              # from . import api
            elif node.module and node.module.startswith("pretrain_nb."): out.add(node.module.split(".")[1])
            elif node.module == "pretrain_nb": out |= {a.name for a in node.names if (PKG / f"{a.name}.py").exists()}
        elif isinstance(node, ast.Import):
            out |= {a.name.split(".")[1] for a in node.names if a.name.startswith("pretrain_nb.")}
    return {m for m in out if (PKG / f"{m}.py").exists() and m != path.stem}


def graph() -> dict[str, set[str]]:
    return {p.stem: imports_of(p) for p in sorted(PKG.glob("*.py")) if p.stem not in ("_modidx",)}


def cycle(g: dict[str, set[str]]) -> list[str] | None:
    "A cycle of the graph as a list of modules (the first repeated at the end), or None."
    state, stack = {}, []
    def visit(m):
        state[m] = "open"; stack.append(m)
        for n in sorted(g.get(m, ())):
            if state.get(n) == "open": return stack[stack.index(n):] + [n]
            if n not in state and (c := visit(n)): return c
        state[m] = "done"; stack.pop()
        return None
    for m in sorted(g):
        if m not in state and (c := visit(m)): return c
    return None


if __name__ == "__main__":
    g = graph()
    for m, deps in g.items(): print(f"{m:>12} -> {', '.join(sorted(deps)) or '(nothing)'}")
    c = cycle(g)
    print("import cycle: " + " -> ".join(c) if c else f"no import cycle among the {len(g)} modules")
    if "--check" in sys.argv and c: sys.exit(1)
