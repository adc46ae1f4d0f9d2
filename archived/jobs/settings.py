"""Job settings: what each job may be told, the site presets for it, and the locks the server enforces.

Every job has engine-level settings (`JobSettings`: retention, archive name, storage targets) and the settings
its activity driver declares. Both are pydantic models. A job's values are resolved in this order:
model default → site preset (`[presets.job]`, `[presets.<driver>]`) → the presets of the course's categories
(`archived.jobs.category_presets`) → the request → locked preset values, which are forced whoever asks. Invalid
values are refused with a message that names the setting. Each resolved value keeps where it came from.
"""

from __future__ import annotations

import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, Literal

from pydantic import Field, ValidationError, field_validator

from archived.archive.names import ARCHIVE_VARIABLES, DEFAULT_ARCHIVE_NAME, PatternError, validate_pattern
from archived.errors import ConfigError, FatalError
from archived.interfaces.activity import DriverSettings

JOB_PRESET = "job"
DEFAULT_JOB_LOCKS = ("retention_years",)
SITE = "site"  # the level of `[presets.*]`; a category preset's level is "category <id>"
DEFAULT = "default"  # a value nobody set: the model's default
REQUEST = "request"  # a value the job's request chose


class InvalidSetting(FatalError):
    """A requested setting is unknown or its value is invalid."""

    code = "invalid_setting"


class JobSettings(DriverSettings):
    """Settings every job has, whatever its activity type."""

    retention_years: int = Field(
        3, ge=1, le=100, description="Years to keep the archive; expired archives are deleted by the retention sweep."
    )
    archive_name: str = Field(
        DEFAULT_ARCHIVE_NAME,
        description="Archive file name pattern; variables: "
        + ", ".join(f"${{{v}}}" for v in sorted(ARCHIVE_VARIABLES)),
    )
    storage_targets: list[str] = Field(
        default_factory=list, description="Storage targets to write to (empty: every configured target)."
    )

    backup_source: Literal["none", "latest_automated", "cli"] = Field(
        "none",
        description="Moodle backup (.mbz) put into the archive under backups/: none; latest_automated (the newest "
        "backup Moodle keeps of the course or activity: automated backups, admin/cli/backup.php); cli (made by "
        "[backups] cli_command, where archived runs on the Moodle host).",
    )
    backup_required: bool = Field(
        False, description="A missing or too old backup fails the job (otherwise the archive is made without one)."
    )
    backup_max_age_hours: float = Field(
        24.0,
        ge=0,
        description="How much older than the activity's last change a backup may be (0: made after it).",
    )

    @field_validator("archive_name")
    @classmethod
    def _known_variables(cls, value: str) -> str:
        try:
            validate_pattern(value, set(ARCHIVE_VARIABLES), allow_folders=False)
        except PatternError as exc:
            raise ValueError(str(exc)) from None
        return value


@dataclass(frozen=True)
class Preset:
    """Defaults for one settings model, which of them are locked, and the level each value and lock comes from."""

    values: dict[str, Any]
    locked: frozenset[str]
    sources: Mapping[str, str] = field(default_factory=dict)  # key → the level that set its value
    locked_by: Mapping[str, str] = field(default_factory=dict)  # key → the level that locked it

    @classmethod
    def from_config(cls, name: str, raw: dict[str, Any] | None, model: type[DriverSettings]) -> Preset:
        """Validate a `[presets.<name>]` table against the model it presets."""
        default_locks = DEFAULT_JOB_LOCKS if name == JOB_PRESET else ()
        return cls.from_table(f"presets.{name}", raw, model, level=SITE, default_locks=default_locks)

    @classmethod
    def from_table(
        cls, where: str, raw: dict[str, Any] | None, model: type[DriverSettings], *, level: str,
        default_locks: tuple[str, ...] = (),
    ) -> Preset:  # fmt: skip
        """Validate the preset table at `where` (its name in errors) for the preset level `level`."""
        data = dict(raw or {})
        locked = data.pop("locked", list(default_locks))
        if not isinstance(locked, list) or not all(isinstance(k, str) for k in locked):
            raise ConfigError(f"{where}.locked: expected a list of setting names")
        for key in [*data, *locked]:
            if key not in model.model_fields:
                raise ConfigError(f"{where}.{key}: unknown setting; known: {', '.join(sorted(model.model_fields))}")
        try:
            model.model_validate(data)
        except ValidationError as exc:
            raise ConfigError(_validation_message(exc, prefix=f"{where}.")) from None
        return cls(
            values=data,
            locked=frozenset(locked),
            sources=dict.fromkeys(data, level),
            locked_by=dict.fromkeys(locked, level),
        )

    def value(self, model: type[DriverSettings], key: str) -> Any:
        """The preset's value of `key`, or the model's default."""
        if key in self.values:
            return self.values[key]
        return model.model_fields[key].get_default(call_default_factory=True)


@dataclass
class SettingDescription:
    """One setting as the TUI's job dialog and `describe` show it."""

    key: str
    type: str
    default: Any
    value: Any  # the preset value, or the default
    locked: bool
    description: str
    choices: list[Any] | None = None
    source: str = DEFAULT  # the level the value comes from: default, site, category <id>
    locked_by: str | None = None  # the level that locks it

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return self.__dict__.copy()


@dataclass
class DescribedSettings:
    """The settings a job of one driver (and, when known, one course) would get, and the preset levels behind them."""

    settings: list[SettingDescription]
    applied: list[str]  # the preset levels in force, farthest first: site, category 2, category 3
    category_id: int | None = None  # the course's category (None: no course given, or no category presets)
    category_path: list[int] = field(default_factory=list)


@dataclass
class Resolution:
    """The result of resolving one model's settings for a job."""

    values: dict[str, Any]
    forced: list[str] = field(default_factory=list)  # requested keys that a lock overrode
    sources: dict[str, str] = field(default_factory=dict)  # every key → default, request, site or category <id>
    locked_by: dict[str, str] = field(default_factory=dict)  # every locked key → the level that locks it


def _json_value(value: Any) -> Any:
    if isinstance(value, Enum):
        return value.value
    return value


def _type_name(annotation: Any) -> tuple[str, list[Any] | None]:
    origin = typing.get_origin(annotation)
    if isinstance(annotation, type) and issubclass(annotation, Enum):
        return "choice", [m.value for m in annotation]
    if origin is Literal:
        return "choice", list(typing.get_args(annotation))
    if origin in (list, tuple):
        return "list", None
    if annotation is bool:
        return "bool", None
    if annotation is int:
        return "int", None
    if annotation is float:
        return "float", None
    return "str", None


def describe(model: type[DriverSettings], preset: Preset) -> list[SettingDescription]:
    """Every setting of a model with its default, preset value and lock."""
    described = []
    for key, info in model.model_fields.items():
        default = info.get_default(call_default_factory=True)
        type_name, choices = _type_name(info.annotation)
        described.append(
            SettingDescription(
                key=key,
                type=type_name,
                default=_json_value(default),
                value=_json_value(preset.values.get(key, default)),
                locked=key in preset.locked,
                description=info.description or "",
                choices=choices,
                source=preset.sources.get(key, SITE if key in preset.values else DEFAULT),
                locked_by=preset.locked_by.get(key, SITE) if key in preset.locked else None,
            )
        )
    return described


def _validation_message(exc: ValidationError, prefix: str = "") -> str:
    parts = []
    for error in exc.errors():
        key = ".".join(str(p) for p in error["loc"])
        message = error["msg"].removeprefix("Value error, ")
        if error["type"] == "extra_forbidden":
            message = "unknown setting"
        parts.append(f"setting {prefix}{key}: {message} (got {error.get('input')!r})")
    return "; ".join(parts)


def resolve(model: type[DriverSettings], preset: Preset, requested: dict[str, Any]) -> Resolution:
    """Resolve a job's settings for one model (see module docstring). Raises `InvalidSetting`."""
    values = dict(preset.values)
    values.update(requested)
    sources = {key: preset.sources.get(key, SITE) for key in preset.values}
    sources.update(dict.fromkeys(requested, REQUEST))
    forced = []
    for key in preset.locked:
        locked_value = preset.value(model, key)
        if key in requested and requested[key] != locked_value:
            forced.append(key)
        values[key] = locked_value
        sources[key] = preset.sources.get(key, SITE) if key in preset.values else DEFAULT
    try:
        instance = model.model_validate(values)
    except ValidationError as exc:
        raise InvalidSetting(_validation_message(exc)) from None
    # Locked values must survive validation unchanged (coercion could differ from the preset's raw form).
    return Resolution(
        values=instance.model_dump(mode="json"),
        forced=sorted(forced),
        sources={key: sources.get(key, DEFAULT) for key in model.model_fields},
        locked_by={key: preset.locked_by.get(key, SITE) for key in sorted(preset.locked)},
    )


def split_request(requested: dict[str, Any], models: dict[str, type[DriverSettings]]) -> dict[str, dict[str, Any]]:
    """Split a flat request (`{"paper_format": "A3", "retention_years": 5}`) by the model that owns each key."""
    split: dict[str, dict[str, Any]] = {name: {} for name in models}
    for key, value in requested.items():
        owners = [name for name, model in models.items() if key in model.model_fields]
        if not owners:
            known = sorted({k for model in models.values() for k in model.model_fields})
            raise InvalidSetting(f"setting {key}: unknown setting; known settings: {', '.join(known)}")
        split[owners[0]][key] = value
    return split
