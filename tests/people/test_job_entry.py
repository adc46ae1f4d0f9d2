"""job.json as one person's export holds it (`archived.people.job_entry`): their own entry, and the completeness
record of a quiz or an assignment without the other people it names."""

from __future__ import annotations

import json

from archived.people.job_entry import job_entry

ME = {"id": 3, "username": "anna", "firstname": "Anna", "lastname": "A"}


def test_a_quiz_completeness_keeps_only_this_person() -> None:
    completeness = {
        "complete": False,
        "users_checked": 10,
        "users_no_longer_enrolled": [
            {"id": 3, "username": "anna", "name": "Anna A"},
            {"id": 8, "username": "dan", "name": "Dan Dorsey"},
            {"id": 9, "username": "eve", "name": "Eve Egg"},
        ],
        "users_no_longer_enrolled_with_attempts": [3, 8],
        "not_checked": ["attempt ids 10-20 (beyond attempt_id_sweep_max)", "user 9 (eve): Moodle answered nope"],
        "statement": [
            "Users checked: 8 enrolled and 3 no longer enrolled.",
            "Not checked: user 9 (eve): Moodle answered nope.",
            "Not checked: user 3 (anna): Moodle answered nope.",
        ],
    }
    job = {"job_id": "j", "summary": {"attempts": 4, "completeness": completeness}}
    entry = job_entry(job, ME, 3)
    assert entry["users"] == [ME] and entry["job_id"] == "j" and entry["summary"]["attempts"] == 4
    done = entry["summary"]["completeness"]
    assert done["users_no_longer_enrolled"] == [completeness["users_no_longer_enrolled"][0]]
    assert done["users_no_longer_enrolled_with_attempts"] == [3]
    assert done["not_checked"] == ["attempt ids 10-20 (beyond attempt_id_sweep_max)"]
    assert done["statement"] == [completeness["statement"][0], completeness["statement"][2]]
    assert done["other_users_left_out"] == 2 and done["users_checked"] == 10
    assert not {"dan", "eve", "Dorsey", "Egg"} & set(json.dumps(entry).replace('"', " ").split())
    assert job["summary"]["completeness"] is completeness and len(completeness["not_checked"]) == 2  # not changed


def test_an_assignment_completeness_names_only_this_person_of_the_unreachable() -> None:
    completeness = {
        "unreachable_users": [{"userid": 5, "name": "Cleo Cole (cleo)", "reason": "refused"}],
        "statement": ["Users checked: 3.", "INCOMPLETE: Moodle holds a grade or submission of Cleo Cole (cleo), ..."],
    }
    job = {"summary": {"completeness": completeness}}
    mine = job_entry(job, ME, 3)["summary"]["completeness"]
    assert mine["unreachable_users"] == [] and mine["statement"] == ["Users checked: 3."]
    assert mine["other_users_left_out"] == 1
    theirs = job_entry(job, None, 5)
    assert theirs["users"] == [] and theirs["summary"]["completeness"] == completeness
