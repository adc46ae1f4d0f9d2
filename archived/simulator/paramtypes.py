"""Moodle's PARAM_* types: how `clean_param()` cleans a value and when `validate_param()` rejects it.

Validation follows `core\\param::validate_param`: the value is cleaned, and any difference between the raw
string and the cleaned string is an error. That is why `"7.0"` is not a valid int and `"true"` not a valid bool.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

_PHP_INT_MAX = 2**63 - 1
_FLOAT_RE = re.compile(r"^[+-]?[0-9]*\.?[0-9]*(e[-+]?[0-9]+)?$", re.IGNORECASE)
_INT_RE = re.compile(r"^-?[0-9]+$")
_TAG_RE = re.compile(r"<[a-zA-Z/!?]")


class ParamRejected(ValueError):
    """`validate_param` found that cleaning changed the value."""


def php_string(value: Any) -> str:
    """PHP's `(string)` cast of a scalar."""
    if value is True:
        return "1"
    if value is False or value is None:
        return ""
    if isinstance(value, float):
        return php_float_repr(value)
    return str(value)


def php_float_repr(value: float) -> str:
    """How PHP 8 prints a float (`serialize_precision=-1`): shortest round-trip form, whole numbers bare."""
    if math.isnan(value):
        return "NAN"
    if math.isinf(value):
        return "INF" if value > 0 else "-INF"
    if value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    text = repr(value)
    if "e" in text:
        mantissa, exponent = text.split("e")
        if "." not in mantissa:
            mantissa += ".0"
        sign = "-" if exponent.startswith("-") else "+"
        text = f"{mantissa}e{sign}{exponent.lstrip('+-')}"
    return text


@dataclass(frozen=True)
class ParamType:
    """One PARAM_* constant; `name` is the constant's value as Moodle prints it in error messages."""

    name: str

    def clean(self, value: Any) -> Any:
        """`clean_param()` for this type."""
        text = php_string(value)
        if self.name == "int":
            return _php_intval(text)
        if self.name == "float":
            return _php_floatval(text)
        if self.name == "bool":
            lowered = text.strip().lower()
            if lowered in ("on", "yes", "true"):
                return 1
            if lowered in ("off", "no", "false"):
                return 0
            return 1 if _php_intval(text) or (text and text != "0" and not _INT_RE.match(text)) else 0
        if self.name in ("raw", "raw_trimmed"):
            return value.strip() if self.name == "raw_trimmed" and isinstance(value, str) else value
        if self.name == "alpha":
            return re.sub(r"[^a-zA-Z]", "", text)
        if self.name == "alphanum":
            return re.sub(r"[^A-Za-z0-9]", "", text)
        if self.name == "alphanumext":
            return re.sub(r"[^a-zA-Z0-9_-]", "", text)
        if self.name in ("text", "notags"):
            return text if not _TAG_RE.search(text) else _TAG_RE.sub("", text)
        if self.name == "capability":
            return text if re.fullmatch(r"[a-z0-9_]+/[a-z0-9_]+:[a-z0-9_]+", text) else ""
        if self.name in ("component", "area", "plugin"):
            return text if re.fullmatch(r"[a-z][a-z0-9_]*", text) or text == "" else ""
        return text

    def validate(self, value: Any) -> Any:
        """`validate_param()`: the cleaned value, or ParamRejected when cleaning changed it."""
        cleaned = self.clean(value)
        if self.name == "float":
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                return float(value)
            text = php_string(value)
            if not _is_numeric(text) or not _FLOAT_RE.match(text):
                raise ParamRejected(text)
            return cleaned
        if php_string(value) != php_string(cleaned):
            raise ParamRejected(php_string(value))
        return cleaned

    def clean_return(self, value: Any) -> Any:
        """The JSON type a return value of this type gets after `clean_returnvalue()`."""
        if self.name == "bool" and value in (True, False, 0, 1, "0", "1"):
            return bool(int(value)) if not isinstance(value, bool) else value
        if self.name == "raw":
            # PARAM_RAW keeps PHP's own type: ints stay ints (`"value":1` in course format options).
            return value
        if self.name == "int":
            if isinstance(value, bool):
                return int(value)
            if isinstance(value, float) and value.is_integer():
                return int(value)
        return self.validate(value)


def _php_intval(text: str) -> int:
    match = re.match(r"\s*([+-]?[0-9]+)", text)
    if not match:
        return 0
    number = int(match.group(1))
    return max(-_PHP_INT_MAX - 1, min(_PHP_INT_MAX, number))


def _php_floatval(text: str) -> float:
    match = re.match(r"\s*([+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?)", text)
    return float(match.group(1)) if match else 0.0


def _is_numeric(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return text.strip() != "" and text.lower() not in ("nan", "inf", "-inf", "+inf", "infinity")


INT = ParamType("int")
FLOAT = ParamType("float")
BOOL = ParamType("bool")
RAW = ParamType("raw")
ALPHA = ParamType("alpha")
ALPHANUM = ParamType("alphanum")
ALPHANUMEXT = ParamType("alphanumext")
TEXT = ParamType("text")
NOTAGS = ParamType("notags")
CAPABILITY = ParamType("capability")
COMPONENT = ParamType("component")
AREA = ParamType("area")
PLUGIN = ParamType("plugin")
PATH = ParamType("path")
FILE = ParamType("file")
URL = ParamType("url")
LANG = ParamType("lang")
USERNAME = ParamType("username")
