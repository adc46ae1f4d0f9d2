"""The protocol reference is produced from the models: `docs/protocol.md` is their committed copy, and `archived
protocol` prints the method list, the JSON schemas and the reference for people writing their own clients."""

from __future__ import annotations

import json
import subprocess
import sys

from archived.protocol.errors import ERROR_MEANINGS, ErrorCode
from archived.protocol.events import EVENT_MODELS
from archived.protocol.methods import METHODS
from archived.protocol.reference import markdown
from tests.support.daemon import REPO

DOC = REPO / "docs" / "protocol.md"


def archived(*args: str) -> str:
    """`archived …` in a child process; its standard output."""
    result = subprocess.run([sys.executable, "-m", "archived", *args], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_the_committed_reference_is_what_the_models_say() -> None:
    assert DOC.read_text(encoding="utf-8") == markdown(), (
        "docs/protocol.md and archived.protocol disagree: regenerate it with "
        "`archived protocol --markdown > docs/protocol.md` and review the difference"
    )


def test_the_reference_names_every_method_error_code_and_event() -> None:
    text = markdown()
    for spec in METHODS:
        assert f"### `{spec.name}`" in text
    for code in ErrorCode:
        assert f"| {int(code)} | `{code.name}` | {ERROR_MEANINGS[code]} |" in text
    for kind in EVENT_MODELS:
        assert f"| `{kind.value}` |" in text


def test_the_command_prints_methods_schemas_and_the_reference() -> None:
    listing = archived("protocol").splitlines()
    assert [line.split()[0] for line in listing] == [spec.name for spec in METHODS]
    assert any(line.split()[:2] == ["jobs.create", "operator"] for line in listing)
    schemas = json.loads(archived("protocol", "--json"))
    assert schemas["protocol"] == 1 and set(schemas["methods"]) == {spec.name for spec in METHODS}
    create = schemas["methods"]["jobs.create"]
    assert create["operator_only"] and create["params"]["required"] == ["course_id", "cmid"]
    assert "job" in create["result"]["properties"] and set(schemas["events"]) == {k.value for k in EVENT_MODELS}
    assert archived("protocol", "--markdown") == DOC.read_text(encoding="utf-8")
