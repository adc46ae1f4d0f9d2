"""Presets per course category: `[category_presets.<category id>.<job|driver>]`, layered over the site presets.

A category's preset applies to the courses of that category and of all its subcategories (Moodle's category
path). The levels are, farthest first: the site (`[presets.*]`), then each category on the course's path from the
top down to the course's own category. A nearer level's value wins over a farther one's, and locks add up, with one
exception: a setting locked at a farther level keeps that level's value, and no level below can change or unlock
it. A category preset that sets a value the site locks differently stops the daemon at start-up; one that sets a
value a parent category locks differently cannot be seen before the course's path is known (the category tree is
Moodle's), so the parent's value holds and the job's log says so.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from pydantic import ValidationError

from archived.errors import ArchivedError, ConfigError, FatalError, RecoverableError
from archived.interfaces.activity import DriverSettings
from archived.jobs.settings import SITE, Preset

SECTION = "category_presets"


def category_level(category_id: int) -> str:
    """The name of a category's preset level, as job records and `settings.describe` show it."""
    return f"category {category_id}"


@dataclass(frozen=True)
class CoursePlace:
    """Where a course sits in Moodle: its category and that category's path, top-level category first."""

    course_id: int
    category_id: int | None
    path: tuple[int, ...] = ()  # e.g. (2, 3) for a course in category 3, a subcategory of 2

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (as the job's settings record keeps it)."""
        return {"id": self.category_id, "path": list(self.path)}


class CourseCategories(Protocol):
    """Finds a course's category and its path (the daemon's course overview, which asks Moodle when needed)."""

    async def course_place(self, course_id: int) -> CoursePlace: ...


class CategoryUnknown(ArchivedError):
    """A course's category could not be read from Moodle while category presets may apply to it."""

    code = "category_unknown"


@dataclass(frozen=True)
class PresetsInForce:
    """The presets a job of one course gets: one per settings model, the levels applied, the lock notes."""

    presets: dict[str, Preset]  # model name (job, the driver's name) → the layered preset
    applied: list[str]  # the levels with a preset for this course, farthest first: site, category 2, …
    overruled: list[str]  # values a level below could not set because a level above locks them


class CategoryPresets:
    """Every validated category preset, and the presets in force for a course."""

    def __init__(self, site: Mapping[str, Preset], by_category: Mapping[int, Mapping[str, Preset]]) -> None:
        self.site = dict(site)
        self.by_category = {category: dict(presets) for category, presets in by_category.items()}

    @classmethod
    def from_config(
        cls,
        raw: Mapping[int, Mapping[str, dict[str, Any]]],
        *,
        site: Mapping[str, Preset],
        models: Mapping[str, type[DriverSettings]],
        storage: Sequence[str],
    ) -> CategoryPresets:
        """Validate every `[category_presets.<id>.<name>]` against its settings model and the site's locks; a
        `ConfigError` names the table and key. Category ids are not checked (Moodle's categories may change)."""
        by_category: dict[int, dict[str, Preset]] = {}
        for category, tables in sorted(raw.items()):
            if category <= 0:
                raise ConfigError(f"{SECTION}.{category}: a category id is a positive number (Moodle's category id)")
            for name, table in tables.items():
                where = f"{SECTION}.{category}.{name}"
                model = models.get(name)
                if model is None:
                    known = ", ".join(sorted(models))
                    raise ConfigError(f"{where}: no settings named {name!r} (known: {known}: job or a driver's name)")
                if not isinstance(table, dict):
                    raise ConfigError(f"{where}: expected a table of settings ([{where}])")
                preset = Preset.from_table(where, table, model, level=category_level(category))
                _check_targets(where, preset, storage)
                _check_site_locks(where, preset, site[name], model)
                by_category.setdefault(category, {})[name] = preset
        return cls(site, by_category)

    @property
    def configured(self) -> bool:
        """Whether any category has a preset (only then is a job's category looked up)."""
        return bool(self.by_category)

    def in_force(self, place: CoursePlace | None, models: Mapping[str, type[DriverSettings]]) -> PresetsInForce:
        """The presets of `models` for a course at `place` (None: the site's presets only)."""
        path = place.path if place is not None else ()
        categories = [c for c in path if c in self.by_category]
        presets: dict[str, Preset] = {}
        overruled: list[str] = []
        for name, model in models.items():
            levels = [self.site[name], *(self.by_category[c][name] for c in categories if name in self.by_category[c])]
            presets[name], notes = layer(levels, model)
            overruled += notes
        return PresetsInForce(presets, [SITE, *(category_level(c) for c in categories)], overruled)


def layer(levels: Sequence[Preset], model: type[DriverSettings]) -> tuple[Preset, list[str]]:
    """The preset that results from `levels` (farthest first), and a note for each value a lock above kept."""
    values: dict[str, Any] = {}
    sources: dict[str, str] = {}
    locked_by: dict[str, str] = {}
    notes: list[str] = []
    for preset in levels:
        for key, value in preset.values.items():
            level = preset.sources.get(key, SITE)
            if key in locked_by:
                kept = values.get(key, model.model_fields[key].get_default(call_default_factory=True))
                if _normal(model, key, value) != _normal(model, key, kept):
                    notes.append(
                        f"setting {key}: {level}'s preset sets {value!r}, but {locked_by[key]} locks it at {kept!r}; "
                        f"{kept!r} holds"
                    )
                continue
            values[key], sources[key] = value, level
        for key in preset.locked:
            locked_by.setdefault(key, preset.locked_by.get(key, SITE))
    return Preset(values=values, locked=frozenset(locked_by), sources=sources, locked_by=locked_by), notes


async def course_place(categories: CourseCategories | None, course_id: int) -> CoursePlace:
    """The course's place in Moodle's category tree; `CategoryUnknown` (recoverable when Moodle's error is) says
    why it could not be read, since a category preset may apply to the course."""
    if categories is None:
        raise CategoryUnknown(
            f"course {course_id}: category presets ([{SECTION}]) are configured but no Moodle is, so the course's "
            "category cannot be read; configure [moodle] or remove the category presets"
        )
    try:
        return await categories.course_place(course_id)
    except ArchivedError as exc:
        error = RecoverableError if exc.recoverable else FatalError
        raise error(
            f"course {course_id}'s category could not be read from Moodle, and a category preset ([{SECTION}]) "
            f"may apply to it: {exc}; no job is created with the site's presets instead. Try again when Moodle "
            "answers",
            code=exc.code if exc.code == "not_found" else CategoryUnknown.code,
        ) from exc


def _normal(model: type[DriverSettings], key: str, value: Any) -> Any:
    """A value as the model stores it (a preset's 5 and 5.0 are the same value)."""
    try:
        return model.model_validate({key: value}).model_dump(mode="json")[key]
    except ValidationError:
        return value


def _check_targets(where: str, preset: Preset, storage: Sequence[str]) -> None:
    """A category's job preset naming a target that is not configured would fail every job of the category."""
    unknown = [t for t in preset.values.get("storage_targets", []) if t not in storage]
    if unknown:
        raise ConfigError(
            f"{where}.storage_targets: no storage target named {unknown[0]!r} "
            f"(configured: {', '.join(sorted(storage)) or 'none'}; add a [storage.{unknown[0]}] table)"
        )


def _check_site_locks(where: str, preset: Preset, site: Preset, model: type[DriverSettings]) -> None:
    """A category cannot change what the site locks: refused at start-up rather than ignored job by job."""
    site_table = f"presets.{where.rsplit('.', 1)[1]}"
    for key, value in preset.values.items():
        if key not in site.locked:
            continue
        locked_value = site.value(model, key)
        if _normal(model, key, value) != _normal(model, key, locked_value):
            how = "by default" if key not in site.values else "at this value"
            raise ConfigError(
                f"{where}.{key}: [{site_table}] locks {key} {how} ({locked_value!r}), so a category cannot set it to "
                f"{value!r}; remove it here, or take it out of [{site_table}] locked = [...] so that categories may "
                "choose it (and lock it in the category instead)"
            )
