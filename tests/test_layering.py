"""The product's imports run one way: no cycle between modules or packages, no package importing one above it, the
TUI knowing only the socket protocol, drivers knowing only the driver contracts, and the simulator serving only the
demo and `archived moodle simulate`.

Read from the source with `ast` (archived/, tui/, drivers/; not tests or bench): imports inside functions and under
`TYPE_CHECKING` count too, since they hide a cycle from the interpreter, not from a reader.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import pytest

from tests.support.import_graph import cycles, import_graph, modules, package_graph

ROOT = Path(__file__).resolve().parents[1]

# Where each top-level package of the distribution lives (pyproject's wheel packages).
PACKAGE_FOLDERS = {
    "archived": ROOT,
    "archived_tui": ROOT / "tui",
    **{path.name: path.parent for path in sorted((ROOT / "drivers").glob("*/archived_*")) if path.is_dir()},
}
WORKERS = {"archived_render"}  # worker services: owned by the daemon, used by drivers
DRIVERS = {name for name in PACKAGE_FOLDERS if name.startswith("archived_")} - WORKERS - {"archived_tui"}

# Layers, lowest first: a unit may import its own layer and those below, never one above. A unit is a subpackage of
# `archived` (`archived.store`), a module directly in `archived` (`archived.config`) or a package of its own.
LAYERS: list[set[str]] = [
    {"archived", "archived.errors", "archived.durable", "archived.storable_text", "archived.terminal_text",
     "archived.protocol", "archived.simulator"},
    {"archived.config", "archived.moodle", "archived.archive", *WORKERS},
    {"archived.interfaces"},
    {"archived.plugins", "archived.targets", *DRIVERS},
    {"archived.store"},
    {"archived.events"},
    {"archived.connectors"},
    {"archived.jobs"},
    {"archived.retention", "archived.people"},
    {"archived.rpc"},
    {"archived.overview"},
    {"archived.policies"},
    {"archived.schedules"},
    {"archived.daemon"},
    {"archived_tui"},
    {"archived.cli", "archived.demo", "archived.__main__"},
]  # fmt: skip

# What the TUI may use of the daemon's side: the protocol, the socket client and the terminal-safe text.
TUI_MAY_IMPORT = ("archived.protocol", "archived.rpc.client", "archived.terminal_text")
# What the socket client may use: the protocol (and the distribution's version from `archived` itself).
CLIENT_MAY_IMPORT = ("archived.protocol",)
# The driver contracts and what drivers share with the daemon on purpose.
DRIVERS_MAY_IMPORT = (
    "archived.interfaces", "archived.moodle", "archived.errors", "archived.durable", "archived.storable_text",
    *WORKERS,
)  # fmt: skip
# Drivers' imports beyond those, each kept where it already is (new ones go through the driver contracts).
DRIVER_EXCEPTIONS = {
    "archived_quiz": {"archived.archive.names"},  # the archive's naming rules, applied to the attempt files' paths
    "archived_assign": {"archived.archive.names"},  # the same rules, applied to the submitted files' paths
    "archived_ftp": {"archived.config"},  # read_secret: a password from a file or the environment
    "archived_sftp": {"archived.config"},  # read_secret: a key passphrase from a file or the environment
}
SIMULATOR_USERS = ("archived.demo", "archived.cli.moodle", "archived.simulator")


def unit(module: str) -> str:
    """The layering unit of a module: its `archived` subpackage, its module in `archived`, or its own package."""
    parts = module.split(".")
    if parts[0] != "archived":
        return parts[0]
    if len(parts) == 1:
        return "archived"
    return ".".join(parts[:2])


def within(module: str, prefixes: Iterable[str]) -> bool:
    """Whether `module` is one of `prefixes` or inside one of them."""
    return any(module == prefix or module.startswith(prefix + ".") for prefix in prefixes)


@pytest.fixture(scope="module")
def product() -> tuple[dict[str, Path], dict[str, set[str]]]:
    """Every module of the product and what it imports."""
    files: dict[str, Path] = {}
    for package, folder in PACKAGE_FOLDERS.items():
        files.update(modules(folder, package))
    assert len(files) > 200 and "archived_tui.app" in files, "the checker found too few modules: is ROOT right?"
    return files, import_graph(files)


def test_no_module_or_package_cycle(product) -> None:
    files, graph = product
    assert cycles(graph) == [], "module import cycles"
    assert cycles(package_graph(graph, files)) == [], "package import cycles"


def test_no_package_imports_one_above_it(product) -> None:
    files, graph = product
    layer = {name: index for index, names in enumerate(LAYERS) for name in names}
    units = {unit(module) for module in files}
    assert units <= set(layer), f"units without a layer in LAYERS: {sorted(units - set(layer))}"
    upward = [
        f"{module} imports {target}"
        for module, targets in graph.items()
        for target in targets
        if layer[unit(target)] > layer[unit(module)]
    ]
    assert upward == []


def test_the_tui_knows_only_the_socket_protocol(product) -> None:
    _, graph = product
    reaching = [
        f"{module} imports {target}"
        for module, targets in graph.items()
        if within(module, ["archived_tui"])
        for target in targets
        if not within(target, ["archived_tui", *TUI_MAY_IMPORT])
    ]
    assert reaching == []
    client = {target for target in graph["archived.rpc.client"] if target != "archived"}
    assert all(within(target, CLIENT_MAY_IMPORT) for target in client), sorted(client)


def test_drivers_know_only_the_driver_contracts(product) -> None:
    _, graph = product
    reaching = []
    for module, targets in graph.items():
        driver = module.split(".")[0]
        if driver not in DRIVERS | WORKERS:
            continue
        allowed = [driver, *DRIVERS_MAY_IMPORT, *DRIVER_EXCEPTIONS.get(driver, ())]
        reaching += [f"{module} imports {t}" for t in targets if t != "archived" and not within(t, allowed)]
    assert reaching == []
    concrete = [
        f"{module} imports {target}"
        for module, targets in graph.items()
        if within(module, ["archived"])
        for target in targets
        if target.split(".")[0] in DRIVERS
    ]
    assert concrete == [], "the daemon finds drivers through entry points, never by importing one"


def test_only_the_demo_and_moodle_simulate_use_the_simulator(product) -> None:
    _, graph = product
    users = sorted(
        module
        for module, targets in graph.items()
        if any(within(t, ["archived.simulator"]) for t in targets) and not within(module, SIMULATOR_USERS)
    )
    assert users == []


def test_the_checker_sees_hidden_relative_and_upward_imports(tmp_path: Path) -> None:
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
