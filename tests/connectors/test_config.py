"""`[connectors.<name>]` is validated before anything starts: errors name the key and say what was expected."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from archived.config import parse_config
from archived.connectors.service import Connectors
from archived.errors import ConfigError
from archived.store.jobs import JobStore

from .conftest import secret_file


def build(store: JobStore, table: dict[str, Any], **sections: Any) -> Connectors:
    return Connectors(parse_config({"connectors": {"campus": table}, **sections}), store)


HOOK = {"driver": "webhook", "url": "https://campus.example.org/hook", "events": ["job.*"]}


@pytest.mark.parametrize(
    "table, message",
    [
        ({**HOOK, "events": ["jobs.*"]}, "connectors.campus.events: 'jobs.*' matches no event"),
        ({**HOOK, "events": []}, "connectors.campus.events: name at least one event kind"),
        ({**HOOK, "driver": "pigeon"}, "connectors.campus.driver"),
        ({**HOOK, "max_attempts": 0}, "connectors.campus.max_attempts"),
    ],
)
def test_common_keys_are_checked_when_the_file_is_read(table: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError) as error:
        parse_config({"connectors": {"campus": table}})
    assert message in str(error.value)


@pytest.mark.parametrize(
    "table, message",
    [
        ({**HOOK, "url": "http://campus.example.org/hook"}, "plain http://"),
        ({**HOOK, "url": "https://user:pw@campus.example.org/"}, "not in the URL"),
        ({**HOOK, "auth": "bearer"}, 'auth = "bearer" needs token_file'),
        ({**HOOK, "timeout": 3}, "connectors.campus.timeout: unknown key for driver 'webhook'"),
        ({**HOOK, "body_template": "{{ event.kind "}, "connectors.campus.body_template: the template does not compile"),
        ({**HOOK, "headers": {"X-Archived-Signature": "x"}}, "is set by archived itself"),
        ({"driver": "mail", "events": ["job.failed"], "host": "smtp.example.org", "sender": "a@example.org"},
         "set recipients"),
        ({"driver": "mail", "events": ["job.failed"], "host": "smtp.example.org", "sender": "a@example.org",
          "recipients": ["b@example.org"], "security": "none", "username": "u", "password_file": "/nonexistent"},
         "clear text"),
        ({"driver": "command", "events": ["job.failed"], "argv": []}, "connectors.campus.argv"),
        ({**HOOK, "categories": [3]}, "connectors.campus.categories: needs [moodle]"),
    ],
)  # fmt: skip
def test_driver_keys_are_checked_before_the_daemon_starts(store: JobStore, table: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError) as error:
        build(store, table)
    assert message in str(error.value)


def test_a_secret_file_others_can_read_is_refused(store: JobStore, tmp_path: Path) -> None:
    path = secret_file(tmp_path, "secret", "x")
    path.chmod(0o644)
    with pytest.raises(ConfigError) as error:
        build(store, {**HOOK, "secret_file": str(path)})
    assert "connectors.campus.secret_file" in str(error.value) and "readable by others" in str(error.value)


def test_plain_http_is_allowed_to_this_machine_and_when_asked_for(store: JobStore) -> None:
    build(store, {**HOOK, "url": "http://127.0.0.1:8080/hook"})
    build(store, {**HOOK, "url": "http://campus.internal/hook", "allow_insecure_http": True})
