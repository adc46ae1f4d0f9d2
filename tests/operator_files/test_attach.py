"""`archived jobs attach`: files an operator adds to a job before it is packed, through a real daemon process.

The files travel over the socket in chunks (the CLI reads them as the operator), land under `data/operator/` of the
archive with `operator-files.json` saying who added each, when and why, and are in the bag's manifests. Once a job
has been packed, the daemon refuses.
"""

from __future__ import annotations

import base64
import getpass
import hashlib
import json
import zipfile
from pathlib import Path

import pytest

from archived.protocol.attachments import ATTACH_CHUNK_BYTES
from archived.protocol.errors import RpcError
from tests.cli.test_cli import run
from tests.support.jobs import TERMINAL, create_job, wait_for_state

pytestmark = pytest.mark.slow


def archive_of(daemon, client_detail: dict) -> Path:
    locations = [loc["location"] for artifact in client_detail["artifacts"] for loc in artifact["locations"]]
    assert len(locations) == 1, locations
    return daemon.root / "archive" / locations[0]


async def test_files_attached_before_packing_are_in_the_archive_and_refused_after(daemon, tmp_path: Path) -> None:
    seating = tmp_path / "Sitzplan Hörsaal 1.pdf"
    seating.write_bytes(b"%PDF-1.7 seating plan\n" + bytes(range(256)) * 9000)  # more than one chunk
    assert seating.stat().st_size > ATTACH_CHUNK_BYTES
    protocol = tmp_path / "protocol.txt"
    protocol.write_text("Exam protocol: no incidents.\n")

    async with daemon.client() as client:
        job_id = await create_job(client, files=60, delay_seconds=0.25)
        await wait_for_state(client, job_id, {"activity_archiving"})
        added = run("jobs", "attach", job_id, str(seating), str(protocol), "--note", "signed by the invigilator",
                    socket=daemon.socket)  # fmt: skip
        assert added.returncode == 0, added.stderr
        assert "operator/Sitzplan_Hoersaal_1.pdf" in added.stdout and "operator/protocol.txt" in added.stdout
        job = await wait_for_state(client, job_id, TERMINAL, timeout=180)
        assert job["state"] == "completed", job
        detail = await client.call("jobs.get", {"job_id": job_id})

    archive = archive_of(daemon, detail)
    with zipfile.ZipFile(archive) as bag:
        top = bag.namelist()[0].split("/")[0]
        assert bag.read(f"{top}/data/operator/Sitzplan_Hoersaal_1.pdf") == seating.read_bytes()
        assert bag.read(f"{top}/data/operator/protocol.txt") == protocol.read_bytes()
        index = json.loads(bag.read(f"{top}/data/operator/operator-files.json"))
        manifest = bag.read(f"{top}/manifest-sha256.txt").decode()
    assert [f["name"] for f in index["files"]] == ["Sitzplan_Hoersaal_1.pdf", "protocol.txt"]
    for entry in index["files"]:
        assert entry["note"] == "signed by the invigilator"
        assert entry["added_by"]["kind"] == "operator" and entry["added_by"]["name"] == getpass.getuser()
        assert entry["added_at"].endswith("Z")
        assert f"{entry['sha256']}  data/{entry['path']}" in manifest
    verified = run("verify", str(archive))
    assert verified.returncode == 0, verified.stdout + verified.stderr

    late = run("jobs", "attach", job_id, str(protocol), socket=daemon.socket)
    assert late.returncode == 6, late.stdout + late.stderr  # refused: the job was packed
    assert "before it is packed" in late.stderr


async def test_an_upload_whose_bytes_differ_from_its_checksum_is_not_added(daemon) -> None:
    async with daemon.client() as client:
        job_id = await create_job(client, files=60, delay_seconds=0.25)
        await wait_for_state(client, job_id, {"activity_archiving"})
        upload = await client.call("jobs.attach", {"job_id": job_id, "name": "plan.txt", "size": 5,
                                                   "sha256": hashlib.sha256(b"plan!").hexdigest()})  # fmt: skip
        with pytest.raises(RpcError, match="SHA-256"):
            await client.call("jobs.attach_write", {"upload_id": upload["upload_id"], "offset": 0,
                                                    "data": base64.b64encode(b"PLAN!").decode()})  # fmt: skip
        await client.call("jobs.cancel", {"job_id": job_id})
        await wait_for_state(client, job_id, TERMINAL, timeout=180)
