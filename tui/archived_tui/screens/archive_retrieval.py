"""Retrieving a job's archive from storage, for the job detail: the dialog asks where and from which target; the
daemon fetches the archive and verifies it; the TUI writes the verified bytes, as the TUI's own user, to a new file."""

from __future__ import annotations

from pathlib import Path

from archived.protocol import methods as rpc
from archived.protocol.archive_download import DownloadRefused, destination, download_archive
from archived.protocol.archives import GetArchiveParams
from archived.protocol.errors import RpcError
from archived.protocol.jobs import Artifact, JobView
from archived_tui.dialogs.retrieve_archive import RetrieveArchiveDialog
from archived_tui.format import short_id
from archived_tui.safe_text import visible
from archived_tui.screens.base import DaemonScreen


def stored_artifact(view: JobView) -> Artifact | None:
    """The job's archive that has a copy to retrieve."""
    return next((a for a in view.artifacts if any(loc.deleted_at is None for loc in a.locations)), None)


async def retrieve_archive(screen: DaemonScreen, view: JobView, *, folder: Path | None = None) -> Path | None:
    """Ask where, then have the daemon fetch and verify the job's archive and write it there; the written path."""
    artifact = stored_artifact(view)
    if artifact is None:
        screen.notify(f"Job {short_id(view.job.id)} has no stored archive to retrieve.", title="Retrieve")
        return None
    request = await screen.app.push_screen_wait(RetrieveArchiveDialog(artifact, folder=folder or Path.cwd()))
    if request is None:
        return None
    requests = screen.link.api  # this screen's connection: an upload or a download belongs to the one that opened it
    what = f"Retrieve {short_id(view.job.id)}"
    params = GetArchiveParams(archive=view.job.id, from_target=request.target)
    transfer = await screen.attempt(what, requests.request(rpc.ARCHIVES_GET, params))
    if transfer is None:
        return None
    try:
        written = await download_archive(requests, transfer, destination(request.path, transfer.name))
    except (DownloadRefused, RpcError, OSError) as exc:
        screen.notify(f"{what}: {exc}", title="Not retrieved", severity="error", timeout=10)
        return None
    passed_over = "".join(f"\nnot from {r.target}: {r.reason}" for r in transfer.refused)
    screen.notify(f"{visible(transfer.name)} from {transfer.target}, verified; written to {written}{passed_over}",
                  title="Retrieved", timeout=10)  # fmt: skip
    return written
