"""Rubrics and marking guides of an assignment: the active definition (`core_grading_get_definitions`) and its
filled instances (`core_grading_get_gradingform_instances`), matched to a grade by the instance's item id (the
`assign_grades` id of one attempt's grade).

`activeonly` is not used: on an assignment graded without an advanced method Moodle answers `activeonly=1` with
`invalid_method_name` (the grading manager is asked for the controller of method null); with `activeonly=0` the
answer names the active method (`activemethod`) and holds the definitions of every method ever set up, of which
the active one is taken. Reading the instances needs `moodle/grade:managegradingforms`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import Field

from archived.moodle.api import parse_answer
from archived.moodle.models import Items, MoodleModel, MoodleWarning, Struct

DEFINITIONS = "core_grading_get_definitions"
INSTANCES = "core_grading_get_gradingform_instances"
METHODS = {"rubric": "Rubric", "guide": "Marking guide"}
"""The grading methods whose fillings an archive shows, with the heading the report gives them."""


class RubricLevel(MoodleModel):
    """One level of a rubric criterion."""

    id: int | None = None
    score: float | None = None
    definition: str = ""


class RubricCriterion(MoodleModel):
    """A rubric criterion with its levels."""

    id: int | None = None
    sortorder: int | None = None
    description: str = ""
    levels: Items[RubricLevel] = Field(default_factory=list)


class RubricDefinition(MoodleModel):
    """The criteria of a rubric."""

    rubric_criteria: Items[RubricCriterion] = Field(default_factory=list)


class GuideCriterion(MoodleModel):
    """A marking guide criterion: short name, descriptions and maximum score."""

    id: int | None = None
    sortorder: int | None = None
    shortname: str = ""
    description: str = ""
    descriptionmarkers: str = ""
    maxscore: float | None = None


class GuideDefinition(MoodleModel):
    """The criteria of a marking guide (its frequently used comments are not shown)."""

    guide_criteria: Items[GuideCriterion] = Field(default_factory=list)


class GradingDefinition(MoodleModel):
    """One advanced grading form of an area."""

    id: int | None = None
    method: str
    name: str = ""
    description: str = ""
    status: int | None = None
    timemodified: int | None = None
    rubric: Struct[RubricDefinition | None] = None
    guide: Struct[GuideDefinition | None] = None


class GradingArea(MoodleModel):
    """A grading area of a course module and its definitions."""

    cmid: int
    areaname: str = ""
    activemethod: str | None = None
    definitions: Items[GradingDefinition] = Field(default_factory=list)


class DefinitionList(MoodleModel):
    """The answer of `core_grading_get_definitions`."""

    areas: Items[GradingArea] = Field(default_factory=list)
    warnings: Items[MoodleWarning] = Field(default_factory=list)


class CriterionFilling(MoodleModel):
    """How one criterion was filled: the chosen level (rubric) or the score (guide), and the remark."""

    criterionid: int
    levelid: int | None = None
    remark: str | None = None
    score: float | None = None


class Filling(MoodleModel):
    """The filled criteria of one instance."""

    criteria: Items[CriterionFilling] = Field(default_factory=list)


class GradingInstance(MoodleModel):
    """A filled grading form: who filled it, for which grade (`itemid`), and how."""

    id: int
    raterid: int | None = None
    itemid: int
    rawgrade: str | None = None
    status: int | None = None
    timemodified: int | None = None
    rubric: Struct[Filling | None] = None
    guide: Struct[Filling | None] = None


class InstanceList(MoodleModel):
    """The answer of `core_grading_get_gradingform_instances`."""

    instances: Items[GradingInstance] = Field(default_factory=list)
    warnings: Items[MoodleWarning] = Field(default_factory=list)


@dataclass(frozen=True)
class FilledCriterion:
    """One row of a filled rubric or marking guide as a report shows it (texts are Moodle's HTML)."""

    criterion: str
    level: str  # the chosen level's definition (rubric); "" for a guide
    score: float | None
    maxscore: float | None
    remark: str


@dataclass(frozen=True)
class FilledForm:
    """A rubric or marking guide filled in for one grade."""

    method: str  # rubric | guide
    name: str
    rater: int | None
    timemodified: int | None
    rows: list[FilledCriterion]

    @property
    def title(self) -> str:
        """'Rubric' or 'Marking guide'."""
        return METHODS.get(self.method, self.method)

    @property
    def total(self) -> tuple[float, float] | None:
        """Points given and the most there are, when every row has both."""
        if not self.rows or any(r.score is None or r.maxscore is None for r in self.rows):
            return None
        return sum(r.score or 0 for r in self.rows), sum(r.maxscore or 0 for r in self.rows)


def active_definition(answer: Any, cmid: int) -> GradingDefinition | None:
    """The definition of the active advanced grading method (rubric or guide) of the submissions area, or None."""
    listing: DefinitionList = parse_answer(DEFINITIONS, DefinitionList, answer)
    for area in listing.areas:
        if area.cmid != cmid or area.areaname not in ("", "submissions") or area.activemethod not in METHODS:
            continue
        for definition in area.definitions:
            if definition.method == area.activemethod and definition.id is not None:
                return definition
    return None


@dataclass
class AdvancedGrading:
    """The active definition and its filled instances by item id (the grade id)."""

    definition: GradingDefinition
    instances: dict[int, list[GradingInstance]]
    fillings_read: bool = True  # False: the token may not read the instances (function missing or refused)

    @classmethod
    def of(cls, definition: GradingDefinition, answer: Any) -> AdvancedGrading:
        """From the definition and the answer of `core_grading_get_gradingform_instances`."""
        listing: InstanceList = parse_answer(INSTANCES, InstanceList, answer)
        instances: dict[int, list[GradingInstance]] = {}
        for instance in sorted(listing.instances, key=lambda i: (i.timemodified or 0, i.id)):
            instances.setdefault(instance.itemid, []).append(instance)
        return cls(definition, instances)

    def filled_for(self, grade_id: int) -> list[FilledForm]:
        """The forms filled in for one grade (usually one; oldest first)."""
        return [self._form(instance) for instance in self.instances.get(grade_id, [])]

    def _form(self, instance: GradingInstance) -> FilledForm:
        definition = self.definition
        filling = (instance.rubric if definition.method == "rubric" else instance.guide) or Filling()
        by_criterion = {f.criterionid: f for f in filling.criteria}
        rows: list[FilledCriterion] = []
        if definition.method == "rubric":
            criteria = definition.rubric.rubric_criteria if definition.rubric else []
            for criterion in sorted(criteria, key=lambda c: c.sortorder or 0):
                filled = by_criterion.pop(criterion.id, None) if criterion.id is not None else None
                level = next((lv for lv in criterion.levels if filled and lv.id == filled.levelid), None)
                best = max((lv.score for lv in criterion.levels if lv.score is not None), default=None)
                rows.append(
                    FilledCriterion(
                        criterion.description,
                        level.definition if level else ("" if filled is None else "(level not in the definition)"),
                        level.score if level else None,
                        best,
                        (filled.remark or "") if filled else "",
                    )
                )
        else:
            guide = definition.guide.guide_criteria if definition.guide else []
            for item in sorted(guide, key=lambda c: c.sortorder or 0):
                filled = by_criterion.pop(item.id, None) if item.id is not None else None
                rows.append(
                    FilledCriterion(
                        item.shortname or item.description,
                        "",
                        filled.score if filled else None,
                        item.maxscore,
                        (filled.remark or "") if filled else "",
                    )
                )
        # Fillings of criteria the definition no longer lists are kept, not dropped.
        for orphan in by_criterion.values():
            rows.append(
                FilledCriterion(f"criterion {orphan.criterionid} (not in the definition)", "", orphan.score, None,
                                orphan.remark or "")
            )  # fmt: skip
        return FilledForm(definition.method, definition.name, instance.raterid, instance.timemodified, rows)
