"""Storage: every target with its status, free space, archives and bytes stored; "test now" probes."""

from __future__ import annotations

from collections.abc import Iterable
from functools import partial
from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult, SystemCommand
from textual.binding import Binding, BindingType
from textual.widgets import DataTable

from archived.protocol.storage import TargetStatus
from archived_tui.batching import EventBatch
from archived_tui.context import TuiContext
from archived_tui.format import human_bytes, local_time
from archived_tui.safe_text import plain, plain_content
from archived_tui.screens.base import DaemonScreen
from archived_tui.widgets.live_text import LiveText
from archived_tui.widgets.target_table import TargetTable, status_text


class StorageScreen(DaemonScreen):
    """Targets table and the details of the highlighted target."""

    NAV_ID = "storage"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("t", "test_selected", "Test now", id="storage.test"),
        Binding("a", "test_all", "Test all", id="storage.test_all"),
    ]

    def __init__(self, ctx: TuiContext) -> None:
        super().__init__(ctx)
        self.tested_at: dict[str, float] = {}

    def compose_body(self) -> ComposeResult:
        """Status line, table, details."""
        yield LiveText(id="storage-status", classes="status-line")
        yield TargetTable(id="storage-table")
        yield LiveText(id="storage-detail", classes="panel")

    def on_mount(self) -> None:
        """Panel title."""
        self.query_one("#storage-detail").border_title = "Target"

    @property
    def table(self) -> TargetTable:
        """The targets table."""
        return self.query_one(TargetTable)

    async def reload(self) -> None:
        """Counts at once, then every target's probe."""
        self.table.show(await self.link.api.storage_status(probe=False))
        self._show_detail()
        await self._probe(None, announce=False)

    async def _probe(self, target: str | None, *, announce: bool = True) -> None:
        names = [target] if target else list(self.table.targets)
        self.table.mark_testing(names)
        self._update_status()
        try:
            results = await self.attempt(
                f"Test {target or 'every target'}", self.link.api.storage_status(probe=True, target=target)
            )
        finally:
            self.table.mark_testing(())
        if results is not None:
            now = self.ctx.clock()
            self.tested_at.update((t.name, now) for t in results)
            self.table.show(results)
            failing = [t.name for t in results if not t.healthy]
            if announce:
                if failing:
                    self.notify(f"Failing: {', '.join(failing)}.", title="Storage test", severity="error")
                else:
                    what = target or "every target"
                    self.notify(f"{what}: write, read and delete of a probe passed.", title="Storage test")
        self._update_status()
        self._show_detail()

    def apply_events(self, batch: EventBatch) -> None:
        """A stored archive changes the counts."""
        if batch.storage_writes:
            self.background(self._refresh_counts, group="counts")

    async def _refresh_counts(self) -> None:
        fresh = {t.name: t for t in await self.link.api.storage_status(probe=False)}
        self.table.show(
            [
                t.model_copy(update={"archives": fresh[t.name].archives, "bytes": fresh[t.name].bytes})
                for t in self.table.targets.values()
                if t.name in fresh
            ]
        )
        self._show_detail()

    def _update_status(self) -> None:
        targets = list(self.table.targets.values())
        healthy = sum(1 for t in targets if t.healthy)
        text = Text(f"{len(targets)} targets", style="bold")
        if self.table.testing:
            text.append(f" · testing {', '.join(sorted(self.table.testing))} …", style="cyan")
        elif self.tested_at:
            text.append(f" · {healthy} of {len(targets)} healthy", style="green" if healthy == len(targets) else "red")
            last = max(self.tested_at.values())
            text.append(f" · last test {local_time(last, self.ctx.tz, seconds=True)[11:]}", style="dim")
        total = sum(t.bytes for t in targets)
        text.append(f" · {sum(t.archives for t in targets):,} archives, {human_bytes(total)}", style="dim")
        self.query_one("#storage-status", LiveText).update(text)

    @on(DataTable.RowHighlighted, "#storage-table")
    def _highlighted(self) -> None:
        self._show_detail()

    def _show_detail(self) -> None:
        target = self.table.selected
        detail = self.query_one("#storage-detail", LiveText)
        if target is None:
            detail.update(Text("No storage target is configured.", style="dim"))
            return
        detail.border_title = plain_content(f"Target {target.name}")
        detail.update(_detail_text(target, self.tested_at.get(target.name), self))

    # -- actions ------------------------------------------------------------------------------------------

    def action_test_selected(self) -> None:
        """Probe the highlighted target now."""
        target = self.table.selected
        if target is not None:
            self.background(partial(self._probe, target.name), group="probe")

    def action_test_all(self) -> None:
        """Probe every target now."""
        self.background(partial(self._probe, None), group="probe")

    def palette_commands(self) -> Iterable[SystemCommand]:
        """A test command per target."""
        yield SystemCommand("storage: test every target now", "Write, read and delete a probe", self.action_test_all)
        for name in self.table.targets:
            yield SystemCommand(
                f"storage: test {name} now",
                "Write, read and delete a probe on this target",
                lambda n=name: self.background(partial(self._probe, n), group="probe"),
            )


def _detail_text(target: TargetStatus, tested_at: float | None, screen: StorageScreen) -> Text:
    text = Text.assemble(
        ("driver ", "dim"), plain(target.driver), ("  tier ", "dim"), plain(target.tier),
        ("  required" if target.required else "  optional (a job completes without it)", "dim"), "\n",
        ("status ", "dim"), status_text(target, target.name in screen.table.testing),
    )  # fmt: skip
    if target.latency_ms is not None:
        text.append(f"  latency {target.latency_ms:.1f} ms", style="dim")
    if tested_at is not None:
        text.append(f"  tested {local_time(tested_at, screen.ctx.tz, seconds=True)[11:]}", style="dim")
    text.append("\n")
    if target.probed:
        text.append("space ", style="dim")
        if target.free_bytes is None:
            text.append("free space not reported by this target's driver", style="dim")
        else:
            text.append(f"{human_bytes(target.free_bytes)} free of {human_bytes(target.total_bytes)}")
        text.append("\n")
    text.append("stored ", style="dim")
    text.append(f"{target.archives:,} archives, {human_bytes(target.bytes)}")
    if target.message:
        text.append("\nprobe ", style="dim")
        text.append_text(plain(target.message, "green" if target.healthy else "red", newlines=True))
    return text
