"""Encoding web-service parameters as PHP bracket-syntax form fields.

Moodle reads `$_POST`, which PHP builds from bracketed keys: `courseids[0]=2`, `options[0][name]=…`,
`options[ids][0]=2`. Moodle validates strictly: unknown keys are rejected, PARAM_BOOL accepts only `0`/`1`,
PARAM_INT only the exact decimal string. So nested structures are flattened here by hand (httpx would send
`courseids=2&courseids=5`, which PHP collapses to the last value), bools become `0`/`1`, numbers their exact
decimal text, `None` values are left out (Moodle then applies the default), and key order is kept.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode

RESERVED_KEYS = ("wstoken", "wsfunction", "moodlewsrestformat")


def encode_scalar(value: Any, *, key: str = "?") -> str:
    """The form text of one scalar: bools → 0/1, ints/floats/Decimals → exact decimal, str unchanged."""
    if isinstance(value, enum.Enum):
        value = value.value
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"parameter {key}: {value!r} cannot be sent to Moodle (not a finite number)")
        if value.is_integer():
            # 7.0 → "7": valid for both PARAM_INT and PARAM_FLOAT, while "7.0" fails PARAM_INT.
            return str(int(value))
        text = repr(value)
        return format(Decimal(text), "f") if "e" in text or "E" in text else text
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError(f"parameter {key}: {value!r} cannot be sent to Moodle (not a finite number)")
        if value == value.to_integral_value():
            return str(int(value))
        return format(value.normalize(), "f")
    if isinstance(value, str):
        return value
    raise TypeError(
        f"parameter {key}: a {type(value).__name__} cannot be sent to Moodle; use str, int, float, bool, "
        "a list or a dict"
    )


def _flatten(prefix: str, value: Any, out: list[tuple[str, str]]) -> None:
    if value is None:
        return
    if isinstance(value, Mapping):
        for sub_key, sub_value in value.items():
            _flatten(f"{prefix}[{_key_text(sub_key, prefix)}]", sub_value, out)
    elif isinstance(value, Sequence) and not isinstance(value, str | bytes | bytearray):
        # Moodle ignores list keys but keeps iteration order; dense indices keep the form readable.
        index = 0
        for item in value:
            if item is None:
                continue
            _flatten(f"{prefix}[{index}]", item, out)
            index += 1
    else:
        out.append((prefix, encode_scalar(value, key=prefix)))


def _key_text(key: Any, where: str) -> str:
    if isinstance(key, bool) or not isinstance(key, str | int):
        raise TypeError(f"parameter {where}: keys must be str or int, not {type(key).__name__}")
    text = str(key)
    if not text or any(ch in text for ch in "[]&="):
        raise ValueError(f"parameter {where}: key {text!r} cannot be encoded as a PHP form key")
    return text


def flatten_params(params: Mapping[str, Any] | None) -> list[tuple[str, str]]:
    """Flatten function parameters into ordered `(bracket key, text)` pairs, skipping `None` values."""
    out: list[tuple[str, str]] = []
    for key, value in (params or {}).items():
        name = _key_text(key, "<top level>")
        if name in RESERVED_KEYS:
            raise ValueError(f"parameter {name!r} is reserved for the client and cannot be passed as a parameter")
        _flatten(name, value, out)
    return out


def encode_params(function: str, params: Mapping[str, Any] | None, token: str) -> list[tuple[str, str]]:
    """The complete ordered form fields of a REST call: wstoken, wsfunction, moodlewsrestformat=json, params."""
    if not function:
        raise ValueError("a web-service function name is required")
    return [
        ("wstoken", token),
        ("wsfunction", function),
        ("moodlewsrestformat", "json"),
        *flatten_params(params),
    ]


def form_body(fields: Sequence[tuple[str, str]]) -> bytes:
    """`application/x-www-form-urlencoded` bytes of the fields, in order (brackets percent-encoded like PHP)."""
    return urlencode(list(fields)).encode("ascii")
