"""Render hosts: where the daemon renders its reports. With `[workers] backend = "dask"`, the cluster's workers with
their slots, load and versions, and whether each gets work (its versions and fonts match the daemon's); with the
local default, the daemon's own render processes and how to add hosts."""

from __future__ import annotations

from collections.abc import Iterable
from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult, SystemCommand
from textual.binding import Binding, BindingType
from textual.widgets import DataTable

from archived.protocol.daemon import DaemonStatus, RenderCluster, RenderHost, RenderStatus
from archived_tui.context import TuiContext
from archived_tui.safe_text import plain
from archived_tui.screens.base import DaemonScreen
from archived_tui.widgets.live_text import LiveText

WORKER_COLUMNS = ("Worker", "Host", "Slots", "Busy", "Tasks", "archived", "WeasyPrint", "Gets work")
POLL_SECONDS = 5.0  # workers join, leave and take work without job events: read the status again this often
SET_UP_GUIDE = "docs/render-hosts.md"


def gets_work(host: RenderHost) -> Text:
    """'yes', or 'no: <how its fingerprint differs from the daemon's>' in red."""
    if host.matches:
        return Text("yes", style="green")
    verdict = Text("no: ", style="bold red")
    verdict.append_text(plain("; ".join(host.differences) or "another fingerprint", "red", one_line=True))
    return verdict


def _mismatch(hosts: list[RenderHost]) -> Text:
    """'1 worker does not match: fonts' (what differs, over every such worker; the screen has the details)."""
    noun = "worker does not" if len(hosts) == 1 else "workers do not"
    subjects = dict.fromkeys(_subject(d) for h in hosts for d in h.differences or ["another fingerprint"])
    return plain(f"{len(hosts)} {noun} match: {', '.join(subjects)}", "bold red")


def _subject(difference: str) -> str:
    """What a difference is about: 'fonts: 1 files (…) ≠ 22 files (…)' → 'fonts', 'weasyprint 70.0 ≠ 69.1' →
    'weasyprint'; one without a value pair as it is."""
    if "≠" not in difference:
        return difference
    return difference.split(":")[0].split(" ")[0]


def connection_text(cluster: RenderCluster) -> Text:
    """Connected (green), not connected with the daemon's problem (red), or still connecting (the daemon started)."""
    if cluster.connected:
        return Text("connected", style="green")
    if cluster.problem:
        return plain(f"not connected: {cluster.problem}", "bold red")
    return Text("connecting…", style="yellow")


def render_hosts_line(render: RenderStatus | None, *, scheduler: bool = True) -> Text | None:
    """The dashboard's line about the render hosts (`scheduler`: ending with its address); None unless the daemon
    renders on a cluster."""
    if render is None or render.backend != "dask":
        return None
    line = Text("Render hosts ", style="dim")
    cluster = render.cluster
    if cluster is None:
        line.append("not reported by the daemon", style="yellow")
        return line
    if not cluster.connected:
        line.append_text(connection_text(cluster))
        line.append(" · ", style="dim")
        line.append_text(plain(cluster.scheduler, "dim"))
        return line
    hosts = cluster.hosts
    matching = [h for h in hosts if h.matches]
    others = [h for h in hosts if not h.matches]
    if not hosts:
        line.append("none joined", style="bold red")
    else:
        line.append(f"{len(matching)}/{len(hosts)} matching", style="bold red" if others else "bold green")
        if others:
            line.append(" · ", style="dim")
            line.append_text(_mismatch(others))
        slots = sum(h.slots for h in matching)
        line.append(f" · {sum(h.busy for h in matching)}/{slots} slots busy")
    if scheduler:
        line.append(" · ", style="dim")
        line.append_text(plain(cluster.scheduler, "dim"))
    return line


class RenderHostsScreen(DaemonScreen):
    """The render service: backend, connection, fingerprint and counters; the workers; the highlighted worker."""

    NAV_ID = "render_hosts"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("m", "toggle_mismatched", "Only mismatched", id="render_hosts.mismatched"),
    ]

    DEFAULT_CSS = """
    #render-status { height: auto; }
    #render-workers { height: 1fr; }
    #render-worker-detail { max-height: 12; }
    """

    def __init__(self, ctx: TuiContext) -> None:
        super().__init__(ctx)
        self.status: DaemonStatus | None = None
        self.only_mismatched = False  # `m`: hide the workers that get work
        self.hosts_shown: list[RenderHost] = []  # the rows, in table order

    def compose_body(self) -> ComposeResult:
        """Status panel, the workers, the highlighted worker."""
        yield LiveText(id="render-status", classes="panel")
        yield DataTable(id="render-workers", cursor_type="row", zebra_stripes=True)
        yield LiveText(id="render-worker-detail", classes="panel")

    def on_mount(self) -> None:
        """Columns, titles, and the poll of the status."""
        self.query_one("#render-workers", DataTable).add_columns(*WORKER_COLUMNS)
        self.query_one("#render-status").border_title = "Render service"
        self.query_one("#render-worker-detail").border_title = "Worker"
        self.set_interval(POLL_SECONDS, self._poll)

    def _poll(self) -> None:
        if self.is_current and self.link.state.connected:
            self.background(self.reload, group="render-hosts-reload")

    async def reload(self) -> None:
        """The daemon's status (its `render` part is what this screen shows)."""
        self.status = await self.link.api.daemon_status()
        self._show()

    @property
    def render_status(self) -> RenderStatus | None:
        """The render service as last read (None: the daemon renders nothing)."""
        return self.status.render if self.status is not None else None

    @property
    def cluster(self) -> RenderCluster | None:
        """The cluster as last read (None with the local backend)."""
        render = self.render_status
        return render.cluster if render is not None and render.backend == "dask" else None

    def _show(self) -> None:
        self._show_status()
        table = self.query_one("#render-workers", DataTable)
        cluster = self.cluster
        table.display = cluster is not None
        self.query_one("#render-worker-detail").display = cluster is not None
        if cluster is None:
            return
        hosts = [h for h in cluster.hosts if not (self.only_mismatched and h.matches)]
        row = table.cursor_row
        table.clear()
        for h in hosts:
            table.add_row(plain(h.name or h.address), plain(h.host), str(h.slots), str(h.busy), f"{h.tasks:,}",
                          plain(h.archived or "?"), plain(h.weasyprint or "?"), gets_work(h),
                          key=h.address)  # fmt: skip
        self.hosts_shown = hosts
        if hosts:
            table.move_cursor(row=min(max(row, 0), len(hosts) - 1))
        self._show_detail()

    def _show_status(self) -> None:
        panel = self.query_one("#render-status", LiveText)
        status, render = self.status, self.render_status
        if status is None or render is None:
            panel.update(Text("This daemon renders nothing.", style="dim"))
            return
        text = Text("Backend ", style="dim")
        text.append(render.backend, style="bold")
        cluster = self.cluster
        if cluster is None:
            text.append(" · this daemon renders locally: ", style="dim")
            text.append(f"{render.workers_alive}/{render.processes} processes alive", style="bold")
            text.append(" · WeasyPrint ", style="dim")
            text.append_text(plain(render.weasyprint or "?"))
        else:
            text.append(" · scheduler ", style="dim")
            text.append_text(plain(cluster.scheduler, "bold"))
            text.append(" · ")
            text.append_text(connection_text(cluster))
            text.append("\nFingerprint ", style="dim")
            text.append_text(plain(cluster.fingerprint or "?", "bold"))
            text.append_text(plain(f" of this daemon (archived {status.version}, its PDF libraries and fonts): only "
                                   "workers with the same get work", "dim"))  # fmt: skip
            summary = render_hosts_line(render, scheduler=False)
            if cluster.connected and summary is not None:
                text.append("\n")
                text.append_text(summary)
        text.append("\nDocuments ", style="dim")
        text.append(f"{render.tasks:,} rendered", style="bold")
        text.append(f" · {render.failures:,} failed", style="bold red" if render.failures else "")
        text.append(f" · {render.retries:,} retries · {render.waiting:,} waiting")
        if render.worker_restarts:
            text.append(f" · {render.worker_restarts:,} workers restarted", style="yellow")
        if cluster is None:
            text.append(
                '\nTo render on other machines: [workers] backend = "dask" and [workers.dask] scheduler in the '
                f"daemon's configuration, and `archived render-worker` on each host (see {SET_UP_GUIDE}).",
                style="dim",
            )
        else:
            fallback = f"{render.workers_alive}/{render.processes} processes alive"
            text.append(f"\nLocal pool (the fallback): {fallback}, WeasyPrint ", style="dim")
            text.append_text(plain(render.weasyprint or "?", "dim"))
        panel.update(text)

    @property
    def selected_worker(self) -> RenderHost | None:
        """The highlighted worker."""
        table = self.query_one("#render-workers", DataTable)
        if 0 <= table.cursor_row < len(self.hosts_shown):
            return self.hosts_shown[table.cursor_row]
        return None

    @on(DataTable.RowHighlighted, "#render-workers")
    def _highlighted(self) -> None:
        self._show_detail()

    def _show_detail(self) -> None:
        panel = self.query_one("#render-worker-detail", LiveText)
        worker = self.selected_worker
        cluster = self.cluster
        if worker is None:
            panel.border_title = "Worker"
            empty = "No worker has joined the scheduler." if cluster is not None and not cluster.hosts else ""
            if cluster is not None and not cluster.connected:
                empty = "No workers known: the daemon is not connected to the scheduler."
            if self.only_mismatched and cluster is not None and cluster.hosts:
                empty = "Every worker matches the daemon (m shows them all)."
            panel.update(Text(empty or "No worker.", style="dim"))
            return
        panel.border_title = f"Worker {worker.name or worker.address}"
        text = Text.assemble(("address ", "dim"), plain(worker.address), ("  host ", "dim"), plain(worker.host),
                             ("  slots ", "dim"), str(worker.slots), ("  busy ", "dim"), str(worker.busy),
                             ("  tasks ", "dim"), f"{worker.tasks:,}", "\n")  # fmt: skip
        if worker.matches:
            text.append("Same versions and fonts as the daemon: it gets work.", style="green")
        else:
            text.append("Gets no work from this daemon; how it differs (the worker's ≠ the daemon's):", style="red")
            for difference in worker.differences or ["another fingerprint"]:
                text.append("\n  ")
                text.append_text(plain(difference, "red"))
        panel.update(text)

    # -- actions ------------------------------------------------------------------------------------------

    def action_toggle_mismatched(self) -> None:
        """Show only the workers that get no work, or all of them again."""
        self.only_mismatched = not self.only_mismatched
        self._show()

    def palette_commands(self) -> Iterable[SystemCommand]:
        """Filter the workers."""
        if self.cluster is None:
            return
        if self.only_mismatched:
            yield SystemCommand("render hosts: show every worker", "Also those that get work",
                                self.action_toggle_mismatched)  # fmt: skip
        else:
            yield SystemCommand("render hosts: show only the workers that do not match",
                                "Those with other versions or fonts: they get no work",
                                self.action_toggle_mismatched)  # fmt: skip
