"""What a render process's output depends on besides its input: versions of archived and the PDF stack, and fonts.

Renders are deterministic — the same task gives the same bytes — only as long as every process that renders has
the same code, the same libraries and the same fonts. A render host proves that it matches the daemon by its
fingerprint before it gets work (`dask_pool`), and again on every task it runs: a host whose fonts or WeasyPrint
differ would write archives that do not match a later re-render, which a court might ask for.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import hashlib
import json
import os
import shutil
import subprocess
from dataclasses import asdict, dataclass
from importlib import metadata
from pathlib import Path

# The Python distributions whose versions change a PDF's bytes: the layout engine and its CSS parsers, the PDF
# writer, the font subsetter, the image encoder; and archived itself (the report HTML and the PDF/A finishing).
_DISTRIBUTIONS = ("archived", "weasyprint", "pydyf", "fonttools", "pillow", "tinycss2", "cssselect2", "lxml")
_FONT_DIRS = (Path("/usr/share/fonts"), Path("/usr/local/share/fonts"))


@dataclass(frozen=True)
class EngineFingerprint:
    """The versions and the fonts a render process works with; `digest` is what must match."""

    versions: dict[str, str]  # distribution or native library → version
    fonts: str  # SHA-256 over the installed font files (name and size), in fontconfig's order-free form
    font_count: int

    @property
    def digest(self) -> str:
        """A short stable hash of everything above (16 hex digits)."""
        canonical = json.dumps(asdict(self), sort_keys=True).encode()
        return hashlib.sha256(canonical).hexdigest()[:16]

    @property
    def archived_version(self) -> str:
        """The archived version in this fingerprint."""
        return self.versions.get("archived", "?")

    def differences(self, other: EngineFingerprint) -> list[str]:
        """What differs from `other`, in words ('weasyprint 70.0 ≠ 69.1', 'fonts: 22 files ≠ 21 files')."""
        found = [
            f"{name} {self.versions.get(name, 'missing')} ≠ {other.versions.get(name, 'missing')}"
            for name in sorted(set(self.versions) | set(other.versions))
            if self.versions.get(name) != other.versions.get(name)
        ]
        if self.fonts != other.fonts:
            mine = f"{self.font_count} files ({self.fonts[:8]})"
            theirs = f"{other.font_count} files ({other.fonts[:8]})"
            found.append(f"fonts: {mine} ≠ {theirs}")
        return found

    def to_dict(self) -> dict[str, object]:
        """JSON-ready form, digest included."""
        return {**asdict(self), "digest": self.digest}

    @classmethod
    def from_dict(cls, data: dict[str, object]) -> EngineFingerprint:
        """The inverse of `to_dict`."""
        versions = data.get("versions")
        return cls(
            versions={str(k): str(v) for k, v in versions.items()} if isinstance(versions, dict) else {},
            fonts=str(data.get("fonts", "")),
            font_count=int(str(data.get("font_count", 0))),
        )


@functools.cache
def local_fingerprint() -> EngineFingerprint:
    """This process's fingerprint (computed once: fonts and libraries do not change under a running process)."""
    versions = {name: _distribution_version(name) for name in _DISTRIBUTIONS}
    versions["pango"] = _pango_version()
    versions["harfbuzz"] = _native_version("harfbuzz", "hb_version_string")
    fonts = _font_files()
    digest = hashlib.sha256("\n".join(f"{name}\t{size}" for name, size in fonts).encode()).hexdigest()
    return EngineFingerprint(versions, digest, len(fonts))


def _distribution_version(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "missing"


def _pango_version() -> str:
    try:
        from weasyprint.text.ffi import pango

        number = int(pango.pango_version())
    except Exception:  # WeasyPrint could not load Pango: renders fail anyway, and say why
        return "missing"
    return f"{number // 10000}.{number // 100 % 100}.{number % 100}"


def _native_version(library: str, function: str) -> str:
    found = ctypes.util.find_library(library)
    if found is None:
        return "missing"
    try:
        call = getattr(ctypes.CDLL(found), function)
    except (OSError, AttributeError):
        return "missing"
    call.restype = ctypes.c_char_p
    value: bytes = call()
    return value.decode()


def _font_files() -> list[tuple[str, int]]:
    """Every font file fontconfig offers (file name and size), sorted; the font folders when fc-list is missing."""
    paths: list[str] = []
    fc_list = shutil.which("fc-list")
    if fc_list is not None:
        try:
            answer = subprocess.run(
                [fc_list, "--format", "%{file}\n"], capture_output=True, text=True, timeout=30, check=True
            )
            paths = [line for line in answer.stdout.splitlines() if line]
        except (OSError, subprocess.SubprocessError):
            paths = []
    if not paths:
        paths = [str(p) for folder in _FONT_DIRS if folder.is_dir() for p in folder.rglob("*") if p.is_file()]
    files: set[tuple[str, int]] = set()
    for path in paths:
        try:
            size = os.stat(path).st_size
        except OSError:
            continue
        # The name, not the whole path: the same package puts the same file in the same place on every host, but
        # a font copied into another folder renders the same.
        files.add((os.path.basename(path), size))
    return sorted(files)
