"""Is this machine ready to render reports? Node.js, the MathJax bundle, WeasyPrint and its speed patches, fonts.

Used by `archived doctor` and at daemon start, so that a missing piece is named with its fix before the first
job meets it. Each check says what it found; a failed one says how to fix it. `sample=True` also renders a small
report with a formula to PDF/A in this process and checks the result, which proves the whole stack.
"""

from __future__ import annotations

import asyncio
import re
import shutil
import subprocess
import sys
from dataclasses import asdict, dataclass
from typing import Any, Literal

from archived_render import weasy_patches
from archived_render.math import SCRIPT, MathRenderer, node_binary

MIN_NODE_MAJOR = 18
Severity = Literal["error", "warning", "ok"]

SAMPLE_HTML = """<!DOCTYPE html>
<html><head><title>archived doctor</title><style>body { font-family: 'DejaVu Sans', sans-serif }</style></head>
<body><h1>Rendering check</h1><p>Zoë Ōtsuka ✔ {formula}</p></body></html>"""


@dataclass(frozen=True)
class Finding:
    """One check: what it looked at, what it found, and (when not ok) how to fix it."""

    name: str
    severity: Severity
    detail: str
    fix: str = ""

    @property
    def ok(self) -> bool:
        """True unless the check found an error."""
        return self.severity != "error"

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {**asdict(self), "ok": self.ok}


def check_node() -> Finding:
    """Node.js is found and recent enough for the MathJax bundle."""
    node = node_binary()
    if node is None:
        fix = "install Node.js 18 or newer (Debian/Ubuntu: apt-get install nodejs) or set ARCHIVED_NODE"
        return Finding("node", "error", "Node.js not found: formulas would be shown as TeX source", fix)
    try:
        version = subprocess.run([node, "--version"], capture_output=True, text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError) as exc:
        return Finding("node", "error", f"{node} does not run: {exc}", "install a working Node.js 18 or newer")
    match = re.match(r"v(\d+)", version)
    if match is None or int(match.group(1)) < MIN_NODE_MAJOR:
        return Finding("node", "error", f"{node} is {version or 'of unknown version'}",
                       f"install Node.js {MIN_NODE_MAJOR} or newer, or point ARCHIVED_NODE at one")  # fmt: skip
    return Finding("node", "ok", f"{node} {version}")


async def _convert_sample(renderer: MathRenderer) -> str | None:
    try:
        result = await asyncio.wait_for(renderer.render(r"\frac{a}{b}"), 30)
    finally:
        await renderer.close()
    return result.error if result.svg is None else None


def check_mathjax() -> Finding:
    """The bundle is present and converts a formula."""
    renderer = MathRenderer()
    if renderer.reason is not None:
        return Finding("mathjax", "error", renderer.reason, "see the detail; formulas would be shown as TeX source")
    try:
        error = asyncio.run(_convert_sample(renderer))
    except (TimeoutError, OSError) as exc:
        error = f"no answer: {exc or type(exc).__name__}"
    if error is not None:
        return Finding("mathjax", "error", f"the MathJax child failed on a sample formula: {error}",
                       f"check that {SCRIPT} is complete and Node.js runs it")  # fmt: skip
    return Finding("mathjax", "ok", f"{SCRIPT.name} converts TeX to SVG")


def check_weasyprint() -> Finding:
    """WeasyPrint imports (it needs Pango) and which render path the speed patches take."""
    try:
        import weasyprint  # noqa: F401  (imported here: a missing Pango must be a finding, not a crash)
    except (ImportError, OSError) as exc:
        return Finding("weasyprint", "error", f"WeasyPrint cannot be loaded: {exc}",
                       "install Pango (Debian/Ubuntu: apt-get install libpango-1.0-0 libpangoft2-1.0-0)")  # fmt: skip
    decision = weasy_patches.decide()
    versions = ", ".join(f"{name} {version}" for name, version in weasy_patches.installed_versions().items())
    severity: Severity = "ok" if decision.proven else "warning"
    return Finding("weasyprint", severity, f"{versions}; {decision.reason}")


def check_fonts() -> Finding:
    """The fonts reports are set in are installed (fontconfig finds DejaVu Sans)."""
    fc_match = shutil.which("fc-match")
    if fc_match is None:
        return Finding("fonts", "warning", "fc-match not found: cannot tell which fonts are installed",
                       "install fontconfig and fonts-dejavu-core")  # fmt: skip
    found = subprocess.run([fc_match, "DejaVu Sans"], capture_output=True, text=True, timeout=10).stdout.strip()
    if "DejaVu" not in found:
        return Finding("fonts", "warning", f"DejaVu Sans is not installed (fontconfig offers {found or 'nothing'})",
                       "install fonts-dejavu-core, the fonts reports are designed for")  # fmt: skip
    return Finding("fonts", "ok", found)


def check_sample_render() -> Finding:
    """Render a small report with a formula to PDF/A here and check the PDF."""
    from archived_render.pdf_engine import PdfEngine  # loads WeasyPrint: only when a sample is asked for
    from archived_render.render_task import RenderTask

    renderer = MathRenderer()
    formula = "\\(x^2\\)"
    if renderer.available:
        svg_result = asyncio.run(_render_svg(renderer))
        formula = svg_result or formula
    try:
        weasy_patches.apply(weasy_patches.decide())
        result = PdfEngine().render(RenderTask("doctor sample", SAMPLE_HTML.replace("{formula}", formula)))
    except Exception as exc:  # any failure here is the finding
        return Finding("sample report", "error", f"rendering a sample report failed: {exc!r}",
                       "see the other findings; run archived doctor again after fixing them")  # fmt: skip
    variant = result.check.variant if result.check else "unchecked"  # a failed check raised above
    return Finding(
        "sample report", "ok", f"{variant}, {result.pages} page, {result.size} bytes, {result.seconds:.2f} s"
    )


async def _render_svg(renderer: MathRenderer) -> str | None:
    try:
        result = await asyncio.wait_for(renderer.render(r"\sum_{i=1}^n i = \frac{n(n+1)}{2}"), 30)
    finally:
        await renderer.close()
    return result.svg


def check_python() -> Finding:
    """Which interpreter runs archived (older ones than 3.11 cannot even install it)."""
    version = ".".join(str(part) for part in sys.version_info[:3])
    return Finding("python", "ok", f"Python {version} ({sys.executable})")


def check_rendering(*, sample: bool = True) -> list[Finding]:
    """Every check above, in the order a fix should follow."""
    findings = [check_python(), check_weasyprint(), check_fonts(), check_node()]
    if findings[-1].ok:
        findings.append(check_mathjax())
    if sample and findings[1].ok:
        findings.append(check_sample_render())
    return findings
