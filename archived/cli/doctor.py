"""`archived doctor`: is this installation ready to archive? Checks what a job needs on this machine, with fixes.

Offline and without a daemon: Python, WeasyPrint and its speed-patch path, fonts, Node.js, the MathJax bundle
and a sample PDF/A report; with a configuration file, also that it loads and that the state folder can be
written. Exit 1 when anything would stop or degrade archiving.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import tempfile
from pathlib import Path

from rich.text import Text

from archived.cli.common import console, print_json
from archived.cli.exit_codes import ExitCode
from archived.cli.safe_text import data
from archived.config import DEFAULT_CONFIG_PATH, Config, load_config
from archived.errors import ConfigError
from archived_render.readiness import Finding, Severity, check_rendering

MARKS = {"ok": ("✓", "green"), "warning": ("!", "yellow"), "error": ("✗", "bold red")}


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `doctor`."""
    parser = commands.add_parser("doctor", help="check this installation: rendering stack, Node.js, MathJax, config")
    parser.add_argument("--no-sample", action="store_true", help="skip rendering a sample report")
    parser.add_argument("--json", action="store_true", help="machine-readable findings")
    parser.set_defaults(func=cmd_doctor)


def check_configuration(path: Path) -> list[Finding]:
    """The configuration loads (secrets included) and the daemon's state folder can be written."""
    try:
        config = load_config(path)
    except ConfigError as exc:
        return [Finding("configuration", "error", str(exc), f"fix {path}")]
    findings = [Finding("configuration", "ok", f"{path} loads")]
    if config.workers.backend == "dask":
        findings.append(check_render_cluster(config))
    state = config.daemon.state_dir
    probe_in = state if state.is_dir() else state.parent
    try:
        with tempfile.NamedTemporaryFile(dir=probe_in, prefix=".archived-doctor-"):
            pass
        findings.append(Finding("state folder", "ok", f"{state} can be written"))
    except OSError as exc:
        findings.append(Finding("state folder", "error", f"{state}: {exc.strerror or exc}",
                                f"create {state} writable for the daemon's user ([daemon] state_dir)"))  # fmt: skip
    return findings


def check_render_cluster(config: Config) -> Finding:
    """With `[workers] backend = "dask"`: the scheduler answers and enough render workers match this installation."""
    # Imported here: every `archived` command loads this module, and these load the daemon's wiring.
    from archived.daemon.server import cluster_settings
    from archived_render.dask_pool import DaskRenderPool
    from archived_render.fingerprint import local_fingerprint

    try:
        settings = cluster_settings(config.workers)
    except ConfigError as exc:
        missing = "archived[cluster]" in str(exc)  # Dask is not installed; else the [workers.dask] values are wrong
        fix = "pip install 'archived[cluster]'" if missing else "fix [workers.dask] (docs/render-hosts.md)"
        return Finding("render cluster", "error", str(exc), fix)
    assert settings is not None

    async def look() -> tuple[str | None, list[str], int]:
        pool = DaskRenderPool(settings)
        try:
            problem = await pool.ready()
            hosts = pool.snapshot.hosts
            others = [f"{h.name or h.address}: {'; '.join(h.differences)}" for h in hosts if not h.matches]
            return problem, others, sum(1 for h in hosts if h.matches)
        finally:
            await pool.close()

    problem, others, matching = asyncio.run(look())
    where = f"{settings.scheduler} (fingerprint {local_fingerprint().digest})"
    if problem is not None:
        meanwhile = "jobs render locally meanwhile" if settings.fallback_local else "jobs wait and retry"
        fix = "start the scheduler and archived render-worker on the render hosts (docs/render-hosts.md)"
        severity: Severity = "warning" if settings.fallback_local else "error"
        return Finding("render cluster", severity, f"{where}: {problem}; {meanwhile}", fix)
    if others:
        detail = f"{where}: {matching} matching worker(s); not matching: {' | '.join(others)}"
        return Finding("render cluster", "warning", detail, "install this archived version and its fonts there")
    return Finding("render cluster", "ok", f"{where}: {matching} matching render worker(s)")


def cmd_doctor(args: argparse.Namespace) -> int:
    """Print the findings; exit 1 if any is an error."""
    findings = check_rendering(sample=not args.no_sample)
    config_path = getattr(args, "config", None) or os.environ.get("ARCHIVED_CONFIG")
    if config_path:
        findings += check_configuration(Path(config_path))
    elif DEFAULT_CONFIG_PATH.exists():
        findings += check_configuration(DEFAULT_CONFIG_PATH)
    if args.json:
        print_json({"ok": all(f.ok for f in findings), "findings": [f.to_dict() for f in findings]})
    else:
        for finding in findings:
            mark, style = MARKS[finding.severity]
            console.print(Text.assemble((f"{mark} ", style), (f"{finding.name}: ", "bold"), data(finding.detail)))
            if finding.fix:
                console.print(Text.assemble("    fix: ", data(finding.fix)))
    return ExitCode.OK if all(f.ok for f in findings) else ExitCode.FAILURE
