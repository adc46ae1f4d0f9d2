"""Recent failures grouped by reason (error code): how many, the latest, an example; enter jumps to them."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import tzinfo

from rich.text import Text
from textual.message import Message

from archived.protocol.jobs import JobSummary
from archived_tui.format import compact_time
from archived_tui.safe_text import plain
from archived_tui.widgets.fitted_table import ColumnSpec, FittedTable

COLUMNS = (
    ColumnSpec("code", "Reason", 24),
    ColumnSpec("count", "Jobs", 7),
    ColumnSpec("latest", "Latest", 11),
    ColumnSpec("example", "Example", weight=1),
)
NO_CODE = "(no error code)"


@dataclass
class FailureGroup:
    """Failed jobs that share an error code."""

    code: str
    jobs: list[JobSummary] = field(default_factory=list)

    @property
    def latest(self) -> JobSummary:
        """The most recent failure of the group (jobs are kept newest first)."""
        return self.jobs[0]


def group_failures(jobs: Iterable[JobSummary]) -> list[FailureGroup]:
    """Groups by error code, the largest first (ties: the most recent first); `jobs` come newest first."""
    groups: dict[str, FailureGroup] = {}
    for job in jobs:
        code = job.error_code or NO_CODE
        groups.setdefault(code, FailureGroup(code)).jobs.append(job)
    order = list(groups)
    return sorted(groups.values(), key=lambda g: (-len(g.jobs), order.index(g.code)))


class FailureTable(FittedTable[FailureGroup]):
    """One row per reason; enter posts `Chosen` with the error code."""

    @dataclass
    class Chosen(Message):
        """The operator chose a reason: show its failed jobs."""

        error_code: str | None

    def __init__(self, *, tz: tzinfo | None, id: str | None = None) -> None:
        super().__init__(id=id)
        self._tz = tz

    def column_specs(self, width: int) -> Sequence[ColumnSpec]:
        """Always the same four columns."""
        return COLUMNS

    def show_groups(self, groups: Sequence[FailureGroup]) -> None:
        """Replace the rows."""
        self.replace_items([(group.code, group) for group in groups])

    def cells(self, group: FailureGroup) -> list[object]:
        """One reason's row."""
        job = group.latest
        example = f"{job.activity_label} · {job.course_label}"
        if job.error_message:
            example += f": {job.error_message}"
        return [
            plain(group.code, "bold red" if group.code != NO_CODE else "dim", one_line=True),
            Text(f"{len(group.jobs):,}", justify="right"),
            compact_time(job.finished_at or job.created_at, self._tz),
            plain(example, one_line=True),
        ]

    def on_data_table_row_selected(self, event: FittedTable.RowSelected) -> None:
        """Enter or click on a reason shows its failed jobs."""
        event.stop()
        code = str(event.row_key.value) if event.row_key.value is not None else None
        self.post_message(self.Chosen(None if code == NO_CODE else code))

    @property
    def selected(self) -> FailureGroup | None:
        """The reason under the cursor."""
        return self.selected_item
