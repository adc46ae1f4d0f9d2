"""The framing of the control socket: a line read back is the message the standard library reads."""

from __future__ import annotations

import json
import math

import pytest

from archived.protocol import wire


def test_decode_reads_what_encode_wrote() -> None:
    message = {
        "jsonrpc": "2.0",
        "id": 7,
        "result": {
            "jobs": [{"id": "a", "course_name": "Prüfung «Ä» 日本語 \u2028", "progress": 12.5, "error": None}],
            "total": 10_000,
            "next_cursor": None,
        },
    }
    line = wire.encode(message)
    assert wire.decode(line) == message == json.loads(line)
    assert wire.decode(line.decode("utf-8")) == message


@pytest.mark.parametrize(
    "line",
    [
        b'{"text":"a\\ud800b"}\n',  # an escaped lone surrogate: valid JSON text, refused by orjson
        b'{"big":18446744073709551615,"small":-9223372036854775808}\n',  # 64-bit integers, exactly
        b'{"value":NaN}\n',  # the standard library's extension, which its own encoder writes
    ],
)
def test_decode_reads_what_the_standard_library_reads(line: bytes) -> None:
    decoded, expected = wire.decode(line), json.loads(line)
    if "value" in expected:
        assert math.isnan(decoded["value"])
    else:
        assert decoded == expected


@pytest.mark.parametrize("line", [b"", b"{", b'{"a":1}{"b":2}', b"\xff\xfe", b"not json"])
def test_decode_refuses_what_is_not_json(line: bytes) -> None:
    with pytest.raises(ValueError):
        wire.decode(line)
