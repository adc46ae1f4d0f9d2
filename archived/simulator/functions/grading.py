"""core_grading_get_definitions and core_grading_get_gradingform_instances: advanced grading (rubrics) of an
assignment, as `grade/externallib.php` answers them. Functions Moodle has but the recorded archiver service does
not list (the assignment showcase adds them, as a site that wants rubrics archived would).

Two of Moodle's quirks are kept: `activeonly=1` on an activity without an active advanced grading method throws
`invalid_method_name` (the grading manager is asked for the controller of method null), and the instances need
`moodle/grade:managegradingforms`.
"""

from __future__ import annotations

from typing import Any

from archived.simulator.data.model import GradingDefinition
from archived.simulator.exceptions import MoodleError, missing_row
from archived.simulator.functions.base import Call, ExternalFunction
from archived.simulator.functions.structures import warnings_desc
from archived.simulator.paramtypes import AREA, BOOL, FLOAT, INT, RAW, TEXT
from archived.simulator.profiles import ReleaseProfile
from archived.simulator.schema import Desc, Single, multiple, single, value

MANAGE = "moodle/grade:managegradingforms"
FORMAT_HTML = 1


def _definitions_params(profile: ReleaseProfile) -> Single:
    return single(
        {
            "cmids": multiple(value(INT)),
            "areaname": value(AREA),
            "activeonly": value(BOOL, default=0),
        }
    )


def _rubric_definition_desc() -> Single:
    level = single(
        {
            "id": value(INT, opt=True),
            "score": value(FLOAT, opt=True),
            "definition": value(RAW, opt=True),
            "definitionformat": value(INT, opt=True),
        }
    )
    criterion = single(
        {
            "id": value(INT, opt=True),
            "sortorder": value(INT, opt=True),
            "description": value(RAW, opt=True),
            "descriptionformat": value(INT, opt=True),
            "levels": multiple(level, opt=True),
        }
    )
    return single({"rubric_criteria": multiple(criterion, opt=True)}, opt=True)


def _guide_definition_desc() -> Single:
    criterion = single(
        {
            "id": value(INT, opt=True),
            "sortorder": value(INT, opt=True),
            "description": value(RAW, opt=True),
            "descriptionformat": value(INT, opt=True),
            "shortname": value(TEXT, opt=True),
            "descriptionmarkers": value(RAW, opt=True),
            "descriptionmarkersformat": value(INT, opt=True),
            "maxscore": value(FLOAT, opt=True),
        }
    )
    comment = single(
        {
            "id": value(INT, opt=True),
            "sortorder": value(INT, opt=True),
            "description": value(RAW, opt=True),
            "descriptionformat": value(INT, opt=True),
        }
    )
    return single(
        {"guide_criteria": multiple(criterion, opt=True), "guide_comments": multiple(comment, opt=True)}, opt=True
    )


def _definitions_returns(profile: ReleaseProfile) -> Desc:
    definition = single(
        {
            "id": value(INT, opt=True),
            "method": value(TEXT),
            "name": value(TEXT),
            "description": value(RAW, opt=True),
            "descriptionformat": value(INT, opt=True),
            "status": value(INT),
            "copiedfromid": value(INT, opt=True),
            "timecreated": value(INT),
            "usercreated": value(INT),
            "timemodified": value(INT),
            "usermodified": value(INT),
            "timecopied": value(INT, opt=True),
            "guide": _guide_definition_desc(),
            "rubric": _rubric_definition_desc(),
        }
    )
    area = single(
        {
            "cmid": value(INT),
            "contextid": value(INT),
            "component": value(TEXT),
            "areaname": value(TEXT),
            "activemethod": value(TEXT, opt=True),
            "definitions": multiple(definition),
        }
    )
    return single({"areas": multiple(area), "warnings": warnings_desc()})


def _definition_entry(definition: GradingDefinition) -> dict[str, Any]:
    criteria = [
        {
            "id": criterion.id,
            "sortorder": criterion.sortorder,
            "description": criterion.description,
            "descriptionformat": FORMAT_HTML,
            "levels": [
                {"id": lv.id, "score": lv.score, "definition": lv.definition, "definitionformat": FORMAT_HTML}
                for lv in criterion.levels
            ],
        }
        for criterion in sorted(definition.criteria, key=lambda c: c.sortorder)
    ]
    return {
        "id": definition.id,
        "method": definition.method,
        "name": definition.name,
        "description": definition.description,
        "descriptionformat": FORMAT_HTML,
        "status": definition.status,
        "copiedfromid": 0,
        "timecreated": definition.timecreated,
        "usercreated": definition.usercreated,
        "timemodified": definition.timecreated,
        "usermodified": definition.usercreated,
        "timecopied": 0,
        definition.method: {f"{definition.method}_criteria": criteria},
    }


def get_definitions(call: Call, params: dict[str, Any]) -> dict[str, Any]:
    """The grading areas of the course modules, with the definition of their (active) advanced grading method."""
    world = call.world
    areas = []
    for cmid in params["cmids"]:
        module = world.modules.get(cmid)
        if module is None:
            raise missing_row("course_modules", cmid)
        definition = world.grading.get(cmid)
        if params["activeonly"] and definition is None:
            # get_controller(null): 'gradingform_' is no valid component name.
            raise MoodleError("invalid_method_name")
        area: dict[str, Any] = {
            "cmid": cmid,
            "contextid": module.contextid,
            "component": f"mod_{module.modname}",
            "areaname": params["areaname"],
            "definitions": [],
        }
        if definition is not None and params["areaname"] == "submissions":
            area["activemethod"] = definition.method
            area["definitions"].append(_definition_entry(definition))
        areas.append(area)
    return {"areas": areas, "warnings": []}


def _instances_params(profile: ReleaseProfile) -> Single:
    return single({"definitionid": value(INT), "since": value(INT, default=0)})


def _instances_returns(profile: ReleaseProfile) -> Desc:
    filling: dict[str, Desc] = {
        "id": value(INT),
        "criterionid": value(INT),
        "levelid": value(INT, opt=True),
        "remark": value(RAW, opt=True),
        "remarkformat": value(INT, opt=True),
    }
    instance = single(
        {
            "id": value(INT),
            "raterid": value(INT),
            "itemid": value(INT),
            "rawgrade": value(TEXT, opt=True),
            "status": value(INT),
            "feedback": value(RAW, opt=True),
            "feedbackformat": value(INT, opt=True),
            "timemodified": value(INT),
            "guide": single({"criteria": multiple(single({**filling, "score": value(FLOAT)}), opt=True)}, opt=True),
            "rubric": single({"criteria": multiple(single(filling), opt=True)}, opt=True),
        }
    )
    return single({"instances": multiple(instance), "warnings": warnings_desc()})


def get_gradingform_instances(call: Call, params: dict[str, Any]) -> dict[str, Any]:
    """The active instances (filled rubrics) of a definition modified since `since`."""
    world = call.world
    definition = next((d for d in world.grading.values() if d.id == params["definitionid"]), None)
    if definition is None:
        raise missing_row("grading_definitions", params["definitionid"])
    call.require(MANAGE, "Manage advanced grading methods")
    instances = []
    for instance in definition.instances:
        if instance.status != 1 or instance.timemodified < params["since"]:
            continue
        fillings = [
            {"id": instance.id * 100 + index, "criterionid": criterionid, "levelid": levelid, "remark": remark,
             "remarkformat": FORMAT_HTML}
            for index, (criterionid, (levelid, remark)) in enumerate(sorted(instance.fillings.items()))
        ]  # fmt: skip
        instances.append(
            {
                "id": instance.id,
                "raterid": instance.raterid,
                "itemid": instance.itemid,
                "rawgrade": f"{instance.rawgrade:.5f}",
                "status": instance.status,
                "feedback": "",
                "feedbackformat": FORMAT_HTML,
                "timemodified": instance.timemodified,
                definition.method: {"criteria": fillings},
            }
        )
    return {"instances": instances, "warnings": []}


FUNCTIONS = (
    ExternalFunction("core_grading_get_definitions", "core", _definitions_params, _definitions_returns,
                     get_definitions),
    ExternalFunction("core_grading_get_gradingform_instances", "core", _instances_params, _instances_returns,
                     get_gradingform_instances),
)  # fmt: skip
