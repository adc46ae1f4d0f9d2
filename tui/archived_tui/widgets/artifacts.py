"""What a job produced: each archive's size, SHA-256, retention, timestamp and stored copies."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import tzinfo

from rich.console import Group, RenderableType
from rich.text import Text

from archived.protocol.copies import PendingCopy
from archived.protocol.jobs import Artifact, StoredLocation
from archived_tui.format import human_bytes, local_time
from archived_tui.job_states import RETRYABLE, TERMINAL
from archived_tui.safe_text import plain
from archived_tui.widgets.safe_static import SafeStatic


class ArtifactList(SafeStatic):
    """Every artifact of a job, with where each copy is stored; one no target confirmed is "built, not stored"."""

    def __init__(self, *, tz: tzinfo | None, id: str | None = None) -> None:
        super().__init__(id=id)
        self._tz = tz

    def show(self, artifacts: Sequence[Artifact], *, job_state: str) -> None:
        """Render the artifacts (or say why there are none)."""
        if not artifacts:
            if job_state == "completed":
                why = "no artifacts recorded"
            elif job_state in TERMINAL:
                why = "the job ended before it built an archive"
            else:
                why = "the job has not built an archive yet"
            self.update(Text(f"No artifacts: {why}.", style="dim"))
            return
        self.update(Group(*(self._artifact(a, job_state) for a in artifacts)))

    def _artifact(self, artifact: Artifact, job_state: str) -> RenderableType:
        if not artifact.locations:
            return self._unstored(artifact, job_state)
        lines = [plain(artifact.name, "bold")]
        facts = Text("  size ", style="dim")
        facts.append(f"{human_bytes(artifact.size)} ({artifact.size:,} bytes)")
        facts.append("   created ", style="dim")
        facts.append(local_time(artifact.created_at, self._tz))
        facts.append("\n  retained until ", style="dim")
        facts.append(local_time(artifact.retain_until, self._tz)[:10] if artifact.retain_until else "not retained")
        lines.append(facts)
        lines.append(Text.assemble(("  SHA-256 ", "dim"), plain(artifact.sha256)))
        lines.append(Text.assemble(("  timestamp ", "dim"), self._timestamp(artifact)))
        lines.append(Text("  stored on", style="dim"))
        lines += [self._location(artifact, loc) for loc in artifact.locations]
        lines += [self._pending(copy) for copy in artifact.pending]
        lines.append(Text(""))
        return Group(*lines)

    def _unstored(self, artifact: Artifact, job_state: str) -> RenderableType:
        """An archive the job built that no storage target confirmed: it is not an archive anyone can rely on."""
        if job_state not in TERMINAL:
            why = "No storage target has confirmed a copy yet."
        else:
            why = f"No storage target confirmed a copy before the job ended {job_state.replace('_', ' ')}."
            if job_state in RETRYABLE:
                why += " Retry the job (r) to store it."
        size = f"{human_bytes(artifact.size)} ({artifact.size:,} bytes)"
        return Group(
            Text.assemble(plain(artifact.name, "bold"), "  ", ("built, not stored", "bold yellow")),
            Text("  " + why, style="yellow"),
            Text.assemble(("  size ", "dim"), size, ("   SHA-256 ", "dim"), plain(artifact.sha256)),
            Text(""),
        )

    def _timestamp(self, artifact: Artifact) -> Text:
        stamp = artifact.timestamp
        if not stamp:
            return Text("not reported by the daemon", style="dim")
        status = str(stamp.get("status", "unknown"))
        style = "green" if status == "ok" else "yellow"
        detail = " ".join(str(stamp[k]) for k in ("tsa", "at") if stamp.get(k))
        return Text.assemble(plain(status, style), plain(f" {detail}" if detail else "", "dim"))

    def _pending(self, copy: PendingCopy) -> Text:
        """A copy an optional target missed, retried by the daemon in the background."""
        when = local_time(copy.next_try_at, self._tz, seconds=True) if copy.next_try_at else "soon"
        return Text.assemble(
            ("    … ", "yellow"), plain(copy.target, "bold"),
            (f"  pending: try {copy.attempts + 1} at {when}", "yellow"),
            ("\n      ", ""), plain(copy.last_error, "dim", newlines=True),
        )  # fmt: skip

    def _location(self, artifact: Artifact, loc: StoredLocation) -> Text:
        if loc.deleted_at is not None:
            return Text.assemble(
                ("    ⊘ ", "yellow"), plain(loc.target, "bold"),
                (f"  deleted {local_time(loc.deleted_at, self._tz, seconds=True)}", "yellow"),
                ("\n      ", ""), plain(loc.location, "dim"),
            )  # fmt: skip
        matches = loc.sha256 == artifact.sha256 and loc.size == artifact.size
        check = "checksum matches" if matches else f"CHECKSUM DIFFERS: {loc.sha256} ({loc.size:,} bytes)"
        return Text.assemble(
            ("    ✔ " if matches else "    ✖ ", "green" if matches else "bold red"),
            plain(loc.target, "bold"),
            plain("  " + check, "green" if matches else "bold red"),
            (f" · stored {local_time(loc.stored_at, self._tz, seconds=True)}", "dim"),
            "\n      ",
            plain(loc.location),
        )
