"""A job's log: the newest lines, live; older pages are loaded on request and put above."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import tzinfo

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.content import Content
from textual.message import Message
from textual.widgets import RichLog

from archived.protocol.jobs import LogEntry
from archived_tui.format import local_time
from archived_tui.safe_text import plain
from archived_tui.widgets.live_text import LiveText

LEVELS = ("debug", "info", "warning", "error")
LEVEL_STYLES = {"debug": "dim", "info": "", "warning": "yellow", "error": "bold red"}


class LogTail(Vertical):
    """Log lines in time order; the first line offers the older page."""

    @dataclass
    class OlderRequested(Message):
        """The user asked for the page before the oldest shown line."""

        before_id: int

    def __init__(self, *, tz: tzinfo | None, id: str | None = None) -> None:
        super().__init__(id=id)
        self._tz = tz
        self.entries: list[LogEntry] = []  # oldest first
        self.has_older = False
        self.min_level = "debug"

    def compose(self) -> ComposeResult:
        """A status line and the log."""
        yield LiveText(id="log-status")
        yield RichLog(wrap=True, min_width=20, auto_scroll=True)

    def show(self, entries_newest_first: Iterable[LogEntry], *, has_older: bool) -> None:
        """Replace everything with the newest page."""
        self.entries = sorted(entries_newest_first, key=lambda e: e.id)
        self.has_older = has_older
        self._rewrite()
        log = self.query_one(RichLog)
        self.call_after_refresh(log.scroll_end, animate=False, immediate=True)

    def prepend(self, older_newest_first: Iterable[LogEntry], *, has_older: bool) -> None:
        """Put an older page above the shown lines (the view moves to the top, where the new lines are)."""
        known = {e.id for e in self.entries}
        older = sorted((e for e in older_newest_first if e.id not in known), key=lambda e: e.id)
        self.entries = older + self.entries
        self.has_older = has_older
        self._rewrite()
        self.query_one(RichLog).scroll_home(animate=False, immediate=True)

    def append(self, live: Iterable[LogEntry]) -> None:
        """Live lines from the event stream (duplicates and lines below the level filter are skipped)."""
        log = self.query_one(RichLog)
        newest = self.entries[-1].id if self.entries else 0
        at_end = log.scroll_y >= log.max_scroll_y - 1
        minimum = LEVELS.index(self.min_level)
        for entry in sorted(live, key=lambda e: e.id):
            if entry.id <= newest or LEVELS.index(entry.level if entry.level in LEVELS else "info") < minimum:
                continue
            self.entries.append(entry)
            newest = entry.id
            log.write(self._line(entry), scroll_end=at_end)
        self._update_status()

    def request_older(self) -> bool:
        """Ask the screen for the page before the oldest line; False if there is none."""
        if not self.has_older or not self.entries:
            return False
        self.post_message(self.OlderRequested(self.entries[0].id))
        return True

    def text(self) -> str:
        """The shown lines as plain text (for tests and copying)."""
        return "\n".join(self._line(e).plain for e in self.entries)

    def _rewrite(self) -> None:
        log = self.query_one(RichLog)
        log.clear()
        for entry in self.entries:
            log.write(self._line(entry), scroll_end=False)
        self._update_status()

    def _update_status(self) -> None:
        count = len(self.entries)
        level = "" if self.min_level == "debug" else f", {self.min_level} and above"
        if self.has_older:
            status = Content.from_markup(
                "$count lines$level · [@click=screen.older_logs]o: load older lines[/]", count=str(count), level=level
            )
        else:
            status = Content.from_markup("$count lines$level · start of the log", count=str(count), level=level)
        self.query_one("#log-status", LiveText).update(status)

    def _line(self, entry: LogEntry) -> Text:
        text = Text(local_time(entry.at, self._tz, seconds=True)[11:], style="dim")
        text.append(f" {entry.level.upper():7} ", style=LEVEL_STYLES.get(entry.level, ""))
        # Log lines quote Moodle (quiz and user names) and errors: literal, control characters visible.
        text.append_text(plain(entry.message, LEVEL_STYLES.get(entry.level, ""), newlines=True))
        return text
