"""No import cycle inside the simulator, between its modules or between its packages.

Imports inside functions and under `TYPE_CHECKING` count too: they hide a cycle from the interpreter, not from a
reader. The checker reads the source with `ast`, so it needs nothing outside the repository.
"""

from __future__ import annotations

from pathlib import Path

from tests.support.import_graph import cycles, import_graph, modules, package_graph

ROOT = Path(__file__).resolve().parents[2]


def test_no_import_cycle_in_the_simulator() -> None:
    """Every arrow between simulator modules, and between its packages, runs one way."""
    files = modules(ROOT, "archived.simulator")
    graph = import_graph(files)
    assert len(files) > 50, "the checker found too few simulator modules: is ROOT the repository?"
    assert cycles(graph) == [], "module import cycles in archived/simulator"
    assert cycles(package_graph(graph, files)) == [], "package import cycles in archived/simulator"


def test_the_checker_sees_hidden_and_relative_cycles(tmp_path: Path) -> None:
    """A cycle through a function-level import, a `TYPE_CHECKING` import or a relative import is still found."""
    sources = {
        "pkg/__init__.py": "",
        "pkg/a.py": "def f():\n    from pkg import b\n",
        "pkg/b.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from pkg.a import f\n",
        "pkg/sub/__init__.py": "",
        "pkg/sub/c.py": "import pkg.other.d\n",
        "pkg/other/__init__.py": "",
        "pkg/other/d.py": "from ..sub import c\n",
    }
    for name, text in sources.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    files = modules(tmp_path, "pkg")
    graph = import_graph(files)
    assert cycles(graph) == [("pkg.a", "pkg.b"), ("pkg.other.d", "pkg.sub.c")]
    assert cycles(package_graph(graph, files)) == [("pkg.other", "pkg.sub")]
