"""Connectors: every event connector with its lane (delivering, retrying, dead letters), the dead letters with their
last error; redeliver a dead letter or send a test event through a connector."""

from __future__ import annotations

from collections.abc import Awaitable, Iterable
from functools import partial
from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult, SystemCommand
from textual.binding import Binding, BindingType
from textual.widgets import DataTable

from archived.protocol.connectors import ConnectorStatus, DeadLetter, DeliveryAttempt
from archived.protocol.errors import ErrorCode, RpcError
from archived_tui.batching import EventBatch
from archived_tui.context import TuiContext
from archived_tui.format import local_time
from archived_tui.safe_text import plain
from archived_tui.screens.base import DaemonScreen
from archived_tui.widgets.live_text import LiveText

CONNECTOR_COLUMNS = ("Connector", "Driver", "Target", "State", "Delivered", "Last delivery")
DEAD_LETTER_COLUMNS = ("Id", "Connector", "Event", "Kind", "Job", "Attempts", "Failed at", "Last error")
DEAD_LETTERS_SHOWN = 200  # newest first; the CLI's `connectors dead-letters --limit` reaches further back
POLL_SECONDS = 5.0  # lanes retry without job events: read them again this often while the screen shows


def lane_state(connector: ConnectorStatus) -> Text:
    """What the connector's lane is doing (retrying an event, or delivering), and its dead letters if any."""
    if connector.retrying_event is not None:
        state = Text(f"retrying event {connector.retrying_event} ({connector.attempts} failed)", style="yellow")
    elif not connector.dead_letters:
        return Text("delivering", style="green")
    else:
        state = Text()
    if connector.dead_letters:
        state.append(" · " if state else "")
        state.append(f"dead letters {connector.dead_letters:,}", style="bold red")
    return state


class ConnectorsScreen(DaemonScreen):
    """The connectors table, their dead letters, and the highlighted dead letter's error and output."""

    NAV_ID = "connectors"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("r", "redeliver", "Redeliver", id="connectors.redeliver"),
        Binding("t", "test_connector", "Test event", id="connectors.test"),
    ]

    DEFAULT_CSS = """
    #connectors-table { height: auto; max-height: 40%; margin-bottom: 1; }
    #dead-letters-table { height: 1fr; }
    #dead-letter-detail { max-height: 10; }
    """

    def __init__(self, ctx: TuiContext) -> None:
        super().__init__(ctx)
        self.connectors: list[ConnectorStatus] = []
        self.dead_letters: list[DeadLetter] = []
        self.dead_letters_total = 0
        self.last_outcome: Text | None = None  # what the last redelivery or test did (or why it was refused)

    def compose_body(self) -> ComposeResult:
        """Status line, connectors, dead letters, the highlighted dead letter."""
        yield LiveText(id="connectors-status", classes="status-line")
        yield DataTable(id="connectors-table", cursor_type="row", zebra_stripes=True)
        yield LiveText(id="dead-letters-title", classes="status-line")
        yield DataTable(id="dead-letters-table", cursor_type="row", zebra_stripes=True)
        yield LiveText(id="dead-letter-detail", classes="panel")

    def on_mount(self) -> None:
        """Columns, titles, and the poll of the lanes."""
        self.query_one("#connectors-table", DataTable).add_columns(*CONNECTOR_COLUMNS)
        self.query_one("#dead-letters-table", DataTable).add_columns(*DEAD_LETTER_COLUMNS)
        self.query_one("#dead-letter-detail").border_title = "Dead letter"
        self.set_interval(POLL_SECONDS, self._poll)

    def _poll(self) -> None:
        if self.is_current and self.link.state.connected:
            self.background(self.reload, group="connectors-reload")

    async def reload(self) -> None:
        """Every connector, then the newest dead letters."""
        listing = await self.link.api.connectors()
        page = await self.link.api.dead_letters(limit=DEAD_LETTERS_SHOWN)
        self.connectors, self.dead_letters, self.dead_letters_total = listing.connectors, page.dead_letters, page.total
        self._fill_connectors()
        self._fill_dead_letters()
        self._update_status()
        self._show_detail()

    def _fill_connectors(self) -> None:
        table = self.query_one("#connectors-table", DataTable)
        row = table.cursor_row
        table.clear()
        for c in self.connectors:
            last = local_time(c.last_delivered_at.timestamp(), self.ctx.tz) if c.last_delivered_at else "never"
            table.add_row(plain(c.name), plain(c.driver), plain(c.target, one_line=True), lane_state(c),
                          f"{c.delivered:,}", last, key=c.name)  # fmt: skip
        if self.connectors:
            table.move_cursor(row=min(max(row, 0), len(self.connectors) - 1))

    def _fill_dead_letters(self) -> None:
        table = self.query_one("#dead-letters-table", DataTable)
        row = table.cursor_row
        table.clear()
        for d in self.dead_letters:
            table.add_row(str(d.id), plain(d.connector), str(d.event_id), plain(d.kind),
                          plain(d.job_id[:8]) if d.job_id else "-", str(d.attempts),
                          local_time(d.failed_at.timestamp(), self.ctx.tz),
                          plain(d.error, "red", one_line=True), key=str(d.id))  # fmt: skip
        if self.dead_letters:
            table.move_cursor(row=min(max(row, 0), len(self.dead_letters) - 1))
        title = Text(f"Dead letters ({self.dead_letters_total:,})", style="bold")
        if self.dead_letters_total > len(self.dead_letters):
            title.append(f", newest {len(self.dead_letters)} shown", style="dim")
        self.query_one("#dead-letters-title", LiveText).update(title)

    def _update_status(self) -> None:
        text = Text(f"{len(self.connectors)} connector(s)", style="bold")
        if not self.connectors:
            text.append(" · none configured ([connectors.NAME] in the daemon's configuration)", style="dim")
        retrying = sum(1 for c in self.connectors if c.retrying_event is not None)
        if retrying:
            text.append(f" · {retrying} retrying", style="yellow")
        text.append(f" · {self.dead_letters_total:,} dead letter(s)", style="bold red" if self.dead_letters_total else
                    "dim")  # fmt: skip
        if self.last_outcome is not None:
            text.append(" · ")
            text.append_text(self.last_outcome)
        self.query_one("#connectors-status", LiveText).update(text)

    @property
    def selected_connector(self) -> ConnectorStatus | None:
        """The highlighted connector."""
        table = self.query_one("#connectors-table", DataTable)
        if 0 <= table.cursor_row < len(self.connectors):
            return self.connectors[table.cursor_row]
        return None

    @property
    def selected_dead_letter(self) -> DeadLetter | None:
        """The highlighted dead letter."""
        table = self.query_one("#dead-letters-table", DataTable)
        if 0 <= table.cursor_row < len(self.dead_letters):
            return self.dead_letters[table.cursor_row]
        return None

    @on(DataTable.RowHighlighted, "#dead-letters-table")
    def _highlighted(self) -> None:
        self._show_detail()

    def _show_detail(self) -> None:
        panel = self.query_one("#dead-letter-detail", LiveText)
        letter = self.selected_dead_letter
        if letter is None:
            panel.border_title = "Dead letter"
            panel.update(Text("No dead letters.", style="dim"))
            return
        panel.border_title = f"Dead letter {letter.id}"
        text = Text.assemble(("connector ", "dim"), plain(letter.connector), ("  event ", "dim"), str(letter.event_id),
                             " ", plain(letter.kind), ("  job ", "dim"), plain(letter.job_id or "-"),
                             ("  attempts ", "dim"), str(letter.attempts), "\n", ("error ", "dim"))  # fmt: skip
        text.append_text(plain(letter.error, "red", newlines=True))
        if letter.output:
            text.append("\noutput ", style="dim")
            text.append_text(plain(letter.output, newlines=True))
        panel.update(text)

    # -- actions ------------------------------------------------------------------------------------------

    def action_redeliver(self) -> None:
        """Try the highlighted dead letter once more, now (operators only)."""
        letter = self.selected_dead_letter
        if letter is None:
            self.notify("No dead letter is highlighted.", severity="warning")
            return
        self.background(partial(self._redeliver, letter), group="connector-action")

    async def _redeliver(self, letter: DeadLetter) -> None:
        what = f"Redeliver dead letter {letter.id}"
        if await self._act(what, self.link.api.redeliver(letter.id)):
            await self.reload()

    def action_test_connector(self) -> None:
        """Send a test event (kind `connector.test`) through the highlighted connector (operators only)."""
        connector = self.selected_connector
        if connector is None:
            self.notify("No connector is highlighted.", severity="warning")
            return
        self.background(partial(self._test, connector.name), group="connector-action")

    async def _test(self, name: str) -> None:
        what = f"Test event to {name}"
        await self._act(what, self.link.api.test_connector(name))

    async def _act(self, what: str, call: Awaitable[DeliveryAttempt]) -> bool:
        """Make the attempt; its outcome, or the daemon's refusal (not an operator, say), goes on the status line
        and into a notice. True if the daemon made the attempt."""
        outcome = plain(f"{what}: ", "bold")
        try:
            result = await call
        except RpcError as exc:
            title = "Not allowed" if exc.code == ErrorCode.PERMISSION_DENIED else "Refused by the daemon"
            outcome.append_text(plain(f"{title.lower()}: {exc.message}", "bold red", one_line=True))
            self.notify(f"{what}: {exc.message}", title=title, severity="error", timeout=10)
            self.last_outcome = outcome
            self._update_status()
            return False
        if result.delivered:
            outcome.append("delivered", style="green")
            self.notify(f"{what}: delivered to {result.connector}.", title="Connectors")
        else:
            outcome.append_text(plain(f"failed: {result.error}", "bold red", one_line=True))
            self.notify(f"{what}: failed: {result.error}", title="Connectors", severity="error", timeout=10)
        self.last_outcome = outcome
        self._update_status()
        return True

    def apply_events(self, batch: EventBatch) -> None:
        """Finished jobs and stored archives are events the connectors deliver: read the lanes again."""
        if batch.finished or batch.storage_writes or batch.created:
            self.background(self.reload, group="connectors-reload")

    def palette_commands(self) -> Iterable[SystemCommand]:
        """Redeliver the highlighted dead letter; send a test event through the highlighted connector."""
        letter = self.selected_dead_letter
        if letter is not None:
            yield SystemCommand(f"connectors: redeliver dead letter {letter.id} ({letter.connector})",
                                "Try it once more, now", self.action_redeliver)  # fmt: skip
        connector = self.selected_connector
        if connector is not None:
            yield SystemCommand(f"connectors: send a test event to {connector.name}",
                                "A connector.test event, not recorded", self.action_test_connector)  # fmt: skip
