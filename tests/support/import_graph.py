"""Reading a package's import graph from its source with `ast` (imports inside functions and under
`TYPE_CHECKING` count: they hide a cycle from the interpreter, not from a reader), and finding its cycles."""

from __future__ import annotations

import ast
from pathlib import Path


def modules(folder: Path, package: str) -> dict[str, Path]:
    """Dotted module name -> source file, for every module of `package` inside `folder`."""
    found = {}
    for path in sorted((folder / package.replace(".", "/")).rglob("*.py")):
        parts = path.relative_to(folder).with_suffix("").parts
        found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


def import_graph(files: dict[str, Path]) -> dict[str, set[str]]:
    """Module -> the modules of `files` it imports anywhere in its source."""
    graph: dict[str, set[str]] = {name: set() for name in files}
    for name, path in files.items():
        here = name if path.name == "__init__.py" else name.rpartition(".")[0]
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                anchor = here.split(".")[: len(here.split(".")) - node.level + 1] if node.level else []
                base = ".".join([*anchor, node.module] if node.module else anchor)
                targets = [base, *(f"{base}.{alias.name}" for alias in node.names)]
            else:
                continue
            for target in targets:
                while target and target not in files:  # `from pkg.mod import name`: the module is the edge
                    target = target.rpartition(".")[0]
                if target and target != name:
                    graph[name].add(target)
    return graph


def package_graph(graph: dict[str, set[str]], files: dict[str, Path]) -> dict[str, set[str]]:
    """Package -> packages it imports from; a package and its own subpackages are not compared."""
    package = {name: name if path.name == "__init__.py" else name.rpartition(".")[0] for name, path in files.items()}
    out: dict[str, set[str]] = {}
    for name, targets in graph.items():
        for target in targets:
            a, b = package[name], package[target]
            if a != b and not a.startswith(b + ".") and not b.startswith(a + "."):
                out.setdefault(a, set()).add(b)
    return out


def cycles(graph: dict[str, set[str]]) -> list[tuple[str, ...]]:
    """The groups of nodes that reach each other (strongly connected components of more than one node)."""
    reach: dict[str, set[str]] = {}
    for start in graph:
        seen: set[str] = set()
        todo = [start]
        while todo:
            for following in graph.get(todo.pop(), ()):
                if following not in seen:
                    seen.add(following)
                    todo.append(following)
        reach[start] = seen
    return sorted({tuple(sorted(w for w in reach[v] if v in reach.get(w, ()))) for v in graph if v in reach[v]})
