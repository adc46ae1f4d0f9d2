"""The gate in front of the render speed patches: which of them run, and on which WeasyPrint.

`weasy_fastpaths`, `weasy_caches` and the engine's parsed-document path (`pdf_engine`) replace or lean on
private WeasyPrint and pydyf code. Their byte-identical tests prove them on one exact pair of versions
(`PROVEN`); on any other pair the worker renders with stock WeasyPrint through its public API only (correct,
slower) and the daemon says so in one log line. The operator can turn them off: `[workers]
weasyprint_patches = false`, or `ARCHIVED_WEASYPRINT_PATCHES=off`, which wins over the setting. The variable
also takes a list for measurements: `all,-zlib6` (all but one), `glyphs,svg_paths` (just these).

This module imports nothing of WeasyPrint: the daemon decides here before any worker starts.
"""

from __future__ import annotations

import importlib.metadata
import logging
import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

log = logging.getLogger(__name__)

ENV_VAR = "ARCHIVED_WEASYPRINT_PATCHES"
SETTING = "[workers] weasyprint_patches"
# The versions on which tests/drivers/worker/test_engine_fastpaths.py and test_engine_caches.py proved the
# patches byte for byte. Raise them only together with a green run of those tests on the new versions.
PROVEN: dict[str, str] = {"weasyprint": "70.0", "pydyf": "0.13.0"}

# Every patch by name (the names `ARCHIVED_WEASYPRINT_PATCHES` takes), with the module that holds it.
FASTPATHS = ("computed_values", "normal_flow", "glyphs", "kept_layouts")
CACHES = ("raster_objects", "svg_paths", "svg_drawings", "streams_once", "zlib6")
ENGINE = ("parsed_html", "image_cache")
PATCHES = (*FASTPATHS, *CACHES, *ENGINE)
# A patch that only works on top of another one (layouts kept for drawing need the glyph drawer's handling).
REQUIRES = {"kept_layouts": "glyphs"}

_OFF = frozenset({"off", "false", "no", "0", "none"})
_ON = frozenset({"on", "true", "yes", "1", "all", ""})
_logged: set[str] = set()


@dataclass(frozen=True)
class PatchDecision:
    """Which patches a render process applies, and the one line that says why."""

    enabled: frozenset[str]
    reason: str
    proven: bool = True  # the installed versions are the proven ones
    understood: bool = True  # the switch's value made sense

    @property
    def label(self) -> str:
        """Short name of the path for stats: 'patched', 'stock' or 'patched (all,-zlib6)'."""
        if not self.enabled:
            return "stock"
        if self.enabled == frozenset(PATCHES):
            return "patched"
        return f"patched ({describe(self.enabled)})"


def installed_versions() -> dict[str, str | None]:
    """The installed versions of the packages the patches depend on (None: not installed)."""
    return {name: _installed_version(name) for name in PROVEN}


def _installed_version(name: str) -> str | None:
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return None


def versions_proven() -> bool:
    """Whether the installed WeasyPrint and pydyf are exactly the versions the patches were proven on."""
    return installed_versions() == PROVEN


def parse(value: str) -> frozenset[str]:
    """The patches a switch value names: on/all, off/none, or a list such as `all,-zlib6` or `glyphs,svg_paths`.

    Raises ValueError naming what is wrong.
    """
    text = value.strip().lower()
    if text in _OFF:
        return frozenset()
    if text in _ON:
        return frozenset(PATCHES)
    chosen: set[str] = set()
    for item in (part.strip() for part in text.split(",")):
        if item == "all":
            chosen.update(PATCHES)
        elif item.startswith("-") and item[1:] in PATCHES:
            chosen.discard(item[1:])
        elif item in PATCHES:
            chosen.add(item)
        else:
            raise ValueError(f"unknown patch {item.lstrip('-')!r}")
    return frozenset(name for name in chosen if REQUIRES.get(name, name) in chosen)


def describe(enabled: frozenset[str]) -> str:
    """The shortest switch value that names `enabled` (the inverse of `parse`)."""
    if not enabled:
        return "off"
    left_out = [name for name in PATCHES if name not in enabled]
    if len(left_out) < len(enabled):
        return ",".join(["all", *(f"-{name}" for name in left_out)])
    return ",".join(name for name in PATCHES if name in enabled)


def decide(setting: bool = True, environ: Mapping[str, str] | None = None) -> PatchDecision:
    """Decide from the versions, `ARCHIVED_WEASYPRINT_PATCHES` (wins) and the `[workers]` setting."""
    environ = os.environ if environ is None else environ
    raw = environ.get(ENV_VAR)
    if raw is not None:
        source = f"{ENV_VAR}={raw}"
        try:
            wanted = parse(raw)
        except ValueError as exc:
            return PatchDecision(
                frozenset(),
                f"WeasyPrint speed patches off: {source} is not understood ({exc}); expected on, off or a list "
                f"such as all,-glyphs of {', '.join(PATCHES)}. Rendering uses stock WeasyPrint (correct, but "
                f"slower); correct or unset {ENV_VAR}",
                understood=False,
            )
    else:
        source = f"{SETTING} = {'true' if setting else 'false'}"
        wanted = frozenset(PATCHES) if setting else frozenset()
    found = installed_versions()
    if found != PROVEN:
        return _unproven(found)
    if not wanted:
        reason = f"WeasyPrint speed patches off ({source}): rendering uses stock WeasyPrint (correct, but slower)"
        return PatchDecision(frozenset(), reason)
    which = "on" if wanted == frozenset(PATCHES) else f"partly on: {describe(wanted)}"
    return PatchDecision(wanted, f"WeasyPrint speed patches {which} ({_versions(found)}, as proven; {source})")


def _unproven(found: Mapping[str, str | None]) -> PatchDecision:
    return PatchDecision(
        frozenset(),
        f"WeasyPrint speed patches off: found {_versions(found)}, they are proven on {_versions(PROVEN)} only; "
        "rendering uses stock WeasyPrint (correct, but slower)",
        proven=False,
    )


def _versions(versions: Mapping[str, str | None]) -> str:
    return " / ".join(f"{'WeasyPrint' if name == 'weasyprint' else name} {found or 'missing'}" for name, found in
                      versions.items())  # fmt: skip


def log_once(decision: PatchDecision) -> None:
    """Log the decision's line once per process (a warning when the versions or the switch are not right)."""
    if decision.reason in _logged:
        return
    _logged.add(decision.reason)
    level = logging.INFO if decision.proven and decision.understood else logging.WARNING
    log.log(level, "%s", decision.reason)


def apply(decision: PatchDecision) -> PatchDecision:
    """Put exactly the decided process-wide patches in place; return what is in force (stock if they fail)."""
    found = installed_versions()
    if decision.enabled and found != PROVEN:  # decided elsewhere, or the versions changed under us
        decision = _unproven(found)
    enabled = decision.enabled
    if applied() == enabled & frozenset((*FASTPATHS, *CACHES)):
        return decision
    remove()
    if not enabled:
        return decision
    try:
        # Imported here and only here, after the version check: these modules import WeasyPrint and pydyf
        # internals that another release may move or drop, and such an import error must not stop stock
        # rendering. Importing them at the top of any module would load them on every version.
        from archived_render import weasy_caches, weasy_fastpaths

        done = weasy_fastpaths.install(enabled.intersection(FASTPATHS)) | weasy_caches.install(
            enabled.intersection(CACHES)
        )
    except Exception as exc:
        remove()
        return PatchDecision(
            frozenset(),
            f"WeasyPrint speed patches off: putting them in place failed ({type(exc).__name__}: {exc}); rendering "
            "uses stock WeasyPrint (correct, but slower)",
            proven=False,
        )
    done |= enabled.intersection(ENGINE)
    if done != enabled:  # e.g. the glyph drawer stays off where Pango's glyph struct differs
        return PatchDecision(frozenset(done), decision.reason + f"; in force: {describe(frozenset(done))}")
    return decision


def applied() -> frozenset[str]:
    """The process-wide patches in place now (the engine-level ones are per `PdfEngine`)."""
    found: set[str] = set()
    for module in _loaded_modules():
        found |= module.installed()
    return frozenset(found)


def remove() -> None:
    """Restore every WeasyPrint and pydyf function the patches replaced (tests, switching sets)."""
    for module in _loaded_modules():
        module.uninstall()


def image_cache() -> Any:
    """A cache of decoded images kept across documents (`weasy_caches.ImageCache`); only when `image_cache` is on."""
    from archived_render.weasy_caches import ImageCache  # lazily, see `apply`

    return ImageCache()


def _loaded_modules() -> list[Any]:
    # Never import them just to ask: on an unproven version they must stay unloaded.
    names = ("archived_render.weasy_fastpaths", "archived_render.weasy_caches")
    return [module for name in names if (module := sys.modules.get(name)) is not None]
