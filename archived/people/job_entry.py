"""A job.json as one person's export holds it: their entry of `users` only, and the job's completeness record
without the other people it names (a quiz's users no longer enrolled and users Moodle refused, an assignment's
unreachable users; the lines of its statement naming them). Other people's names are their data, not this
person's; how many were left out is said (`other_users_left_out`)."""

from __future__ import annotations

import re
from typing import Any

# Lists of people in `summary.completeness`, with the key of the user id in their entries (None: plain user ids).
PEOPLE_LISTS = {
    "unreachable_users": "userid",  # assignment
    "users_no_longer_enrolled": "id",  # quiz
    "users_no_longer_enrolled_with_attempts": None,  # quiz
}
TEXT_LISTS = ("statement", "not_checked")
NAMED_USER = re.compile(r"\buser (\d+) \(")  # how the quiz's not_checked names a user: "user 12 (bob): …"


def job_entry(job: dict[str, Any], user: dict[str, Any] | None, userid: int) -> dict[str, Any]:
    """`job` (job.json without its users) with `user` as its only user and the completeness record redacted."""
    entry = dict(job)
    entry["users"] = [user] if user is not None else []
    summary = entry.get("summary")
    completeness = summary.get("completeness") if isinstance(summary, dict) else None
    if isinstance(summary, dict) and isinstance(completeness, dict):
        entry["summary"] = {**summary, "completeness": _redacted(completeness, userid)}
    return entry


def _redacted(completeness: dict[str, Any], userid: int) -> dict[str, Any]:
    redacted = dict(completeness)
    others: set[int] = set()
    mentions: set[str] = set()
    for key, id_key in PEOPLE_LISTS.items():
        listed = completeness.get(key)
        if not isinstance(listed, list):
            continue
        kept = []
        for item in listed:
            who = item.get(id_key) if id_key is not None and isinstance(item, dict) else item
            if who == userid:
                kept.append(item)
                continue
            if isinstance(who, int):
                others.add(who)
            if isinstance(item, dict):
                name = str(item.get("name") or "")  # as the statement shows them (assignment)
                if len(name) >= 3:  # a name of a letter or two would match lines that name no one
                    mentions.add(name)
        redacted[key] = kept
    for key in TEXT_LISTS:
        lines = completeness.get(key)
        if not isinstance(lines, list):
            continue
        kept_lines = []
        for line in lines:
            named = {int(found) for found in NAMED_USER.findall(line)} if isinstance(line, str) else set()
            if named - {userid} or (isinstance(line, str) and any(m in line for m in mentions)):
                others.update(named - {userid})
                continue
            kept_lines.append(line)
        redacted[key] = kept_lines
    if others:
        redacted["other_users_left_out"] = len(others)
    return redacted
