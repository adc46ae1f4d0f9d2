"""Every configuration key and job setting is documented: in docs/configuration.md and in the example file."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel

from archived.config import Config, StorageTargetConfig, parse_config
from archived.jobs.settings import JobSettings
from archived.plugins import storage_drivers
from archived_ftp.config import FtpConfig
from archived_local.storage import LocalDirectoryConfig
from archived_quiz.settings import QuizSettings
from archived_s3.config import S3Config
from archived_sftp.config import SftpConfig

REPO = Path(__file__).resolve().parents[2]
REFERENCE = (REPO / "docs" / "configuration.md").read_text()
EXAMPLE_TEXT = (REPO / "config" / "archived.example.toml").read_text()


def _keys(model: type[BaseModel], prefix: str = "") -> list[str]:
    keys = []
    for name, field in model.model_fields.items():
        sub = next((a for a in (field.annotation, *getattr(field.annotation, "__args__", ())) if
                    isinstance(a, type) and issubclass(a, BaseModel)), None)  # fmt: skip
        keys += _keys(sub, f"{prefix}{name}.") if sub else [f"{prefix}{name}"]
    return keys


# Presets (site and category) are tables of job settings: those are checked as SETTING_KEYS.
SECTION_KEYS = [k for k in _keys(Config) if not k.startswith(("presets", "category_presets", "storage"))]
TARGET_KEYS = [
    *StorageTargetConfig.model_fields,
    *LocalDirectoryConfig.model_fields,
    *SftpConfig.model_fields,
    *FtpConfig.model_fields,
    *S3Config.model_fields,
]
SETTING_KEYS = [*JobSettings.model_fields, *QuizSettings.model_fields]


@pytest.mark.parametrize("key", SECTION_KEYS + TARGET_KEYS + SETTING_KEYS)
def test_the_reference_names_every_key(key: str) -> None:
    assert f"`{key.rpartition('.')[2]}`" in REFERENCE, f"docs/configuration.md does not document {key}"


@pytest.mark.parametrize("key", SECTION_KEYS + TARGET_KEYS + SETTING_KEYS)
def test_the_example_file_names_every_key(key: str) -> None:
    name = key.rpartition(".")[2]
    assert f"\n{name} =" in EXAMPLE_TEXT or f"\n# {name} =" in EXAMPLE_TEXT, f"the example does not show {key}"


def test_the_example_file_is_a_valid_configuration() -> None:
    data: dict[str, Any] = tomllib.loads(EXAMPLE_TEXT)
    config = parse_config(data, "config/archived.example.toml")
    assert config.moodle is not None and "local" in config.storage


def _commented_targets() -> dict[str, dict[str, Any]]:
    """The example's commented-out `# [storage.<name>]` tables, uncommented and parsed."""
    assignment = re.compile(r"# (\[storage\.[\w-]+\]|[a-z_]+ = .*)")
    tables: dict[str, dict[str, Any]] = {}
    for block in re.split(r"\n\s*\n", EXAMPLE_TEXT):
        lines = [m.group(1) for line in block.splitlines() if (m := assignment.fullmatch(line.strip()))]
        if lines and lines[0].startswith("[storage."):
            tables.update(tomllib.loads("\n".join(lines))["storage"])
    return tables


def test_the_examples_commented_targets_are_valid_for_their_drivers() -> None:
    tables = _commented_targets()
    assert {table["driver"] for table in tables.values()} >= {"sftp", "ftp", "s3"}
    drivers = storage_drivers()
    for table in tables.values():
        target = StorageTargetConfig.model_validate(table)
        drivers[target.driver].config_model.model_validate(target.driver_options())
