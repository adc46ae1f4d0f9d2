"""Presets per course category: validated like the site presets, layered site → parent → child category, with locks
that hold below the level that set them, and every value's source recorded."""

from __future__ import annotations

from typing import Any

import pytest
from archived_testplugins.slow_driver import SlowTestSettings

from archived.config import parse_config
from archived.errors import ConfigError
from archived.interfaces.activity import DriverSettings
from archived.jobs.category_presets import CategoryPresets, CoursePlace, layer
from archived.jobs.settings import JOB_PRESET, JobSettings, Preset, describe, resolve

MODELS: dict[str, type[DriverSettings]] = {JOB_PRESET: JobSettings, "slowtest": SlowTestSettings}
# A course in category 3, a subcategory of 2 (Moodle's path /2/3).
IN_3 = CoursePlace(course_id=4, category_id=3, path=(2, 3))
IN_2 = CoursePlace(course_id=3, category_id=2, path=(2,))
ELSEWHERE = CoursePlace(course_id=5, category_id=1, path=(1,))


def site(job: dict[str, Any] | None = None, slowtest: dict[str, Any] | None = None) -> dict[str, Preset]:
    return {
        JOB_PRESET: Preset.from_config(JOB_PRESET, job, JobSettings),
        "slowtest": Preset.from_config("slowtest", slowtest, SlowTestSettings),
    }


def categories(raw: dict[int, dict[str, dict[str, Any]]], **site_tables: Any) -> CategoryPresets:
    return CategoryPresets.from_config(raw, site=site(**site_tables), models=MODELS, storage=["local", "worm"])


# -- configuration --------------------------------------------------------------------------------------------


def test_the_config_takes_category_presets_by_numeric_category_id() -> None:
    config = parse_config({"category_presets": {"3": {"job": {"retention_years": 10}}}})
    assert config.category_presets == {3: {"job": {"retention_years": 10}}}
    with pytest.raises(ConfigError, match="category_presets"):
        parse_config({"category_presets": {"exams": {"job": {}}}})


def test_category_presets_are_validated_like_the_site_presets_and_errors_name_the_key() -> None:
    with pytest.raises(ConfigError, match=r"category_presets\.3\.slowtest\.colour: unknown setting"):
        categories({3: {"slowtest": {"colour": "red"}}})
    with pytest.raises(ConfigError, match=r"category_presets\.3\.slowtest\.files"):
        categories({3: {"slowtest": {"files": "many"}}})
    with pytest.raises(ConfigError, match=r"category_presets\.3\.slowtest\.nothing: unknown setting"):
        categories({3: {"slowtest": {"locked": ["nothing"]}}})
    with pytest.raises(ConfigError, match=r"category_presets\.3\.slowtest\.locked: expected a list"):
        categories({3: {"slowtest": {"locked": "files"}}})
    with pytest.raises(
        ConfigError, match=r"category_presets\.3\.quiz: no settings named 'quiz' \(known: job, slowtest"
    ):
        categories({3: {"quiz": {}}})
    with pytest.raises(ConfigError, match=r"category_presets\.3\.job\.storage_targets: no storage target named 's3'"):
        categories({3: {"job": {"storage_targets": ["s3"]}}}, job={"locked": []})
    with pytest.raises(ConfigError, match=r"category_presets\.0: a category id is a positive number"):
        categories({0: {"job": {}}})


def test_a_category_cannot_change_what_the_site_locks() -> None:
    # retention_years is locked by [presets.job] by default: the message says how to let categories choose it.
    with pytest.raises(ConfigError) as refused:
        categories({3: {"job": {"retention_years": 10}}})
    message = str(refused.value)
    assert "category_presets.3.job.retention_years" in message and "[presets.job] locks retention_years" in message
    assert "locked = [...]" in message
    with pytest.raises(ConfigError, match=r"category_presets\.2\.slowtest\.flavour: \[presets\.slowtest\] locks"):
        categories({2: {"slowtest": {"flavour": "faculty"}}}, slowtest={"flavour": "site", "locked": ["flavour"]})
    # The same value (5 and 5.0 alike) is no change; an unlocked site keeps categories free.
    categories({3: {"job": {"retention_years": 3.0}}})
    categories({3: {"job": {"retention_years": 10}}}, job={"locked": []})


def test_unknown_category_ids_are_fine_and_without_category_presets_nothing_is_configured() -> None:
    assert categories({999: {"job": {"archive_name": "x-${cmid}"}}}).configured
    assert not categories({}).configured


# -- precedence -----------------------------------------------------------------------------------------------


def test_the_nearest_category_wins_over_its_parent_and_every_category_over_the_site() -> None:
    presets = categories(
        {2: {"slowtest": {"files": 5, "flavour": "faculty"}}, 3: {"slowtest": {"files": 7}}},
        slowtest={"files": 4, "file_size": 100},
    )
    values = {
        place.course_id: resolve(SlowTestSettings, presets.in_force(place, MODELS).presets["slowtest"], {}).values
        for place in (IN_3, IN_2, ELSEWHERE)
    }
    assert (values[4]["files"], values[4]["flavour"], values[4]["file_size"]) == (7, "faculty", 100)
    assert (values[3]["files"], values[3]["flavour"]) == (5, "faculty")
    assert (values[5]["files"], values[5]["flavour"]) == (4, "plain")
    assert presets.in_force(IN_3, MODELS).applied == ["site", "category 2", "category 3"]
    assert presets.in_force(ELSEWHERE, MODELS).applied == ["site"]
    assert presets.in_force(None, MODELS).applied == ["site"]


def test_a_parents_lock_holds_in_its_subcategories_which_cannot_change_or_unlock_it() -> None:
    presets = categories(
        {2: {"slowtest": {"flavour": "faculty", "locked": ["flavour"]}}, 3: {"slowtest": {"flavour": "exams"}}}
    )
    in_force = presets.in_force(IN_3, MODELS)
    preset = in_force.presets["slowtest"]
    assert preset.values["flavour"] == "faculty" and preset.locked_by == {"flavour": "category 2"}
    [note] = in_force.overruled
    assert "category 3's preset sets 'exams', but category 2 locks it at 'faculty'" in note
    resolved = resolve(SlowTestSettings, preset, {"flavour": "mine"})
    assert resolved.values["flavour"] == "faculty" and resolved.forced == ["flavour"]
    assert resolved.sources["flavour"] == "category 2" and resolved.locked_by == {"flavour": "category 2"}


def test_a_category_lock_without_a_value_locks_the_value_from_above() -> None:
    presets = categories({3: {"job": {"locked": ["storage_targets"]}}}, job={"storage_targets": ["worm"]})
    job_preset = presets.in_force(IN_3, MODELS).presets[JOB_PRESET]
    resolved = resolve(JobSettings, job_preset, {"storage_targets": ["local"]})
    assert resolved.values["storage_targets"] == ["worm"] and resolved.forced == ["storage_targets"]
    assert resolved.sources["storage_targets"] == "site"
    assert resolved.locked_by == {"retention_years": "site", "storage_targets": "category 3"}
    # The parent category (and any course outside category 3) is not locked by it.
    assert "storage_targets" not in presets.in_force(IN_2, MODELS).presets[JOB_PRESET].locked


def test_every_resolved_value_says_where_it_came_from() -> None:
    presets = categories(
        {2: {"slowtest": {"files": 5}}, 3: {"slowtest": {"flavour": "exams"}}}, slowtest={"fatal": False}
    )
    resolved = resolve(SlowTestSettings, presets.in_force(IN_3, MODELS).presets["slowtest"], {"delay_seconds": 0.5})
    assert resolved.sources == {
        "files": "category 2",
        "file_size": "default",
        "delay_seconds": "request",
        "fail_times": "default",
        "fatal": "site",
        "secret_in_error": "default",
        "flavour": "category 3",
        "course_name": "default",
    }


def test_describe_names_the_preset_of_each_value_and_lock() -> None:
    presets = categories({3: {"slowtest": {"flavour": "exams", "locked": ["flavour"]}}}, slowtest={"files": 9})
    described = {s.key: s for s in describe(SlowTestSettings, presets.in_force(IN_3, MODELS).presets["slowtest"])}
    assert (described["flavour"].value, described["flavour"].locked) == ("exams", True)
    assert (described["flavour"].source, described["flavour"].locked_by) == ("category 3", "category 3")
    assert (described["files"].source, described["files"].locked_by) == ("site", None)
    assert described["fatal"].source == "default"


def test_layering_only_the_site_changes_nothing() -> None:
    only_site = site(slowtest={"flavour": "site", "locked": ["flavour"]})["slowtest"]
    layered, notes = layer([only_site], SlowTestSettings)
    assert (layered.values, layered.locked, notes) == (only_site.values, only_site.locked, [])
