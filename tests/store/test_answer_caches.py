"""The caches behind `jobs.list`: a job's summary JSON holds for one version of the job, answers for one version
of the store; both stay within their capacity, dropping the oldest written (or least recently used) first."""

from __future__ import annotations

from archived.store.summary_cache import SummaryCache
from archived.store.versioned_cache import VersionedCache


def test_a_summary_holds_for_the_version_of_the_job_it_was_written_for() -> None:
    cache = SummaryCache(capacity=2)
    cache.put("a", 1.0, '{"id":"a"}')
    assert cache.get("a", 1.0) == '{"id":"a"}'
    assert cache.get("a", 2.0) is None  # the job changed since
    cache.put("b", 1.0, "B")
    cache.put("a", 2.0, "A2")  # rewritten: now the newest
    cache.put("c", 1.0, "C")  # over capacity: the oldest written (b) goes
    assert cache.get("b", 1.0) is None and cache.get("a", 2.0) == "A2" and cache.get("c", 1.0) == "C"
    assert len(cache) == 2


def test_answers_hold_for_one_version_of_the_store() -> None:
    cache: VersionedCache[int] = VersionedCache(capacity=2)
    cache.put(7, "failed", 3)
    cache.put(7, "all", 10)
    assert cache.get(7, "failed") == 3
    cache.put(7, "search", 1)  # over capacity: the least recently used (all) goes
    assert cache.get(7, "all") is None and cache.get(7, "failed") == 3 and cache.get(7, "search") == 1
    assert cache.get(8, "failed") is None  # the store changed: every answer is gone
    cache.put(8, "failed", 4)
    assert cache.get(8, "failed") == 4 and cache.get(8, "search") is None
