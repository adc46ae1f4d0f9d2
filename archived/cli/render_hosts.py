"""`archived render-worker` (run a render host) and `archived workers` (the render service and its hosts)."""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
from pathlib import Path

from rich.table import Table
from rich.text import Text

from archived.cli.common import console, print_json, with_client
from archived.cli.daemon import setup_logging
from archived.cli.exit_codes import ExitCode
from archived.cli.safe_text import data
from archived.errors import ConfigError
from archived.protocol import methods as rpc
from archived.protocol.base import NoParams
from archived.rpc.client import RpcClient


def register(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `render-worker` and `workers`."""
    host = commands.add_parser(
        "render-worker",
        help='run this machine as a render host of a Dask cluster ([workers] backend = "dask")',
        description="Start Dask worker processes that render reports for archived daemons. Each process renders one "
        "document at a time, proves its versions and fonts (only daemons with the same fingerprint send it work), "
        "warms up before it joins, and is replaced after --max-tasks tasks or past --memory-limit. "
        "See docs/render-hosts.md.",
    )
    host.add_argument("--scheduler", required=True, help="tls://host:8786 (tcp:// only to a scheduler on this machine)")
    host.add_argument("--tls-ca-file", type=Path, help="CA certificate of the cluster")
    host.add_argument("--tls-cert", type=Path, help="this host's certificate")
    host.add_argument("--tls-key", type=Path, help="this host's private key")
    host.add_argument("--processes", type=int, default=0, help="worker processes (default: one per core)")
    host.add_argument("--max-tasks", type=int, default=500, help="tasks before a process is replaced (default 500)")
    host.add_argument("--memory-limit", default="2GiB", help="per process; past it the process is replaced")
    host.add_argument("--name", default="", help="worker name prefix (default: the host name)")
    host.add_argument("--listen-host", help="address the workers listen on (default: Dask's choice)")
    host.add_argument("--log-level", choices=["debug", "info", "warning", "error"], default="info")
    host.set_defaults(func=cmd_render_worker)

    workers = commands.add_parser(
        "workers", help="the render service: local processes or the cluster's render hosts (slots, busy, versions)"
    )
    workers.add_argument("--json", action="store_true")
    workers.set_defaults(func=cmd_workers)


def cmd_render_worker(args: argparse.Namespace) -> int:
    """Run the render host until SIGTERM or Ctrl-C."""
    from archived_render.render_host import RenderHostSettings, serve

    if importlib.util.find_spec("distributed") is None:  # an optional part: archived[cluster]
        console.print("render hosts need Dask distributed, which is not installed: pip install 'archived[cluster]'")
        return ExitCode.USAGE
    try:
        settings = RenderHostSettings(
            scheduler=args.scheduler,
            tls_ca_file=args.tls_ca_file,
            tls_cert=args.tls_cert,
            tls_key=args.tls_key,
            processes=max(0, args.processes),
            max_tasks=max(1, args.max_tasks),
            memory_limit=args.memory_limit,
            name=args.name,
            listen_host=args.listen_host,
        )
    except ConfigError as exc:
        console.print(Text.assemble(("error: ", "bold red"), data(str(exc))))
        return ExitCode.USAGE
    setup_logging(args.log_level)
    asyncio.run(serve(settings))
    return ExitCode.OK


def cmd_workers(args: argparse.Namespace) -> int:
    """Print the render service; exit 1 when the cluster is unreachable or a worker does not match."""

    async def action(client: RpcClient) -> int:
        status = await client.request(rpc.DAEMON_STATUS, NoParams())
        render = status.render
        if args.json:
            print_json(render)
            return ExitCode.OK
        if render is None:
            console.print("this daemon renders nothing")
            return ExitCode.OK
        busy = f"{render.waiting} waiting" if render.waiting else "none waiting"
        console.print(
            f"render backend: {render.backend}; {render.tasks:,} documents rendered, {render.failures:,} failed, "
            f"{render.retries:,} retries; {busy}"
        )
        local = f"local pool: {render.workers_alive}/{render.processes} processes alive, WeasyPrint {render.weasyprint}"
        console.print(local if render.backend == "local" else f"{local} (the fallback)")
        cluster = render.cluster
        if cluster is None:
            return ExitCode.OK
        state = Text("connected", style="green") if cluster.connected else Text("not connected", style="red")
        fingerprint = f", fingerprint {cluster.fingerprint}"
        console.print(Text.assemble("cluster: ", data(cluster.scheduler), " ", state, fingerprint))
        if cluster.problem:
            console.print(Text.assemble(("  ", ""), data(cluster.problem, newlines=True)))
        table = Table("worker", "host", "slots", "busy", "tasks", "archived", "WeasyPrint", "gets work")
        for worker in cluster.hosts:
            verdict = Text("yes", style="green") if worker.matches else Text("no: ", style="red")
            if not worker.matches:
                verdict.append_text(data("; ".join(worker.differences) or "another fingerprint"))
            table.add_row(
                data(worker.name or worker.address), data(worker.host), str(worker.slots), str(worker.busy),
                str(worker.tasks), data(worker.archived), data(worker.weasyprint), verdict,
            )  # fmt: skip
        if cluster.hosts:
            console.print(table)
        else:
            console.print("no render workers have joined")
        mismatched = any(not w.matches for w in cluster.hosts)
        return ExitCode.FAILURE if mismatched or not cluster.connected else ExitCode.OK

    return with_client(args, action)
