"""`archived verify ARCHIVE.zip…`: check archives offline, without the daemon and without Moodle."""

from __future__ import annotations

import argparse
from pathlib import Path

from rich.text import Text

from archived.archive.timestamps import load_certificates
from archived.archive.verify import verify_archive
from archived.cli.common import console, fail, human_bytes, print_json
from archived.cli.exit_codes import ExitCode
from archived.cli.safe_text import data


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `verify`."""
    parser = commands.add_parser("verify", help="verify archive ZIPs offline (BagIt structure and all checksums)")
    parser.add_argument("archives", nargs="+", type=Path, metavar="ARCHIVE.zip")
    parser.add_argument(
        "--tsa-roots",
        type=Path,
        metavar="FILE",
        help="check timestamps against these root certificates (PEM) instead of the root the archive carries",
    )
    parser.add_argument(
        "--sidecars",
        type=Path,
        metavar="DIR",
        help="folder holding the timestamp renewals (ARCHIVE.zip.ts-N.tsr and .chain.pem; default: next to the ZIP)",
    )
    parser.add_argument("--json", action="store_true", help="machine-readable report")
    parser.set_defaults(func=cmd_verify)


def cmd_verify(args: argparse.Namespace) -> int:
    """Exit 0 when every archive verifies, 1 when any has a defect."""
    roots = []
    if args.tsa_roots:
        try:
            roots = load_certificates(args.tsa_roots)
        except (OSError, ValueError) as exc:
            return fail(f"--tsa-roots {args.tsa_roots}: {exc}", ExitCode.USAGE)
    reports = [verify_archive(path, tsa_roots=roots, sidecars=args.sidecars) for path in args.archives]
    if args.json:
        print_json([r.to_dict() for r in reports] if len(reports) > 1 else reports[0].to_dict())
    else:
        for report in reports:
            # Everything but the verdict comes from the archive (and its file name): shown literally.
            verdict = ("OK", "bold green") if report.ok else ("DEFECTS FOUND", "bold red")
            console.print(Text.assemble(data(report.archive), ": ", verdict))
            if report.bag_name:
                size = human_bytes(report.payload_bytes)
                console.print(Text.assemble("  bag ", data(report.bag_name),
                                            f": {report.payload_files} payload files, {size}"))  # fmt: skip
            for key in ("External-Identifier", "Course", "Activity", "Bagging-Date", "Retain-Until"):
                if key in report.bag_info:
                    console.print(Text.assemble(f"  {key}: ", data(report.bag_info[key])))
            for check in report.checks:
                mark = ("✓", "green") if check.ok else ("✗", "red")
                console.print(Text.assemble("  ", mark, " ", data(f"{check.name}: {check.detail}")), soft_wrap=True)
            if report.ok and report.proven:
                console.print(Text.assemble("  proven: ", data(report.proven)))
            if report.ok and report.holds_until:
                console.print(Text.assemble("  timestamp checkable until: ", data(report.holds_until),
                                            " (renew before then: archived archives retimestamp)"))  # fmt: skip
    return ExitCode.OK if all(r.ok for r in reports) else ExitCode.FAILURE
