"""Storage targets: status, latency, free space, archives and bytes stored (tier and details: below)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from rich.text import Text

from archived.protocol.storage import TargetStatus
from archived_tui.format import human_bytes, usage_text
from archived_tui.safe_text import plain
from archived_tui.widgets.fitted_table import ColumnSpec, FittedTable

COLUMNS = (
    ColumnSpec("name", "Target"),
    ColumnSpec("status", "Status", 13),
    ColumnSpec("latency", "Latency", 8),
    ColumnSpec("free", "Free", 10),
    ColumnSpec("used", "Used", 9),
    ColumnSpec("archives", "Archives", 8),
    ColumnSpec("stored", "Stored", 10),
)
WIDE = (COLUMNS[0], ColumnSpec("driver", "Driver", 9), ColumnSpec("tier", "Tier", 12), *COLUMNS[1:])
WIDE_FROM = 100


def status_text(target: TargetStatus, testing: bool) -> Text:
    """'● ok' / '✖ probe fails' / '✖ unreachable' / '… testing' / '? not tested'."""
    if testing:
        return Text("… testing", style="cyan")
    if not target.probed:
        return Text("? not tested", style="dim")
    if target.healthy:
        return Text("● ok", style="green")
    if target.reachable:
        return Text("✖ probe fails", style="bold red")
    return Text("✖ unreachable", style="bold red")


class TargetTable(FittedTable[TargetStatus]):
    """One row per configured storage target, keyed by name."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.testing: set[str] = set()

    def column_specs(self, width: int) -> Sequence[ColumnSpec]:
        """Driver and tier get columns from `WIDE_FROM` cells on (else they are in the detail panel)."""
        return WIDE if width >= WIDE_FROM else COLUMNS

    def show(self, targets: Iterable[TargetStatus]) -> None:
        """Update every row in place (rows stay where they are, so the cursor does not jump)."""
        for target in targets:
            self.add_item(target.name, target)

    def mark_testing(self, names: Iterable[str]) -> None:
        """Show '… testing' for targets whose probe runs now (or stop showing it: pass the new set)."""
        self.testing = set(names)
        for name, target in self.items.items():
            self.update_item(name, target)

    def cells(self, target: TargetStatus) -> list[object]:
        """One target's row."""
        used = None
        if target.total_bytes is not None and target.free_bytes is not None:
            used = target.total_bytes - target.free_bytes
        not_reported = Text("—" if target.probed else "", style="dim")
        values: dict[str, object] = {
            "name": plain(target.name, "bold", one_line=True),
            "driver": plain(target.driver, "dim"),
            "tier": plain(target.tier, "dim"),
            "status": status_text(target, target.name in self.testing),
            "latency": f"{target.latency_ms:.1f} ms" if target.latency_ms is not None else "",
            "free": human_bytes(target.free_bytes) if target.free_bytes is not None else not_reported,
            "used": usage_text(used, target.total_bytes, width=4) if target.total_bytes else not_reported,
            "archives": Text.assemble(
                f"{target.archives:,}",
                (f" +{target.pending_copies} pending", "yellow") if target.pending_copies else "",
                justify="right",
            ),
            "stored": Text(human_bytes(target.bytes), justify="right"),
        }
        return [values[c.key] for c in self.fitted]

    @property
    def targets(self) -> dict[str, TargetStatus]:
        """The shown targets by name."""
        return self.items

    @property
    def selected(self) -> TargetStatus | None:
        """The target under the cursor."""
        return self.selected_item
