"""Wheel and sdist build step: bundle MathJax into one JavaScript file that ships inside the package.

The bundle (`drivers/worker/archived_render/mathjax/tex2svg.bundle.js`) holds `tex2svg.js` and the MathJax
modules it uses, built with esbuild from the pinned `package-lock.json`; an installed archived then needs only
Node.js. A checkout's `scripts/setup` builds it too; here it is built when missing or older than its sources,
which needs `npm` (and the npm registry) on the build machine. A wheel or sdist already carries it, so
installing one needs neither.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface

MATHJAX = Path("drivers/worker/archived_render/mathjax")
BUNDLE = MATHJAX / "tex2svg.bundle.js"
SOURCES = ("tex2svg.js", "package.json", "package-lock.json")


class CustomBuildHook(BuildHookInterface):  # type: ignore[type-arg]
    """Builds the MathJax bundle before the files are collected."""

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        """Build the bundle if it is missing or stale (never for editable installs: the checkout's is used)."""
        if version == "editable":
            return
        root = Path(self.root)
        folder, bundle = root / MATHJAX, root / BUNDLE
        if not (folder / "tex2svg.js").is_file():
            return  # building a wheel from an sdist: the sdist carries the bundle, not its sources' tooling
        newest_source = max((folder / name).stat().st_mtime for name in SOURCES)
        if bundle.is_file() and bundle.stat().st_mtime >= newest_source:
            return
        npm = shutil.which("npm")
        if npm is None:
            raise RuntimeError(
                f"building archived needs npm to bundle MathJax into {BUNDLE} (install Node.js and npm, or build "
                "from a release sdist/wheel, which carries the bundle)"
            )
        self.app.display_info(f"bundling MathJax into {BUNDLE}")
        subprocess.run([npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=folder, check=True)
        subprocess.run([npm, "run", "build", "--silent"], cwd=folder, check=True)
