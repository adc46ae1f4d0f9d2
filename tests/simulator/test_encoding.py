"""PHP `json_encode` formatting and PHP-style form parsing, without a server."""

from __future__ import annotations

import pytest

from archived.simulator.encoding import php_json_encode, xml_error
from archived.simulator.paramtypes import php_float_repr
from archived.simulator.request import MAX_INPUT_VARS, parse_request, parse_urlencoded


@pytest.mark.parametrize(
    ("value", "encoded"),
    [
        ({"url": "http://x/y"}, '{"url":"http:\\/\\/x\\/y"}'),
        ("Jürgen Ōtsuka", '"J\\u00fcrgen \\u014ctsuka"'),
        ("emoji 🎓", '"emoji \\ud83c\\udf93"'),
        ({"sumgrades": 24.0, "grade": 7.5, "int": 3}, '{"sumgrades":24,"grade":7.5,"int":3}'),
        ({"a": {}}, '{"a":[]}'),
        ([None, True, False], "[null,true,false]"),
        ('line\nbreak\t"q"', '"line\\nbreak\\t\\"q\\""'),
    ],
)
def test_php_json_encode(value: object, encoded: str) -> None:
    """Escaped slashes, \\uXXXX for non-ASCII (surrogate pairs), whole floats bare, empty objects as []."""
    assert php_json_encode(value) == encoded


@pytest.mark.parametrize(
    ("number", "printed"),
    [(10.0, "10"), (92.361125, "92.361125"), (0.1 + 0.2, "0.30000000000000004"), (1e25, "1.0e+25"), (-0.5, "-0.5")],
)
def test_php_float_repr(number: float, printed: str) -> None:
    """PHP 8 prints the shortest round-trip form."""
    assert php_float_repr(number) == printed


def test_xml_error_shape() -> None:
    """The REST server's XML error body."""
    assert xml_error("webservice_access_exception", "accessexception", "Access control exception", None) == (
        '<?xml version="1.0" encoding="UTF-8" ?>\n<EXCEPTION class="webservice_access_exception">\n'
        "<ERRORCODE>accessexception</ERRORCODE>\n<MESSAGE>Access control exception</MESSAGE>\n</EXCEPTION>\n"
    )


def test_bracket_syntax_builds_nested_arrays() -> None:
    """`a[0][name]`, `a[]` (append), later values win, `.` and spaces in names become `_`."""
    parsed = parse_urlencoded(
        "options%5B0%5D%5Bname%5D=x&options%5B0%5D%5Bvalue%5D=1&ids%5B%5D=5&ids%5B%5D=6&k=1&k=2&a.b=3&c+d=4"
    )
    assert parsed == {
        "options": {"0": {"name": "x", "value": "1"}},
        "ids": {"0": "5", "1": "6"},
        "k": "2",
        "a_b": "3",
        "c_d": "4",
    }


def test_repeated_plain_keys_collapse_to_the_last_value() -> None:
    """`courseids=2&courseids=5` (httpx's list encoding) is the scalar "5" in PHP."""
    assert parse_urlencoded("courseids=2&courseids=5") == {"courseids": "5"}


def test_max_input_vars_truncates() -> None:
    """PHP reads at most max_input_vars variables and silently drops the rest."""
    query = "&".join(f"ids[]={n}" for n in range(MAX_INPUT_VARS + 50))
    assert len(parse_urlencoded(query)["ids"]) == MAX_INPUT_VARS


def test_only_form_bodies_fill_post() -> None:
    """A JSON body leaves $_POST empty; form and multipart bodies fill it."""
    assert parse_request("", b'{"a": 1}', "application/json").post == {}
    assert parse_request("", b"a=1", "application/x-www-form-urlencoded").post == {"a": "1"}
    body = (
        b'--XX\r\nContent-Disposition: form-data; name="token"\r\n\r\nabc\r\n'
        b'--XX\r\nContent-Disposition: form-data; name="file_1"; filename="r.pdf"\r\n'
        b"Content-Type: application/pdf\r\n\r\n%PDF-1.4\r\n--XX--\r\n"
    )
    form = parse_request("", body, "multipart/form-data; boundary=XX")
    assert form.post == {"token": "abc"}
    assert [(f.field, f.filename, f.content) for f in form.files] == [("file_1", "r.pdf", b"%PDF-1.4")]


def test_append_continues_after_the_largest_integer_key() -> None:
    """`a[]` takes PHP's next free index: one past the largest integer key so far."""
    assert parse_urlencoded("a[]=x&a[5]=y&a[]=z&a[name]=n&a[]=w") == {
        "a": {"0": "x", "5": "y", "6": "z", "name": "n", "7": "w"}
    }
