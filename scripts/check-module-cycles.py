#!/usr/bin/env python3
"""Fails if the modules of a crate import each other in a cycle.

For every crate of the workspace, each file under src/ is a module; an edge
A -> B is a `use crate::B...` (or `crate::B::` path) in A's file, where B is
resolved to the longest module path that exists. Submodules using their own
parent (`super::`) are not edges: a parent owns its children. Cycles between
any other modules are reported, and the exit status is 1.
"""
import os
import re
import sys

ROOT = sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def modules(src):
    """Module path (tuple) -> file, for every .rs file under src."""
    out = {}
    for dirpath, _, files in os.walk(src):
        for f in files:
            if not f.endswith(".rs"):
                continue
            rel = os.path.relpath(os.path.join(dirpath, f), src)[:-3].split(os.sep)
            if rel[-1] in ("lib", "main") and len(rel) == 1:
                path = ()
            elif rel[-1] == "mod":
                path = tuple(rel[:-1])
            else:
                path = tuple(rel)
            out[path] = os.path.join(dirpath, f)
    return out


def strip_tests(text):
    """Drops `#[cfg(test)] mod tests { ... }` blocks: test code may reach anywhere."""
    code = re.split(r"#\[cfg\(test\)\]\s*mod \w+\s*\{", text)[0]
    return re.sub(r"//.*", "", code)


def edges(mods):
    graph = {m: set() for m in mods}
    for m, path in mods.items():
        text = strip_tests(open(path, encoding="utf-8").read())
        for match in re.finditer(r"crate::((?:\w+::)*\w+)", text):
            parts = tuple(match.group(1).split("::"))
            target = None
            for n in range(len(parts), 0, -1):
                if parts[:n] in mods:
                    target = parts[:n]
                    break
            if target is None or target == m:
                continue
            # A module may use its ancestors' items, and an ancestor its descendants.
            if m[: len(target)] == target or target[: len(m)] == m:
                continue
            graph[m].add(target)
    return graph


def cycles(graph):
    found, state, stack = [], {}, []

    def visit(node):
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                found.append(stack[stack.index(nxt):] + [nxt])
            elif nxt not in state:
                visit(nxt)
        stack.pop()
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node)
    return found


def main():
    crates = [d for d in sorted(os.listdir(ROOT)) if os.path.isfile(os.path.join(ROOT, d, "Cargo.toml"))]
    crates.append(".")
    bad = 0
    for crate in crates:
        src = os.path.join(ROOT, crate, "src")
        if not os.path.isdir(src):
            continue
        for cycle in cycles(edges(modules(src))):
            bad += 1
            names = " -> ".join("::".join(m) or "crate" for m in cycle)
            print(f"{crate}: import cycle {names}")
    if bad:
        sys.exit(1)
    print(f"no import cycles between the modules of {len(crates)} crates")


if __name__ == "__main__":
    main()
