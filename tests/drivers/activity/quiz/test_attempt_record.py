"""The per-attempt record: the checkpoint item earlier versions stored is read back as it was, written back the
same, and attempts.csv keeps its columns and bytes."""

from __future__ import annotations

import csv
import io
import json

import pytest

from archived_quiz.attempt_record import CSV_COLUMNS, AttemptRecord, attempts_csv

# A checkpoint item as the driver stored it before the record was typed (a JSON round trip, as the store does).
STORED = json.loads(
    json.dumps(
        {
            "attemptid": 7, "attempt": 1, "userid": 9, "username": "mkowalska", "firstname": "Małgorzata",
            "lastname": "Kowalska, \"Gosia\"", "idnumber": "4711007", "state": "finished", "timestart": 1767225600,
            "timefinish": 1767229200, "sumgrades": 8.5, "grade": 85.0, "path": "attempts/mkowalska/7/attempt-7.pdf",
            "sha256": "ab" * 32, "size": 123456,
            "files": {"attempts/mkowalska/7/attachments/11/scan.pdf": "cd" * 32},
        }
    )
)  # fmt: skip
UNGRADED = {**STORED, "attemptid": 8, "sumgrades": "", "grade": "", "files": {}}


def test_a_stored_item_reads_back_typed_and_writes_back_unchanged() -> None:
    record = AttemptRecord.from_item(STORED)
    assert record is not None
    assert (record.attemptid, record.sumgrades, record.grade, record.size) == (7, 8.5, 85.0, 123456)
    assert record.to_item() == STORED
    ungraded = AttemptRecord.from_item(UNGRADED)
    assert ungraded is not None and ungraded.sumgrades is None and ungraded.grade is None
    assert ungraded.to_item() == UNGRADED


@pytest.mark.parametrize(
    "broken",
    [{}, {**STORED, "files": ["x"]}, {**STORED, "files": {"a": 1}}, {**STORED, "size": "big"},
     {**STORED, "grade": "85"}, {k: v for k, v in STORED.items() if k != "sha256"}],
)  # fmt: skip
def test_an_item_that_is_not_a_record_is_none(broken: dict[str, object]) -> None:
    """Such an attempt is archived again rather than trusted."""
    assert AttemptRecord.from_item(broken) is None


def test_attempts_csv_has_the_bytes_of_the_dict_rows_it_replaced() -> None:
    """What `csv.DictWriter` made of the stored dicts (the driver's former attempts.csv writer) is what the records
    give: same columns, same order, empty cells for missing grades, quoting and line ends."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    writer.writerows([STORED, UNGRADED])
    records = [AttemptRecord.from_item(item) for item in (STORED, UNGRADED)]
    assert attempts_csv(r for r in records if r is not None) == out.getvalue().encode("utf-8")
    assert b'"Kowalska, ""Gosia"""' in attempts_csv(r for r in records if r is not None)
