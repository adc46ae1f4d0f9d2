"""External function descriptions and the two walks Moodle does over them.

`validate_parameters` copies `external_api::validate_parameters` (missing keys, unexpected keys, scalar vs
array, type exactness, defaults) with Moodle's debug messages; `clean_return` copies
`external_api::clean_returnvalue` (description key order, unknown keys dropped, unset optional keys absent,
types coerced). Functions therefore build plain dicts and let their returns description shape the answer.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from archived.simulator.exceptions import MoodleError, invalid_parameter, invalid_response
from archived.simulator.paramtypes import BOOL, ParamRejected, ParamType, php_string


class Need(Enum):
    """Moodle's VALUE_REQUIRED / VALUE_OPTIONAL / VALUE_DEFAULT."""

    REQUIRED = 1
    OPTIONAL = 0
    DEFAULT = 2


_NO_DEFAULT = object()


@dataclass(frozen=True)
class Desc:
    """Base of the three description kinds."""

    need: Need = Need.REQUIRED
    default: Any = None
    allownull: bool = True


@dataclass(frozen=True)
class Value(Desc):
    """`external_value`: one scalar of a PARAM_* type."""

    type: ParamType = field(default_factory=lambda: ParamType("raw"))


@dataclass(frozen=True)
class Single(Desc):
    """`external_single_structure`: an object whose keys come in this order."""

    keys: dict[str, Desc] = field(default_factory=dict)


@dataclass(frozen=True)
class Multiple(Desc):
    """`external_multiple_structure`: a list of `content`."""

    content: Desc = field(default_factory=Value)


def _need(opt: bool, default: Any) -> tuple[Need, Any]:
    if default is not _NO_DEFAULT:
        return Need.DEFAULT, default
    return (Need.OPTIONAL if opt else Need.REQUIRED), None


def value(type_: ParamType, *, opt: bool = False, default: Any = _NO_DEFAULT, allownull: bool = True) -> Value:
    """Shorthand for `external_value(type, '', VALUE_REQUIRED|OPTIONAL|DEFAULT, default)`."""
    need, dflt = _need(opt, default)
    return Value(need=need, default=dflt, allownull=allownull, type=type_)


def single(keys: dict[str, Desc], *, opt: bool = False, default: Any = _NO_DEFAULT) -> Single:
    """Shorthand for `external_single_structure(keys, '', ...)`."""
    need, dflt = _need(opt, default)
    return Single(need=need, default=dflt, allownull=False, keys=keys)


def multiple(content: Desc, *, opt: bool = False, default: Any = _NO_DEFAULT) -> Multiple:
    """Shorthand for `external_multiple_structure(content, '', ...)`."""
    need, dflt = _need(opt, default)
    return Multiple(need=need, default=dflt, allownull=False, content=content)


def _print_r(raw: Any) -> str:
    """What PHP's print_r shows for a scalar inside 'Only arrays accepted' messages."""
    return php_string(raw)


def validate_parameters(desc: Desc, params: Any) -> Any:
    """Validate request parameters against `desc`; raises `invalid_parameter_exception` like Moodle."""
    if params is None and desc.allownull and not isinstance(desc, Value):
        return None
    if isinstance(desc, Value):
        if isinstance(params, (dict, list)):
            raise invalid_parameter("Scalar type expected, array or object received.")
        if params is None:
            if desc.allownull:
                return None
            raise invalid_parameter("Invalid parameter value detected")
        if desc.type == BOOL and (params in (True, False) or params in ("0", "1") or params in (0, 1)):
            return bool(int(params))
        try:
            return desc.type.validate(params)
        except ParamRejected:
            raise invalid_parameter(
                f'Invalid external api parameter: the value is "{php_string(params)}", '
                f'the server was expecting "{desc.type.name}" type'
            ) from None
    if isinstance(desc, Single):
        if not isinstance(params, dict):
            raise invalid_parameter(f"Only arrays accepted. The bad value is: '{_print_r(params)}'")
        remaining = dict(params)
        result: dict[str, Any] = {}
        for key, sub in desc.keys.items():
            if key not in remaining:
                if sub.need is Need.REQUIRED:
                    raise invalid_parameter(f"Missing required key in single structure: {key}")
                if sub.need is Need.DEFAULT:
                    result[key] = _nested(key, sub, sub.default)
            else:
                result[key] = _nested(key, sub, remaining[key])
            remaining.pop(key, None)
        if remaining:
            names = ", ".join(str(k) for k in remaining)
            raise invalid_parameter(f"Unexpected keys ({names}) detected in parameter array.")
        return result
    if isinstance(desc, Multiple):
        if isinstance(params, dict):
            items = list(params.values())
        elif isinstance(params, list):
            items = params
        else:
            raise invalid_parameter(f"Only arrays accepted. The bad value is: '{_print_r(params)}'")
        return [validate_parameters(desc.content, item) for item in items]
    raise TypeError(f"unknown description {desc!r}")


def _nested(key: str, sub: Desc, raw: Any) -> Any:
    try:
        return validate_parameters(sub, raw)
    except MoodleError as error:
        raise invalid_parameter(f"{key} => {error.message}: {error.debuginfo}") from None


def clean_return(desc: Desc, response: Any) -> Any:
    """Shape `response` by its returns description, exactly as `clean_returnvalue` does."""
    if isinstance(desc, Value):
        if isinstance(response, (dict, list)):
            raise invalid_response("Scalar type expected, array or object received.")
        if response is None:
            if desc.allownull:
                return None
            raise invalid_response("Invalid response value detected")
        try:
            return desc.type.clean_return(response)
        except ParamRejected:
            raise invalid_response(
                f'Invalid external api response: the value is "{php_string(response)}", '
                f'the server was expecting "{desc.type.name}" type'
            ) from None
    if isinstance(desc, Single):
        if response is None and desc.allownull:
            return None
        if not isinstance(response, dict):
            raise invalid_response(f"Only arrays/objects accepted. The bad value is: '{_print_r(response)}'")
        result: dict[str, Any] = {}
        for key, sub in desc.keys.items():
            if key not in response:
                if sub.need is Need.REQUIRED:
                    raise invalid_response(
                        f"Error in response - Missing following required key in a single structure: {key}"
                    )
                if isinstance(sub, Value) and sub.need is Need.DEFAULT:
                    result[key] = clean_return(sub, sub.default)
                continue
            try:
                result[key] = clean_return(sub, response[key])
            except Exception as error:
                raise invalid_response(f"{key} => {getattr(error, 'debuginfo', error)}") from None
        return result
    if isinstance(desc, Multiple):
        if response is None and desc.allownull:
            return None
        if isinstance(response, dict):
            response = list(response.values())
        if not isinstance(response, list):
            raise invalid_response(f"Only arrays accepted. The bad value is: '{_print_r(response)}'")
        return [clean_return(desc.content, item) for item in response]
    raise TypeError(f"unknown description {desc!r}")
