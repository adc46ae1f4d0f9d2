"""docs/connectors.md and the example configuration are true: every driver key is documented and shown, the
example's connector tables are valid, and the worked example posts what the page says it posts."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel

from archived.config import ConnectorConfig, parse_config
from archived.connectors.command import CommandOptions
from archived.connectors.mail import MailOptions
from archived.connectors.webhook import WebhookOptions
from archived.store.jobs import JobStore

from .conftest import add_job, index_people, running, secret_file, store_archive, until
from .receiver import WebhookReceiver

REPO = Path(__file__).resolve().parents[2]
PAGE = (REPO / "docs" / "connectors.md").read_text()
EXAMPLE = (REPO / "config" / "archived.example.toml").read_text()
DRIVER_MODELS: dict[str, type[BaseModel]] = {"webhook": WebhookOptions, "mail": MailOptions, "command": CommandOptions}
DRIVER_KEYS = [(driver, key) for driver, model in DRIVER_MODELS.items() for key in model.model_fields]


@pytest.mark.parametrize("driver, key", DRIVER_KEYS)
def test_every_driver_key_is_documented_and_shown_in_the_example(driver: str, key: str) -> None:
    assert f"`{key}`" in PAGE, f"docs/connectors.md does not document {driver}'s {key}"
    assert f"\n# {key} =" in EXAMPLE, f"config/archived.example.toml does not show {driver}'s {key}"


def commented_connectors() -> dict[str, dict[str, Any]]:
    """The example's commented-out `# [connectors.<name>]` tables, uncommented and parsed."""
    assignment = re.compile(r"# (\[connectors\.[\w-]+\]|[a-z_]+ = .*)")
    tables: dict[str, dict[str, Any]] = {}
    for block in re.split(r"\n\s*\n", EXAMPLE):
        lines = [m.group(1) for line in block.splitlines() if (m := assignment.fullmatch(line.strip()))]
        if lines and lines[0].startswith("[connectors."):
            tables.update(tomllib.loads("\n".join(lines))["connectors"])
    return tables


def test_the_examples_connector_tables_are_valid_for_their_drivers() -> None:
    tables = commented_connectors()
    assert {table["driver"] for table in tables.values()} == set(DRIVER_MODELS)
    config = parse_config({"connectors": tables})
    for connector in config.connectors.values():
        DRIVER_MODELS[connector.driver].model_validate(connector.driver_options())


def worked_example() -> dict[str, Any]:
    """The worked example's `[connectors.campus]` table, as the page shows it."""
    section = PAGE[PAGE.index("### Worked example") :]
    block = re.search(r"```toml\n(.*?)```", section, re.S)
    assert block is not None
    return dict(tomllib.loads(block.group(1))["connectors"]["campus"])


async def test_the_worked_example_posts_what_the_page_shows(store: JobStore, tmp_path: Path) -> None:
    table = worked_example()
    ConnectorConfig.model_validate(table)
    receiver = WebhookReceiver(secret="campus secret").start()
    # Only where it is sent and where its secrets are differ from the page; the events, filter and template are its.
    table.pop("ca_file")
    table.update(
        url=receiver.url, secret_file=str(secret_file(tmp_path, "campus.secret", "campus secret")),
        token_file=str(secret_file(tmp_path, "campus.token", "campus token")), retry_base_seconds=0.01,
        retry_max_seconds=0.05, max_attempts=100,
    )  # fmt: skip
    try:
        async with running(store, {"campus": table}):
            await add_job(store, "job-1")
            await store_archive(store, "job-1", sha256="5e" * 32, target="local")  # another copy: nothing sent
            artifact = await store_archive(store, "job-1", sha256="5e" * 32, target="worm")
            await index_people(store, artifact, (3, "4711", "Ada", "Lovelace"), (4, "0815", "Alan", "Turing"))
            await until(lambda: receiver.accepted, "the campus record")
    finally:
        receiver.stop()
    [request] = receiver.requests
    assert request.signature_ok and request.headers["Authorization"] == "Bearer campus token"
    sent = request.json()
    stored_at = sent["archive"].pop("stored_at")
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", stored_at)
    assert sent == {
        "archive": {"location": "2026/job-1.zip", "sha256": "5e" * 32},
        "course": {"id": 2, "name": "Linear Algebra"},
        "exam": {"cmid": 7, "name": "Final exam"},
        "students": [
            {"matriculation_number": "4711", "name": "Ada Lovelace"},
            {"matriculation_number": "0815", "name": "Alan Turing"},
        ],
    }
