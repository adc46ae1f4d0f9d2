"""The `people.*` methods (GDPR requests): find every archive holding a person's data, and export only their files,
handed over as a transfer read with `archives.read`. Operator only; every call is audited."""

from __future__ import annotations

import asyncio
import hashlib
from functools import partial
from pathlib import Path
from typing import Any

from archived.people.requests import AmbiguousPerson, Lookup, PeopleRequests
from archived.protocol.base import wire_time
from archived.protocol.errors import ErrorCode, RpcError
from archived.protocol.methods import PEOPLE_EXPORT, PEOPLE_FIND
from archived.protocol.people import (
    ExportedArchiveView,
    PeopleExportParams,
    PeopleExportResult,
    PeopleFindParams,
    PeopleFindResult,
    PersonInArchive,
    UnsearchedArchive,
)
from archived.rpc.archive_methods import ArchiveTransfers
from archived.rpc.method import Call, Method, method_with_call
from archived.store.people import PersonKey


def find_result(query: str, lookup: Lookup) -> PeopleFindResult:
    """The protocol's view of a lookup."""
    return PeopleFindResult(
        query=query,
        matches=[
            PersonInArchive(
                job_id=held.job_id,
                archive=held.name,
                course_name=held.course_name,
                activity_name=held.activity_name,
                created_at=wire_time(held.created_at),
                retain_until=wire_time(held.retain_until),
                site=match.person.site,
                userid=match.person.userid,
                username=match.person.username,
                idnumber=match.person.idnumber,
                firstname=match.person.firstname,
                lastname=match.person.lastname,
                attempts=match.person.attempts,
                matched=match.matched,
            )
            for match, held in lookup.matches
        ],
        unsearched=[UnsearchedArchive(job_id=h.job_id, archive=h.name, reason=why) for h, why in lookup.unsearched],
    )


async def people_find(params: PeopleFindParams, call: Call, *, requests: PeopleRequests) -> PeopleFindResult:
    """Every stored archive holding the person's data."""
    lookup = await requests.find(params.query, PersonKey(params.key), by=call.initiator)
    return find_result(params.query, lookup)


def _digest(path: Path) -> tuple[int, str]:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(1024 * 1024):
            digest.update(chunk)
    return path.stat().st_size, digest.hexdigest()


async def people_export(
    params: PeopleExportParams, call: Call, *, requests: PeopleRequests, transfers: ArchiveTransfers
) -> PeopleExportResult:
    """Build the person's export and open a transfer of it on this connection."""
    try:
        export = await requests.export(params.query, PersonKey(params.key), by=call.initiator, folder=transfers.folder)
    except AmbiguousPerson as exc:
        raise RpcError(ErrorCode.INVALID_PARAMS, str(exc)) from None
    size, sha256 = await asyncio.to_thread(_digest, export.path)
    transfer = transfers.open(call.connection, export.path, size)
    return PeopleExportResult(
        transfer_id=transfer.id,
        name=f"person-{export.userid}.zip",
        size=size,
        sha256=sha256,
        userid=export.userid,
        archives=[
            ExportedArchiveView(
                job_id=a.job_id,
                archive=a.archive,
                target=a.target,
                location=a.location,
                sha256=a.sha256,
                files=len(a.files),
            )
            for a in export.exported
        ],
        not_exported=[
            UnsearchedArchive(job_id=u.job_id, archive=u.archive, reason=u.reason) for u in export.not_exported
        ],
    )


def people_methods(*, requests: PeopleRequests, transfers: ArchiveTransfers) -> list[Method[Any, Any]]:
    """The `people.*` methods, bound to the GDPR requests and the transfer folder."""
    return [
        method_with_call(PEOPLE_FIND, partial(people_find, requests=requests)),
        method_with_call(PEOPLE_EXPORT, partial(people_export, requests=requests, transfers=transfers)),
    ]
