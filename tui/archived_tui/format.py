"""How the TUI writes numbers, times, states and bars: one place, so every screen looks the same."""

from __future__ import annotations

from datetime import UTC, datetime, tzinfo

from rich.text import Text

from archived_tui.job_states import state_icon, state_style

BAR_FULL = "█"
BAR_PARTIALS = " ▏▎▍▌▋▊▉"


def human_bytes(value: float | None) -> str:
    """1536 → '1.5 KiB'; None → 'unknown'."""
    if value is None:
        return "unknown"
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if abs(value) < 1024 or unit == "TiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} PiB"  # pragma: no cover - the loop returns at TiB


def human_duration(seconds: float | None) -> str:
    """75 → '1m15s'; None → ''."""
    if seconds is None:
        return ""
    if seconds < 10:
        return f"{seconds:.1f}s"
    whole = int(seconds)
    if whole < 60:
        return f"{whole}s"
    if whole < 3600:
        return f"{whole // 60}m{whole % 60:02d}s"
    if whole < 86400:
        return f"{whole // 3600}h{(whole % 3600) // 60:02d}m"
    return f"{whole // 86400}d{(whole % 86400) // 3600:02d}h"


def local_time(moment: datetime | float | None, tz: tzinfo | None, *, seconds: bool = False) -> str:
    """'2026-11-28 08:03' in the display time zone (None → '')."""
    if moment is None:
        return ""
    if isinstance(moment, int | float):
        moment = datetime.fromtimestamp(moment, UTC)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    shown = moment.astimezone(tz)
    return shown.strftime("%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M")


def compact_time(moment: datetime | None, tz: tzinfo | None) -> str:
    """'11-28 08:03': month, day and time, for narrow table columns."""
    return local_time(moment, tz)[5:]


def short_id(job_id: str) -> str:
    """The first eight hex digits of a job UUID (the daemon accepts unique prefixes)."""
    return job_id[:8]


def state_text(state: str) -> Text:
    """A job state with its icon and colour (the icon keeps it readable without colours)."""
    return Text(f"{state_icon(state)} {state.replace('_', ' ')}", style=state_style(state))


# Short state names for the narrow column (the detail screen shows the full names).
SHORT_STATES = {
    "activity_archiving": "archiving",
    "post_processing": "packing",
    "recoverable_error": "retrying",
    "error_handling": "failing",
    "uninitialized": "new",
    "timed_out": "timed out",
}


def short_state_text(state: str) -> Text:
    """A job state in at most 11 cells, for narrow columns."""
    return Text(f"{state_icon(state)} {SHORT_STATES.get(state, state.replace('_', ' '))}", style=state_style(state))


def bar(fraction: float, width: int) -> str:
    """A horizontal bar of `width` cells filled to `fraction` (0..1), with eighth-cell resolution."""
    fraction = min(1.0, max(0.0, fraction))
    eighths = round(fraction * width * 8)
    full, rest = divmod(eighths, 8)
    text = BAR_FULL * full + (BAR_PARTIALS[rest] if rest and full < width else "")
    return text.ljust(width)


def progress_text(percent: float, width: int = 10) -> Text:
    """'██████▍    45%': a progress bar with its number."""
    text = Text(bar(percent / 100, width), style="green")
    text.append(f" {percent:3.0f}%", style="bold")
    return text


def usage_text(used: int | None, total: int | None, width: int = 12) -> Text:
    """A usage bar for storage with the percentage used; yellow beyond 75 %, red beyond 90 %."""
    if used is None or not total:
        return Text("unknown", style="dim")
    fraction = used / total
    style = "red" if fraction > 0.9 else "yellow" if fraction > 0.75 else "green"
    text = Text(bar(fraction, width), style=style)
    text.append(f" {fraction * 100:3.0f}%", style="dim")
    return text


def reachability_text(reachable: bool | None, latency_ms: float | None = None) -> Text:
    """'● reachable 1.2 ms' / '✖ unreachable' / '? not checked'."""
    if reachable is None:
        return Text("? not checked", style="dim")
    if not reachable:
        return Text("✖ unreachable", style="bold red")
    text = Text("● reachable", style="green")
    if latency_ms is not None:
        text.append(f" {latency_ms:.1f} ms", style="dim")
    return text
