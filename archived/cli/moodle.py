"""`archived moodle check` (is the token good for archiving?) and `archived moodle simulate` (a Moodle on loopback)."""

from __future__ import annotations

import argparse

from archived.cli.common import config_path, console, fail, print_json, run_async
from archived.cli.exit_codes import ExitCode
from archived.config import load_config, read_secret
from archived.errors import ConfigError


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `moodle`."""
    moodle = commands.add_parser("moodle", help="check the Moodle site and token, or run the Moodle simulator")
    sub = moodle.add_subparsers(dest="moodle_command", required=True, metavar="COMMAND")
    check = sub.add_parser(
        "check", help="site, user, missing web-service functions and capabilities, with the fix for each"
    )
    check.add_argument("--json", action="store_true")
    check.set_defaults(func=cmd_check)

    simulate = sub.add_parser("simulate", help="run the built-in Moodle simulator in the foreground")
    simulate.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    simulate.add_argument("--port", type=int, default=0, help="port (default: a free one)")
    simulate.add_argument("--token", help="web-service token to accept (default: derived from the seed)")
    simulate.add_argument("--seed", type=int, default=1, help="seed of the generated data")
    simulate.add_argument(
        "--size", default=None,
        help="generated data on top of the recorded site: a preset (default, small, medium, bench) or "
        "key=value pairs, e.g. courses=3,students=40,attempts=2",
    )  # fmt: skip
    simulate.add_argument("--release", choices=["4.1", "4.5", "5.0"], default="4.5", help="Moodle version profile")
    simulate.set_defaults(func=cmd_simulate)


def cmd_check(args: argparse.Namespace) -> int:
    """Exit 0 when the site is ready for archiving, 1 when something is missing, 3 when unreachable."""
    from archived.moodle.check import check_site, format_check
    from archived.moodle.factory import build_moodle_api

    path = config_path(args)
    if path is None:
        return fail("no configuration: pass --config FILE with a [moodle] section", ExitCode.USAGE)
    try:
        config = load_config(path)
        if config.moodle is None:
            return fail(f"{path} has no [moodle] section", ExitCode.USAGE)
        token = read_secret(file=config.moodle.token_file, env=config.moodle.token_env, what="moodle token")
    except ConfigError as exc:
        return fail(str(exc), ExitCode.USAGE)
    moodle = config.moodle

    async def run() -> int:
        api = build_moodle_api(moodle, token)
        try:
            result = await check_site(api)
        finally:
            await api.client.aclose()
        if args.json:
            print_json(result.to_dict())
        else:
            console.print(format_check(result), markup=False, highlight=False, soft_wrap=True)
        if not result.ok and not getattr(result, "reachable", True):
            return ExitCode.UNREACHABLE
        return ExitCode.OK if result.ok else ExitCode.FAILURE

    return run_async(run())


def cmd_simulate(args: argparse.Namespace) -> int:
    """Serve until Ctrl-C."""
    from archived.simulator.simulator import run_simulator
    from archived.simulator.size import SimulatorSize

    try:
        size = SimulatorSize.parse(args.size) if args.size else None
    except ValueError as exc:
        return fail(str(exc), ExitCode.USAGE)
    run_simulator(host=args.host, port=args.port, token=args.token, seed=args.seed, size=size, release=args.release)
    return ExitCode.OK
