"""mod_assign_get_user_flags and mod_assign_get_user_mappings: functions Moodle has but the recorded archiver
service does not list (a site may add them; the assignment driver uses them when the token has them)."""

from __future__ import annotations

from typing import Any

from archived.simulator.functions.base import Call, ExternalFunction
from archived.simulator.functions.structures import warning, warnings_desc
from archived.simulator.paramtypes import ALPHA, INT
from archived.simulator.profiles import ReleaseProfile
from archived.simulator.schema import Single, multiple, single, value

# Participant numbers of blind marking start here (Moodle draws them at random; fixed for reproducible answers).
BLIND_ID_BASE = 1_000_000


def _ids_params(profile: ReleaseProfile) -> Single:
    return single({"assignmentids": multiple(value(INT))})


def _flags_returns(profile: ReleaseProfile) -> Single:
    flag = single(
        {
            "id": value(INT),
            "userid": value(INT),
            "locked": value(INT),
            "mailed": value(INT),
            "extensionduedate": value(INT),
            "workflowstate": value(ALPHA, opt=True),
            "allocatedmarker": value(INT, opt=True),
        }
    )
    return single(
        {
            "assignments": multiple(single({"assignmentid": value(INT), "userflags": multiple(flag)})),
            "warnings": warnings_desc(),
        }
    )


def get_user_flags(call: Call, params: dict[str, Any]) -> dict[str, Any]:
    """A flags row for every graded user (mailed once graded): locks, extensions and workflow states are unset."""
    world = call.world
    assignments, warnings = [], []
    for assignid in params["assignmentids"]:
        if assignid not in world.assigns:
            warnings.append(warning("assignment", assignid, "1", "No access rights in module context"))
            continue
        graded = sorted(world.assign_grades.get(assignid, {}))
        rows = [
            {"id": index + 1, "userid": uid, "locked": 0, "mailed": 1, "extensionduedate": 0, "workflowstate": "",
             "allocatedmarker": 0}
            for index, uid in enumerate(graded)
        ]  # fmt: skip
        assignments.append({"assignmentid": assignid, "userflags": rows})
    return {"assignments": assignments, "warnings": warnings}


def _mappings_returns(profile: ReleaseProfile) -> Single:
    mapping = single({"id": value(INT), "userid": value(INT)})
    return single(
        {
            "assignments": multiple(single({"assignmentid": value(INT), "mappings": multiple(mapping)})),
            "warnings": warnings_desc(),
        }
    )


def get_user_mappings(call: Call, params: dict[str, Any]) -> dict[str, Any]:
    """The blind-marking participant numbers of every student of a blind-marked assignment."""
    world = call.world
    assignments, warnings = [], []
    for assignid in params["assignmentids"]:
        assign = world.assigns.get(assignid)
        if assign is None or not assign.blindmarking:
            warnings.append(warning("assignment", assignid, "1", "No access rights in module context"))
            continue
        students = [u.id for u, role in world.course_users(assign.course) if role.shortname == "student"]
        rows = [{"id": BLIND_ID_BASE + uid, "userid": uid} for uid in students]
        assignments.append({"assignmentid": assignid, "mappings": rows})
    return {"assignments": assignments, "warnings": warnings}


FUNCTIONS = (
    ExternalFunction("mod_assign_get_user_flags", "mod_assign", _ids_params, _flags_returns, get_user_flags),
    ExternalFunction("mod_assign_get_user_mappings", "mod_assign", _ids_params, _mappings_returns, get_user_mappings),
)
