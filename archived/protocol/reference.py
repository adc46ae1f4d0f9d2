"""The protocol reference, produced from the models: the method list, JSON schemas for people writing their own
clients, and `docs/protocol.md` (a test fails when the committed file and the models disagree)."""

from __future__ import annotations

import inspect
import types
import typing
from collections.abc import Iterator
from datetime import datetime
from enum import Enum
from typing import Any

import annotated_types
from pydantic import BaseModel
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

from archived.protocol import wire
from archived.protocol.base import UtcTime
from archived.protocol.errors import ERROR_MEANINGS, ErrorCode
from archived.protocol.events import EVENT_MODELS, RESERVED_KINDS, EventNotification
from archived.protocol.methods import METHODS, MethodSpec
from archived.protocol.states import ACTIVE_STATES, RETRYABLE_STATES, STAGES, TERMINAL_STATES, JobState, Outcome

INTRO = f"""\
# The control socket protocol (version {wire.PROTOCOL_VERSION})

Generated from `archived.protocol` by `archived protocol --markdown`; a test fails when this file and the models
disagree. `archived protocol` lists the methods, `archived protocol --json` prints their JSON schemas.

JSON-RPC 2.0 over a Unix stream socket: one JSON object per line (UTF-8, `\\n`-terminated, at most
{wire.MAX_LINE_BYTES:,} bytes). The first call on a connection is `hello`. Methods marked *operator* change
something and are refused unless the peer's credentials (SO_PEERCRED) belong to a configured operator. After
`events.subscribe` the daemon sends `{wire.EVENT_METHOD}` notifications (no `id`) on the same connection. Times are
ISO-8601 strings in UTC (`2026-11-28T09:00:00Z`) unless a field says *Unix time*. Answers may gain fields within a
protocol version: clients ignore keys they do not know. Unknown request parameters are refused.
"""


def method_lines() -> list[str]:
    """One line per method: its name, who may call it and what it does (`archived protocol`)."""
    width = max(len(spec.name) for spec in METHODS)
    return [
        f"{spec.name:<{width}}  {'operator' if spec.mutating else 'anyone':<8}  {spec.description}" for spec in METHODS
    ]


def json_schemas() -> dict[str, Any]:
    """The JSON schema of every method's params and result, and of every event payload (`archived protocol
    --json`)."""
    return {
        "protocol": wire.PROTOCOL_VERSION,
        "methods": {
            spec.name: {
                "description": spec.description,
                "operator_only": spec.mutating,
                "params": spec.params.model_json_schema(),
                "result": spec.result.model_json_schema(mode="serialization", by_alias=True),
            }
            for spec in METHODS
        },
        "notification": EventNotification.model_json_schema(mode="serialization"),
        "events": {
            kind.value: {
                "version": model.VERSION,
                "durable": model.DURABLE,
                "data": model.model_json_schema(mode="serialization", by_alias=True),
            }
            for kind, model in EVENT_MODELS.items()
        },
        "errors": {str(int(code)): {"name": code.name, "meaning": ERROR_MEANINGS[code]} for code in ErrorCode},
    }


def markdown() -> str:
    """`docs/protocol.md`."""
    named: dict[str, type[BaseModel]] = {}  # models referenced by fields, described once under "Types"
    parts = [INTRO, "## Methods\n", "| method | who | what it does |", "|---|---|---|"]
    parts += [f"| [`{s.name}`](#{_anchor(s.name)}) | {_who(s)} | {s.description} |" for s in METHODS]
    parts.append("")
    for spec in METHODS:
        parts.append(f"### `{spec.name}`\n")
        who = "Only operators may call it." if spec.mutating else "Anyone who can open the socket may call it."
        parts.append(f"{_sentence(spec.description)} {who}\n")
        parts += _model_section("Params", spec.params, named)
        parts += _model_section("Result", spec.result, named)
    parts += _states_section()
    parts += _errors_section()
    parts += _events_section(named)
    parts += _types_section(named)
    return "\n".join(parts).rstrip() + "\n"


def _who(spec: MethodSpec[Any, Any]) -> str:
    return "operator" if spec.mutating else "anyone"


def _anchor(name: str) -> str:
    return name.replace(".", "").lower()


def _sentence(text: str) -> str:
    text = text.strip()
    return (text[:1].upper() + text[1:]).rstrip(".") + "."


def _doc(model: type[BaseModel]) -> str:
    return " ".join((inspect.getdoc(model) or "").split())


def _model_section(title: str, model: type[BaseModel], named: dict[str, type[BaseModel]]) -> list[str]:
    if not model.model_fields:
        return [f"{title}: none.\n"]
    lines = [f"{title} (`{model.__name__}`): {_doc(model)}\n"]
    return lines + _field_table(model, named) + [""]


def _field_table(model: type[BaseModel], named: dict[str, type[BaseModel]]) -> list[str]:
    lines = ["| field | type | default | description |", "|---|---|---|---|"]
    for name, field in model.model_fields.items():
        key = field.serialization_alias or field.alias or name
        described = "; ".join(part for part in (_bounds(field), field.description) if part)
        lines.append(f"| `{key}` | {_type(field.annotation, named)} | {_default(field)} | {described} |")
    return lines


def _bounds(field: FieldInfo) -> str:
    """The field's limits in words, e.g. `1 to 1000`."""
    low = high = ""
    for rule in field.metadata:
        if isinstance(rule, annotated_types.Gt):
            low = f"more than {rule.gt}"
        elif isinstance(rule, annotated_types.Ge):
            low = f"at least {rule.ge}"
        elif isinstance(rule, annotated_types.Le):
            high = f"at most {rule.le}"
        elif isinstance(rule, annotated_types.MinLen):
            low = f"at least {rule.min_length} characters"
    return ", ".join(part for part in (low, high) if part)


def _default(field: FieldInfo) -> str:
    if field.is_required():
        return "required"
    value = field.get_default(call_default_factory=True)
    if value is PydanticUndefined:
        return ""
    if isinstance(value, BaseModel):
        return "see type"
    if isinstance(value, Enum):
        value = value.value
    if value is None:
        return "`null`"
    if isinstance(value, bool):
        return f"`{str(value).lower()}`"
    return f"`{value!r}`".replace("'", '"')


def _type(annotation: Any, named: dict[str, type[BaseModel]]) -> str:
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin in (typing.Union, types.UnionType):
        return " or ".join(_type(arg, named) for arg in args)
    if origin is typing.Annotated:
        return _type(args[0], named)
    if origin is typing.Literal:
        return " or ".join(f'`"{arg}"`' for arg in args)
    if origin in (list, tuple):
        return f"list of {_type(args[0], named)}"
    if origin is dict:
        return f"object of {_type(args[1], named)}"
    if annotation is type(None):
        return "`null`"
    if annotation is Any:
        return "any"
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        named.setdefault(annotation.__name__, annotation)
        return f"[`{annotation.__name__}`](#{annotation.__name__.lower()})"
    if isinstance(annotation, type) and issubclass(annotation, JobState):
        return "[job state](#job-states)"
    if isinstance(annotation, type) and issubclass(annotation, Enum):
        return " or ".join(f'`"{member.value}"`' for member in annotation)
    simple = {str: "string", int: "integer", float: "number", bool: "boolean", datetime: "time", UtcTime: "time"}
    if annotation in simple:
        return simple[annotation]
    raise TypeError(f"no protocol name for the type {annotation!r}; add one to archived.protocol.reference")


def _types_section(named: dict[str, type[BaseModel]]) -> list[str]:
    lines = ["## Types\n", "The objects that results and event payloads contain.\n"]
    done: set[str] = set()
    while len(done) < len(named):  # describing a type may name further types
        for name in sorted(set(named) - done):
            done.add(name)
            model = named[name]
            lines.append(f"### `{name}`\n")
            lines.append(f"{_doc(model)}\n")
            lines += _field_table(model, named)
            lines.append("")
    return lines


def _states_section() -> list[str]:
    lines = [
        "## Job states\n",
        "A job's `state` is one of these. *Active* jobs may be canceled; jobs that ended without completing may be "
        "retried. Cleanup leads to the job's `outcome` (" + ", ".join(f"`{o.value}`" for o in Outcome) + ").\n",
        "| state | stage | active | ended | may be retried |",
        "|---|---|---|---|---|",
    ]
    for state in JobState:
        marks = [state in STAGES, state in ACTIVE_STATES, state in TERMINAL_STATES, state in RETRYABLE_STATES]
        lines.append(f"| `{state.value}` | " + " | ".join("yes" if mark else "" for mark in marks) + " |")
    return [*lines, ""]


def _errors_section() -> list[str]:
    lines = [
        "## Error codes\n",
        'An error answer is `{"code": …, "message": …, "data": …}`; the message is for people and names what it is '
        "about, the code is for programs.\n",
        "| code | name | meaning |",
        "|---|---|---|",
    ]
    lines += [f"| {int(code)} | `{code.name}` | {ERROR_MEANINGS[code]} |" for code in ErrorCode]
    return [*lines, ""]


def _events_section(named: dict[str, type[BaseModel]]) -> list[str]:
    lines = [
        "## Events\n",
        f"Each `{wire.EVENT_METHOD}` notification's params are one event (`{EventNotification.__name__}`): "
        f"{_doc(EventNotification)}\n",
        *_field_table(EventNotification, named),
        "",
        "`events.subscribe` takes exact kinds (`job.state`) or families (`job`). *Durable* events come from the "
        "daemon's outbox, in order, each with its `id`; the others are live notifications (progress is coalesced "
        "per job: a newer one replaces one not yet sent). A payload's `version` changes when a field is removed or "
        "changes meaning.\n",
        "| kind | version | durable | data |",
        "|---|---|---|---|",
    ]
    for kind, model in EVENT_MODELS.items():
        lines.append(
            f"| `{kind.value}` | {model.VERSION} | {'yes' if model.DURABLE else ''} | "
            f"[`{model.__name__}`](#{model.__name__.lower()}) |"
        )
    if RESERVED_KINDS:
        reserved = ", ".join(f"`{kind.value}`" for kind in sorted(RESERVED_KINDS))
        lines.append(f"\nReserved, not sent yet: {reserved}.\n")
    lines += _event_payloads(named)
    return lines


def _event_payloads(named: dict[str, type[BaseModel]]) -> Iterator[str]:
    yield "### Event payloads\n"
    for model in EVENT_MODELS.values():
        yield f"#### `{model.__name__}`\n"
        yield f"{_doc(model)}\n"
        yield from _field_table(model, named)
        yield ""
