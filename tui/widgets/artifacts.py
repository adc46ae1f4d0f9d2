"""What a job produced: each archive's size, SHA-256, retention, timestamp and stored copies."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import tzinfo

from rich.console import Group, RenderableType
from rich.text import Text
from textual.widgets import Static

from archived.tui.format import human_bytes, local_time
from archived.tui.models import Artifact, StoredLocation


class ArtifactList(Static):
    """Every artifact of a job, with where each copy is stored."""

    def __init__(self, *, tz: tzinfo | None, id: str | None = None) -> None:
        super().__init__(id=id)
        self._tz = tz

    def show(self, artifacts: Sequence[Artifact], *, job_state: str) -> None:
        """Render the artifacts (or say why there are none)."""
        if not artifacts:
            why = "the job has not stored anything yet" if job_state != "completed" else "no artifacts recorded"
            self.update(Text(f"No artifacts: {why}.", style="dim"))
            return
        self.update(Group(*(self._artifact(a) for a in artifacts)))

    def _artifact(self, artifact: Artifact) -> RenderableType:
        lines = [Text(artifact.name, style="bold")]
        facts = Text("  size ", style="dim")
        facts.append(f"{human_bytes(artifact.size)} ({artifact.size:,} bytes)")
        facts.append("   created ", style="dim")
        facts.append(local_time(artifact.created_at, self._tz))
        facts.append("\n  retained until ", style="dim")
        facts.append(local_time(artifact.retain_until, self._tz)[:10] if artifact.retain_until else "not retained")
        lines.append(facts)
        lines.append(Text.assemble(("  SHA-256 ", "dim"), (artifact.sha256, "")))
        lines.append(Text.assemble(("  timestamp ", "dim"), self._timestamp(artifact)))
        lines.append(Text("  stored on", style="dim"))
        if not artifact.locations:
            lines.append(Text("    nowhere yet", style="yellow"))
        lines += [self._location(artifact, loc) for loc in artifact.locations]
        lines.append(Text(""))
        return Group(*lines)

    def _timestamp(self, artifact: Artifact) -> Text:
        stamp = artifact.timestamp
        if not stamp:
            return Text("not reported by the daemon", style="dim")
        status = str(stamp.get("status", "unknown"))
        style = "green" if status == "ok" else "yellow"
        detail = " ".join(str(stamp[k]) for k in ("tsa", "at") if stamp.get(k))
        return Text.assemble((status, style), (f" {detail}" if detail else "", "dim"))

    def _location(self, artifact: Artifact, loc: StoredLocation) -> Text:
        if loc.deleted_at is not None:
            return Text.assemble(
                ("    ⊘ ", "yellow"), (loc.target, "bold"),
                (f"  deleted {local_time(loc.deleted_at, self._tz, seconds=True)}", "yellow"),
                ("\n      ", ""), (loc.location, "dim"),
            )  # fmt: skip
        matches = loc.sha256 == artifact.sha256 and loc.size == artifact.size
        check = "checksum matches" if matches else f"CHECKSUM DIFFERS: {loc.sha256} ({loc.size:,} bytes)"
        return Text.assemble(
            ("    ✔ " if matches else "    ✖ ", "green" if matches else "bold red"),
            (loc.target, "bold"),
            ("  " + check, "green" if matches else "bold red"),
            (f" · stored {local_time(loc.stored_at, self._tz, seconds=True)}", "dim"),
            "\n      ",
            loc.location,
        )
