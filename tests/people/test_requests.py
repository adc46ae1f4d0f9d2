"""GDPR requests in process (test driver, real store and local storage): an export that cannot be written fails
with a message naming the request, leaves nothing behind, and is in the audit trail as failed."""

from __future__ import annotations

from pathlib import Path

import pytest

from archived.errors import ArchivedError
from archived.people.requests import PeopleRequests
from archived.store.people import PersonKey
from archived.store.records import Initiator
from tests.jobs.conftest import EngineHarness
from tests.people.test_index import completed_jobs, indexer_on

OPERATOR = Initiator("operator", "dpo", 1001)


async def test_an_export_that_cannot_be_written_fails_and_is_audited(harness: EngineHarness, tmp_path: Path) -> None:
    await completed_jobs(harness, 1)
    indexer = indexer_on(harness, tmp_path)
    requests = PeopleRequests(db=harness.store.db, reader=indexer.reader, indexer=indexer)
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("a file where the export folder should be")
    with pytest.raises(ArchivedError, match="the export of username=jmueller could not be written"):
        await requests.export("jmueller", PersonKey.USERNAME, by=OPERATOR, folder=blocked)
    [record] = await requests.audit.recent(action_prefix="people.export")
    assert record.outcome.startswith("failed") and record.actor == OPERATOR and record.subject == "username=jmueller"
    assert blocked.read_text().startswith("a file") and not list((tmp_path / "people").glob("*"))
