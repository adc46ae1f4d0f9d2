"""Response bodies byte-for-byte as Moodle's PHP prints them.

JSON is PHP's `json_encode()` without flags: `\\/` for slashes, `\\uXXXX` for non-ASCII, no whitespace, whole
floats without `.0`, and an empty PHP array (an empty single structure) as `[]`. XML is the REST server's
`xmlize_result()` format (contract §1.3, §1.4).
"""

from __future__ import annotations

import json
from typing import Any
from xml.sax.saxutils import escape, quoteattr

from archived.simulator.paramtypes import php_float_repr
from archived.simulator.schema import Desc, Multiple, Single


def php_json_encode(value: Any) -> str:
    """`json_encode($value)` as PHP 8 prints it."""
    parts: list[str] = []
    _encode(value, parts)
    return "".join(parts)


def _encode(value: Any, out: list[str]) -> None:
    if value is None:
        out.append("null")
    elif value is True:
        out.append("true")
    elif value is False:
        out.append("false")
    elif isinstance(value, int):
        out.append(str(value))
    elif isinstance(value, float):
        out.append(php_float_repr(value))
    elif isinstance(value, str):
        out.append(json.dumps(value, ensure_ascii=True).replace("/", "\\/"))
    elif isinstance(value, dict):
        if not value:
            # PHP cannot tell an empty "object" array from an empty list: both print as [].
            out.append("[]")
            return
        out.append("{")
        first = True
        for key, item in value.items():
            if not first:
                out.append(",")
            first = False
            out.append(json.dumps(str(key), ensure_ascii=True).replace("/", "\\/"))
            out.append(":")
            _encode(item, out)
        out.append("}")
    elif isinstance(value, (list, tuple)):
        out.append("[")
        for index, item in enumerate(value):
            if index:
                out.append(",")
            _encode(item, out)
        out.append("]")
    else:
        raise TypeError(f"cannot encode {type(value).__name__} as PHP JSON")


def _xml_value(value: Any) -> str:
    if value is None:
        return '<VALUE null="null"/>\n'
    if value is True:
        text = "1"
    elif value is False:
        text = "0"
    elif isinstance(value, float):
        text = php_float_repr(value)
    else:
        text = str(value)
    return "<VALUE>" + escape(text) + "</VALUE>\n"


def xmlize(desc: Desc | None, value: Any) -> str:
    """`webservice_rest_server::xmlize_result()` for a cleaned return value."""
    if isinstance(desc, Multiple) or (desc is None and isinstance(value, list)):
        if value is None:
            return '<MULTIPLE null="null"/>\n'
        content = desc.content if isinstance(desc, Multiple) else None
        return "<MULTIPLE>\n" + "".join(xmlize(content, item) for item in value) + "</MULTIPLE>\n"
    if isinstance(desc, Single) or (desc is None and isinstance(value, dict)):
        if value is None:
            return '<SINGLE null="null"/>\n'
        keys = desc.keys if isinstance(desc, Single) else {}
        body = "".join(
            f"<KEY name={quoteattr(str(key))}>" + xmlize(keys.get(key), item) + "</KEY>\n"
            for key, item in value.items()
        )
        return "<SINGLE>\n" + body + "</SINGLE>\n"
    return _xml_value(value)


def xml_response(desc: Desc | None, value: Any) -> str:
    """A whole XML success body."""
    inner = "" if desc is None and value is None else xmlize(desc, value)
    return '<?xml version="1.0" encoding="UTF-8" ?>\n<RESPONSE>\n' + inner + "</RESPONSE>\n"


def xml_error(exception: str, errorcode: str | None, message: str, debuginfo: str | None) -> str:
    """The XML error body of the REST server."""
    body = f'<?xml version="1.0" encoding="UTF-8" ?>\n<EXCEPTION class={quoteattr(exception)}>\n'
    if errorcode is not None:
        body += f"<ERRORCODE>{escape(errorcode)}</ERRORCODE>\n"
    body += f"<MESSAGE>{escape(message)}</MESSAGE>\n"
    if debuginfo is not None:
        body += f"<DEBUGINFO>{escape(debuginfo)}</DEBUGINFO>\n"
    return body + "</EXCEPTION>\n"
