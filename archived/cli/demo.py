"""`archived demo`: archive a quiz from the built-in Moodle simulator and verify it (README's first command)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from rich.progress import BarColumn, Progress, TextColumn
from rich.text import Text

from archived.cli.common import console, fail, print_json, run_async
from archived.cli.exit_codes import ExitCode
from archived.cli.safe_text import data
from archived.terminal_text import visible


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `demo`."""
    demo = commands.add_parser(
        "demo", help="archive a quiz from the built-in Moodle simulator with a throw-away daemon, and verify it"
    )
    demo.add_argument("--dir", type=Path, help="folder for the demo's store and archives (default: a new temp folder)")
    demo.add_argument("--keep", action="store_true", help="keep the daemon and the simulator running (for the TUI)")
    demo.add_argument("--release", choices=["4.1", "4.5", "5.0"], default="4.5", help="Moodle version to simulate")
    demo.add_argument(
        "--s3", action="store_true",
        help="also store on WORM storage: a local S3 server with Object Lock (needs moto: pip install 'moto[server]')",
    )  # fmt: skip
    demo.add_argument("--json", action="store_true", help="machine-readable result")
    demo.set_defaults(func=cmd_demo)


def cmd_demo(args: argparse.Namespace) -> int:
    """Exit 0 when the archive was made and verifies."""
    from archived.demo import run_demo

    progress = Progress(TextColumn("{task.description:<32}", markup=False), BarColumn(),
                        TextColumn("{task.percentage:>5.1f}%", markup=False), console=console,
                        disable=args.json)  # fmt: skip
    bar = progress.add_task("starting", total=100)

    def on_event(event: dict[str, Any]) -> None:
        if event["kind"] == "job.progress":
            progress.update(bar, completed=event["data"]["progress"], description=visible(event["data"]["text"])[:32])
        elif event["kind"] == "job.state":
            job = event["data"]["job"]
            progress.update(bar, description=job["state"], completed=100 if job["state"] == "completed" else None)

    def ready(result: Any, config_path: Path, simulator: Any) -> None:
        console.print()
        console.print(Text("The daemon and the Moodle simulator keep running; press Ctrl-C to stop them.", "bold"))
        console.print(f"  TUI:      archived --socket {result.socket} tui")
        console.print(f"  CLI:      archived --socket {result.socket} jobs list")
        console.print(f"  config:   {config_path}")
        console.print(f"  Moodle:   {simulator.url}  (token in {config_path.parent / 'moodle-token'})")
        if args.s3:
            console.print("  WORM:     the TUI's storage screen (key 4) shows target worm with its Object Lock")

    if not args.json:
        console.print(Text.assemble(("archived demo", "bold"), ": Moodle simulator → daemon → quiz and assignment "
                                    "archives → offline verification"))  # fmt: skip
    with progress:
        try:
            result = run_async(_run(run_demo, args, on_event, ready))
        except Exception as exc:  # the demo must explain itself, whatever broke
            return fail(f"the demo failed: {exc}")
    if isinstance(result, int):
        return result
    job = result.job
    assignment = result.assignment
    assignment_ok = (
        assignment is not None
        and assignment.job["state"] == "completed"
        and (assignment.report is not None and assignment.report.ok)
    )
    ok = job["state"] == "completed" and result.report is not None and result.report.ok and assignment_ok
    if args.json:
        print_json({
            "ok": ok, "job": job, "archive": str(result.archive) if result.archive else None,
            "attempts": result.attempts, "verify": result.report.to_dict() if result.report else None,
            "folder": str(result.folder), "copies": result.copies,
            "assignment": {
                "job": assignment.job, "archive": str(assignment.archive) if assignment.archive else None,
                "verify": assignment.report.to_dict() if assignment.report else None, "copies": assignment.copies,
            } if assignment else None,
        })  # fmt: skip
        return ExitCode.OK if ok else ExitCode.FAILURE
    if job["state"] != "completed" or result.archive is None:
        return fail(f"job {job['id']} ended {job['state']}: {job.get('error_message') or 'no archive'}")
    console.print(f"job:       {job['id']} ({job['state']}, {job['run_seconds']:.1f} s)")
    console.print(f"archive:   {result.archive}", soft_wrap=True)
    for copy in result.copies or []:
        console.print(Text.assemble(f"  copy on {copy['target']}: ", data(copy["location"]), " (verified)"))
    console.print(f"attempts:  {result.attempts} quiz attempt report(s) (PDF/A) in the archive")
    assert result.report is not None
    verdict = ("OK", "bold green") if result.report.ok else ("DEFECTS FOUND", "bold red")
    checks = f"{sum(c.ok for c in result.report.checks)}/{len(result.report.checks)} checks passed"
    console.print(Text.assemble("verify:    ", verdict, f" ({result.report.payload_files} files; {checks})"))
    for defect in result.report.defects:
        console.print(Text.assemble("  ", ("✗", "red"), " ", data(defect)))
    if assignment is not None:
        if assignment.archive is None or assignment.report is None:
            job_text = f"job {assignment.job['id']} ended {assignment.job['state']}"
            console.print(Text.assemble("assignment: ", ("not archived", "bold red"), f" ({job_text})"))
        else:
            verdict = ("OK", "bold green") if assignment.report.ok else ("DEFECTS FOUND", "bold red")
            console.print(f"assignment: {assignment.archive}", soft_wrap=True)
            console.print(Text.assemble("verify:    ", verdict, f" ({assignment.report.payload_files} files)"))
    console.print(f"check it yourself: archived verify {result.archive}", soft_wrap=True)
    return ExitCode.OK if ok else ExitCode.FAILURE


async def _run(run_demo: Any, args: argparse.Namespace, on_event: Any, ready: Any) -> Any:
    return await run_demo(
        folder=args.dir, keep=args.keep, on_event=on_event, release=args.release, ready=ready, s3=args.s3
    )
