"""Attaching files to a job from the job detail: the dialog asks which files and why; the TUI reads each file as its
own user and sends it over the socket in chunks (`archived.protocol.attachment_upload`, as `archived jobs attach`
does); the daemon checks it and adds it under `data/operator/`, until the job begins packing."""

from __future__ import annotations

import asyncio
from pathlib import Path

from pydantic import ValidationError

from archived.protocol.attachment_upload import FileShrank, send_file, size_and_sha256
from archived.protocol.attachments import ATTACHABLE_STATES, AttachParams, OperatorFile
from archived.protocol.errors import RpcError
from archived.protocol.jobs import JobSummary
from archived.rpc.client import DaemonUnreachable
from archived_tui.dialogs.attach_files import AttachFilesDialog
from archived_tui.format import human_bytes, short_id
from archived_tui.safe_text import visible
from archived_tui.screens.base import DaemonScreen


def may_attach(job: JobSummary) -> bool:
    """Whether the job still takes files: it has not begun packing."""
    return job.state in ATTACHABLE_STATES and not job.deleted


async def attach_files(screen: DaemonScreen, job: JobSummary, *, folder: Path | None = None) -> list[OperatorFile]:
    """Ask which files, then send them one by one; the files the job now holds (stops at the first refusal)."""
    request = await screen.app.push_screen_wait(AttachFilesDialog(job, folder=folder or Path.cwd()))
    if request is None:
        return []
    requests = screen.link.api  # this screen's connection: an upload or a download belongs to the one that opened it
    added: list[OperatorFile] = []
    for path in request.paths:
        try:
            size, sha256 = await asyncio.to_thread(size_and_sha256, path)
            params = AttachParams(job_id=job.id, name=path.name, size=size, sha256=sha256, note=request.note)
            added.append(await send_file(requests, params, path))
        except RpcError as exc:
            reason = exc.message
        except (FileShrank, DaemonUnreachable, OSError) as exc:
            reason = str(exc)
        except ValidationError as exc:
            reason = "; ".join(str(error["msg"]) for error in exc.errors())
        else:
            continue
        done = f" ({len(added)} added before it)" if added else ""
        screen.notify(f"{visible(str(path))}: {visible(reason)}{done}", title="Not attached", severity="error",
                      timeout=10)  # fmt: skip
        return added
    lines = "\n".join(f"{visible(file.path)} ({human_bytes(file.size)})" for file in added)
    screen.notify(f"{lines}\nadded to job {short_id(job.id)}", title="Attached", timeout=8)
    return added
