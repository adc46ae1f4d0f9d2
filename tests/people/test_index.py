"""The people index in process, on archives the engine made (test driver, real store, local storage): archives are
read in bounded batches, those not read yet are named as such, a tampered copy is recorded with the reason, and the
check for new work is one query that finds nothing once everything is read."""

from __future__ import annotations

from pathlib import Path

from archived.interfaces.storage import Tier
from archived.people.index import NOT_READ_YET, ArchiveReader, PeopleIndexer
from archived.store.people import PersonKey
from archived.targets import StorageTarget
from archived_local.storage import LocalDirectoryConfig, LocalDirectoryStorage
from tests.jobs.conftest import EngineHarness


async def completed_jobs(harness: EngineHarness, count: int) -> list[str]:
    ids = [(await harness.create(files=1)).id for _ in range(count)]
    for job_id in ids:
        assert (await harness.wait(job_id, {"completed", "failed"})).state.value == "completed"
    return ids


def indexer_on(harness: EngineHarness, root: Path) -> PeopleIndexer:
    storage = LocalDirectoryStorage("local", LocalDirectoryConfig(path=root / "archive"), Tier.LOCAL)
    targets = {"local": StorageTarget("local", "local", storage, Tier.LOCAL, True)}
    reader = ArchiveReader(store=harness.store, targets=targets, folder=root / "people")
    return PeopleIndexer(db=harness.store.db, reader=reader)


async def test_archives_are_read_in_bounded_batches(harness: EngineHarness, tmp_path: Path) -> None:
    await completed_jobs(harness, 3)
    indexer = indexer_on(harness, tmp_path)
    first = await indexer.index_pending(limit=2)
    assert len(first.indexed) == 2 and not first.problems
    assert [why for _, why in (await indexer.unsearchable()).values()] == [NOT_READ_YET]
    assert await indexer.index_new() is not None
    assert await indexer.unsearchable() == {}
    assert await indexer.index_new() is None  # nothing left to read
    found = await indexer.index.find("4711001", PersonKey.IDNUMBER)
    assert len(found) == 3 and {m.person.username for m in found} == {"jmueller"}


async def test_a_tampered_copy_is_recorded_with_its_reason_and_not_retried_at_once(
    harness: EngineHarness, tmp_path: Path
) -> None:
    [job_id] = await completed_jobs(harness, 1)
    [artifact] = await harness.store.artifacts(job_id)
    stored = tmp_path / "archive" / artifact.locations[0].location
    stored.chmod(0o644)
    data = bytearray(stored.read_bytes())
    data[len(data) // 2] ^= 0xFF
    stored.write_bytes(bytes(data))
    indexer = indexer_on(harness, tmp_path)
    run = await indexer.index_pending()
    [(label, problem)] = run.problems.items()
    assert job_id in label and "local" in problem and "sha256" in problem
    [(_, why)] = (await indexer.unsearchable()).values()
    assert why == problem
    assert await indexer.index_new() is None  # tried again only after an hour
