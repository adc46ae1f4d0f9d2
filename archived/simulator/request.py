"""Request parsing the way PHP fills `$_GET`, `$_POST` and `$_FILES`.

PHP turns bracketed names into nested arrays (`options[0][name]=x`), appends for `[]`, lets a later value win,
rewrites `.` and spaces in top-level names to `_`, and reads at most `max_input_vars` (1000) variables.
Only form bodies fill `$_POST`: a JSON body is ignored, exactly as Moodle ignores it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from email.parser import BytesParser
from email.policy import HTTP
from typing import Any
from urllib.parse import parse_qsl

MAX_INPUT_VARS = 1000
MAX_NESTING = 64

PhpArray = dict[str, Any]


@dataclass
class UploadedFile:
    """One entry of `$_FILES`."""

    field: str
    filename: str
    content: bytes
    content_type: str


@dataclass
class ParsedForm:
    """The variables of one request: query (`get`), body (`post`) and uploaded files."""

    get: PhpArray = field(default_factory=dict)
    post: PhpArray = field(default_factory=dict)
    files: list[UploadedFile] = field(default_factory=list)

    def merged(self) -> PhpArray:
        """`array_merge($_GET, $_POST)`: a key in both takes the POST value."""
        result = dict(self.get)
        result.update(self.post)
        return result


def _split_name(name: str) -> tuple[str, list[str]] | None:
    """Split `a[b][]` into ("a", ["b", ""]) with PHP's rules; None when PHP would drop the variable."""
    name = name.lstrip(" ")
    bracket = name.find("[")
    if bracket == -1:
        base, rest = name, ""
    else:
        base, rest = name[:bracket], name[bracket:]
    if base == "":
        return None
    keys: list[str] = []
    position = 0
    while position < len(rest) and rest[position] == "[":
        close = rest.find("]", position + 1)
        if close == -1:
            # An unmatched "[" turns into "_" and ends the bracket parsing (PHP keeps the rest verbatim).
            if not keys:
                base = base + "_" + rest[position + 1 :]
            break
        keys.append(rest[position + 1 : close])
        position = close + 1
        if len(keys) >= MAX_NESTING:
            return None
    base = re.sub(r"[ .]", "_", base)
    return base, keys


def _php_key(key: str) -> str:
    """PHP converts decimal integer-looking keys to ints; we keep keys as strings but normalise them."""
    if re.fullmatch(r"-?(0|[1-9][0-9]*)", key):
        return str(int(key))
    return key


# Per parse: id(array) -> (the array, its next free integer index). Holding the array keeps its id unique.
FreeIndexes = dict[int, tuple[PhpArray, int]]


def _next_index(array: PhpArray, free: FreeIndexes) -> str:
    """PHP's nNextFreeElement: one more than the largest integer key so far."""
    if id(array) not in free:
        numeric = [int(k) for k in array if re.fullmatch(r"-?[0-9]+", k)]
        free[id(array)] = (array, max(numeric) + 1 if numeric else 0)
    index = free[id(array)][1]
    free[id(array)] = (array, index + 1)
    return str(index)


def assign(target: PhpArray, name: str, value: Any, free: FreeIndexes | None = None) -> None:
    """Register one variable `name=value` into `target` (`php_register_variable_ex`).

    `free` keeps the next free integer index of each array during one parse (PHP's nNextFreeElement).
    """
    free = {} if free is None else free
    split = _split_name(name)
    if split is None:
        return
    base, keys = split
    if not keys:
        target[base] = value
        return
    node = target
    key = base
    for sub in keys:
        child = node.get(key)
        if not isinstance(child, dict):
            child = {}
            node[key] = child
        node = child
        if sub == "":
            key = _next_index(node, free)
        else:
            key = _php_key(sub)
            if re.fullmatch(r"-?[0-9]+", key) and id(node) in free:
                free[id(node)] = (node, max(free[id(node)][1], int(key) + 1))
    node[key] = value


def parse_urlencoded(data: str, target: PhpArray | None = None, *, budget: list[int] | None = None) -> PhpArray:
    """Parse an `application/x-www-form-urlencoded` string into a PHP array."""
    result: PhpArray = {} if target is None else target
    remaining = budget if budget is not None else [MAX_INPUT_VARS]
    free: FreeIndexes = {}
    for name, value in parse_qsl(data, keep_blank_values=True):
        if remaining[0] <= 0:
            break
        remaining[0] -= 1
        assign(result, name, value, free)
    return result


def parse_multipart(body: bytes, content_type: str, target: PhpArray, files: list[UploadedFile]) -> None:
    """Parse `multipart/form-data` into `target` (fields) and `files` (uploads)."""
    message = BytesParser(policy=HTTP).parsebytes(
        b"Content-Type: " + content_type.encode("latin-1") + b"\r\n\r\n" + body
    )
    if not message.is_multipart():
        return
    budget = [MAX_INPUT_VARS]
    free: FreeIndexes = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if not isinstance(name, str):
            continue
        filename = part.get_filename()
        payload = part.get_payload(decode=True)
        content = payload if isinstance(payload, bytes) else b""
        if filename is not None:
            files.append(UploadedFile(name, filename, content, part.get_content_type()))
            continue
        if budget[0] <= 0:
            break
        budget[0] -= 1
        charset = part.get_content_charset() or "utf-8"
        assign(target, name, content.decode(charset, errors="replace"), free)


def parse_request(query: str, body: bytes, content_type: str | None) -> ParsedForm:
    """Build `$_GET`, `$_POST` and `$_FILES` from the raw query string and body."""
    form = ParsedForm()
    form.get = parse_urlencoded(query)
    media = (content_type or "").split(";")[0].strip().lower()
    if media == "application/x-www-form-urlencoded":
        form.post = parse_urlencoded(body.decode("utf-8", errors="replace"))
    elif media == "multipart/form-data" and content_type:
        parse_multipart(body, content_type, form.post, form.files)
    return form
