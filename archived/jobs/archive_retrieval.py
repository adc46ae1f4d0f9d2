"""Getting an archive back from storage: from each target that holds a copy (local ones first) until one delivers a
copy that verifies on arrival: the size and SHA-256 the store recorded when the archive was built, then every check
of `archived verify`. A copy that fails is refused, and the refusal names the target and what was wrong."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from archived.archive.verify import verify_archive
from archived.errors import ArchivedError, FatalError
from archived.interfaces.storage import Tier
from archived.store.records import Artifact, StoredLocation
from archived.targets import StorageTarget

log = logging.getLogger("archived.retrieval")

_TIER_ORDER = {Tier.LOCAL: 0, Tier.REMOTE_FAST: 1, Tier.REMOTE_SLOW: 2}


@dataclass(frozen=True)
class Refusal:
    """A copy that was not taken, and why."""

    target: str
    reason: str


@dataclass
class RetrievedArchive:
    """A verified copy in a file of the daemon's own (the caller moves or removes it)."""

    path: Path
    target: str
    location: str
    checks: list[str] = field(default_factory=list)
    refused: list[Refusal] = field(default_factory=list)


class ArchiveUnavailable(FatalError):
    """No target delivered a copy that verifies; the message names every target tried and why not it."""

    code = "archive_unavailable"


def copies_in_order(
    artifact: Artifact, targets: dict[str, StorageTarget], *, only: str | None = None, skip: str | None = None
) -> list[StoredLocation]:
    """The live copies to try: on `only`, else every one but `skip`'s, the fastest tier first."""
    live = [loc for loc in artifact.locations if loc.deleted_at is None]
    if only is not None:
        return [loc for loc in live if loc.target == only]

    def rank(loc: StoredLocation) -> tuple[int, str]:
        target = targets.get(loc.target)
        return (_TIER_ORDER.get(target.tier, 3) if target else 3, loc.target)

    return sorted((loc for loc in live if loc.target != skip), key=rank)


async def retrieve_verified(
    artifact: Artifact,
    targets: dict[str, StorageTarget],
    folder: Path,
    *,
    only: str | None = None,
    skip: str | None = None,
) -> RetrievedArchive:
    """Fetch `artifact` into a new file in `folder` from the first target whose copy verifies."""
    copies = copies_in_order(artifact, targets, only=only, skip=skip)
    if only is not None and not copies:
        held = ", ".join(sorted(loc.target for loc in artifact.locations if loc.deleted_at is None)) or "none"
        raise ArchiveUnavailable(f"{artifact.name} has no copy on target {only!r} (copies: {held})")
    if not copies:
        raise ArchiveUnavailable(f"{artifact.name} has no stored copy to read back")
    refused: list[Refusal] = []
    await asyncio.to_thread(folder.mkdir, parents=True, exist_ok=True)
    for copy in copies:
        target = targets.get(copy.target)
        if target is None:
            refused.append(Refusal(copy.target, "the target is no longer configured"))
            continue
        fd, name = tempfile.mkstemp(prefix=".retrieve-", suffix=".zip", dir=folder)
        os.close(fd)
        path = Path(name)
        try:
            problem = await _fetch(target, copy.location, path, artifact)
            checks: list[str] = []
            if problem is None:
                report = await asyncio.to_thread(verify_archive, path)
                checks = [f"{c.name}: {c.detail}" if c.detail else c.name for c in report.checks]
                if not report.ok:
                    problem = "the copy fails verification: " + "; ".join(report.defects)
        except BaseException:
            _remove(path)
            raise
        if problem is not None:
            _remove(path)
            refused.append(Refusal(copy.target, problem))
            continue
        return RetrievedArchive(path, copy.target, copy.location, [f"sha256 as recorded: {artifact.sha256}", *checks],
                                refused)  # fmt: skip
    reasons = "; ".join(f"{r.target}: {r.reason}" for r in refused)
    raise ArchiveUnavailable(f"no target delivered a copy of {artifact.name} that verifies ({reasons})")


def _remove(path: Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)


async def _fetch(target: StorageTarget, location: str, path: Path, artifact: Artifact) -> str | None:
    """Stream one copy into `path`; what is wrong with it (or None when its size and SHA-256 are the recorded)."""
    digest = hashlib.sha256()
    size = 0
    try:
        with path.open("wb") as out:
            stream = target.driver.retrieve(location)
            try:
                async for chunk in stream:
                    size += len(chunk)
                    if size > artifact.size:
                        return f"the copy at {location} holds more than the recorded {artifact.size} bytes"
                    digest.update(chunk)
                    await asyncio.to_thread(out.write, chunk)
            finally:
                with contextlib.suppress(Exception):
                    await stream.aclose()  # type: ignore[attr-defined]
            await asyncio.to_thread(os.fsync, out.fileno())
    except ArchivedError as exc:
        return f"could not read {location}: {exc}"
    except OSError as exc:
        return f"could not read {location}: {exc.strerror or exc}"
    except Exception as exc:  # a driver's bug must not keep the next target from being tried
        log.exception("reading %s from %s failed unexpectedly", location, target.name)
        return f"could not read {location}: {type(exc).__name__}: {exc}"
    if size != artifact.size or digest.hexdigest() != artifact.sha256:
        return (
            f"the copy at {location} has {size} bytes, sha256 {digest.hexdigest()}; the store recorded "
            f"{artifact.size} bytes, sha256 {artifact.sha256}"
        )
    return None
