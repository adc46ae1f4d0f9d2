"""People (GDPR requests): every stored archive holding one person's data, and an export of only their files to a
ZIP written by the TUI's own user. Lookups run only when asked (each one is audited by the daemon)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal, TypeVar

from pydantic import BaseModel
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.widgets import DataTable, Input

from archived.protocol import methods as rpc
from archived.protocol.archive_download import DownloadRefused, download_archive
from archived.protocol.archives import ArchiveTransfer
from archived.protocol.methods import MethodSpec
from archived.protocol.people import PeopleExportParams, PeopleFindParams, PeopleFindResult
from archived_tui.context import TuiContext
from archived_tui.format import local_time
from archived_tui.link import DaemonLink
from archived_tui.safe_text import plain
from archived_tui.screens.base import DaemonScreen
from archived_tui.widgets.live_text import LiveText

P = TypeVar("P", bound=BaseModel)
R = TypeVar("R", bound=BaseModel)

COLUMNS = ("Archive", "Job", "Course / activity", "Person", "Attempts", "Matched", "Retained until")


class _Requester:
    """Typed requests over the link (what `download_archive` needs)."""

    def __init__(self, link: DaemonLink) -> None:
        self._link = link

    async def request(self, spec: MethodSpec[P, R], params: P) -> R:
        """One typed call."""
        return spec.decode(await self._link.call(spec.name, spec.encode(params)))


class PeopleScreen(DaemonScreen):
    """A person to look for, the archives holding their data, and where to export it."""

    NAV_ID = "people"

    def __init__(self, ctx: TuiContext) -> None:
        super().__init__(ctx)
        self.result: PeopleFindResult | None = None
        self._requests = _Requester(self.link)

    def compose_body(self) -> ComposeResult:
        """Query, status, matches, export path."""
        yield Input(placeholder="Moodle user id, username or ID number — Enter looks it up", id="people-query")
        yield LiveText(id="people-status", classes="status-line")
        yield DataTable(id="people-table", cursor_type="row", zebra_stripes=True)
        yield Input(placeholder="export to: a new .zip file — Enter exports the person", id="people-export-to")
        yield LiveText(id="people-detail", classes="panel")

    def on_mount(self) -> None:
        """Columns and the panel's title."""
        self.query_one("#people-table", DataTable).add_columns(*COLUMNS)
        self.query_one("#people-detail").border_title = "Not searched / not exported"

    async def reload(self) -> None:
        """Nothing is fetched on its own: every lookup is audited, so only the operator starts one."""

    @on(Input.Submitted, "#people-query")
    def _submitted(self, event: Input.Submitted) -> None:
        if event.value.strip():
            self.background(lambda: self.find(event.value.strip()), group="people")

    async def find(self, query: str) -> None:
        """Look the person up and show every archive holding their data."""
        self.query_one("#people-status", LiveText).update(Text(f"looking up {query} …", style="cyan"))
        result = await self.attempt("Find", self._requests.request(rpc.PEOPLE_FIND, PeopleFindParams(query=query)))
        if result is None:
            return
        self.result = result
        table = self.query_one("#people-table", DataTable)
        table.clear()
        for match in result.matches:
            person = " ".join(f"{match.userid} {match.username} {match.idnumber} {match.firstname} {match.lastname}"
                              .split())  # fmt: skip
            retained = local_time(match.retain_until.timestamp(), self.ctx.tz) if match.retain_until else "forever"
            table.add_row(plain(match.archive), plain(match.job_id[:8]),
                          plain(f"{match.course_name} / {match.activity_name}"), plain(person), str(match.attempts),
                          match.matched, retained)  # fmt: skip
        status = Text(f"{len(result.matches)} archive(s) hold data of ", style="bold")
        status.append_text(plain(query))
        if result.unsearched:
            status.append(f" · {len(result.unsearched)} archive(s) could not be searched", style="bold red")
        self.query_one("#people-status", LiveText).update(status)
        self._show_problems([(u.archive, u.reason) for u in result.unsearched])

    def _show_problems(self, problems: list[tuple[str, str]]) -> None:
        text = Text()
        for archive, reason in problems:
            text.append_text(plain(archive, "bold"))
            text.append(": ")
            text.append_text(plain(reason))
            text.append("\n")
        self.query_one("#people-detail", LiveText).update(text or Text("none", style="dim"))

    @on(Input.Submitted, "#people-export-to")
    def action_export(self) -> None:
        """Export the person looked up to the file named below the table."""
        query = self.query_one("#people-query", Input).value.strip()
        to = self.query_one("#people-export-to", Input).value.strip()
        if not query or not to:
            self.notify("Look a person up and name a new .zip file to export to.", severity="warning")
            return
        self.background(lambda: self.export(query, Path(to).expanduser()), group="people")

    async def export(self, query: str, to: Path) -> None:
        """Have the daemon build the export, then write it to `to` (a new file) as this user."""
        result = await self.attempt(
            "Export", self._requests.request(rpc.PEOPLE_EXPORT, PeopleExportParams(query=query))
        )
        if result is None:
            return
        transfer = ArchiveTransfer(
            transfer_id=result.transfer_id, job_id="", name=result.name, size=result.size, sha256=result.sha256,
            target="", location="", chunk_bytes=result.chunk_bytes,
        )  # fmt: skip
        try:
            written = await download_archive(self._requests, transfer, to)
        except DownloadRefused as exc:
            self.notify(str(exc), title="Export not written", severity="error", timeout=10)
            return
        self._show_problems([(u.archive, u.reason) for u in result.not_exported])
        severity: Literal["warning", "information"] = "warning" if result.not_exported else "information"
        missing = f"; {len(result.not_exported)} archive(s) NOT exported" if result.not_exported else ""
        self.notify(f"user {result.userid}: {len(result.archives)} archive(s) exported to {written}{missing}",
                    title="Export written", severity=severity, timeout=10)  # fmt: skip
