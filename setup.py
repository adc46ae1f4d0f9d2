"""Package layout: the repository keeps `tui/` and `drivers/` at the top level so the architecture is visible in
the tree; installed, they live under the `archived` namespace (`archived.tui`, `archived.drivers`) so the
package claims no generic top-level import names."""

from setuptools import find_packages, setup

MAPPED_FOLDERS = ("tui", "drivers")
DATA_PATTERNS = ["*.css", "*.tcss", "*.js", "*.json", "*.html", "*.toml", "*.txt", "*.png", "*.pdf", "py.typed"]

packages = find_packages(include=["archived", "archived.*"])
package_dir = {"archived": "archived"}
for folder in MAPPED_FOLDERS:
    package_dir[f"archived.{folder}"] = folder
    packages.append(f"archived.{folder}")
    packages += [f"archived.{folder}.{sub}" for sub in find_packages(folder)]

setup(
    packages=packages,
    package_dir=package_dir,
    package_data={pkg: DATA_PATTERNS for pkg in packages},
)
