"""The CLI's console cannot be made to read markup or to let a control character out, however it is called."""

from __future__ import annotations

import io
import json
import logging
import re

from rich.table import Table
from rich.text import Text

from archived.cli.daemon import VisibleFormatter
from archived.cli.safe_text import SafeConsole, data, dumps_for_terminal
from archived.terminal_text import visible_text
from tests.support.hostile_names import assert_terminal_safe

SGR = re.compile(r"\x1b\[[0-9;]*m")  # the console's own colours


def printed(*objects: object, **options: object) -> str:
    """What a colour terminal would receive, with the console's own colour codes taken out."""
    console = SafeConsole(file=io.StringIO(), force_terminal=True, color_system="standard", width=200)
    console.print(*objects, **options)  # type: ignore[arg-type]
    output = console.file.getvalue()  # type: ignore[attr-defined]
    return SGR.sub("", output)


def test_a_string_is_never_markup_or_an_emoji_code_even_when_asked() -> None:
    assert printed("[bold]Algebra [/b] [red]x[/red] [link=file:///etc/passwd]x :warning:", markup=True, emoji=True) == (
        "[bold]Algebra [/b] [red]x[/red] [link=file:///etc/passwd]x :warning:\n"
    )


def test_control_characters_are_shown_in_strings_tables_and_hand_made_text() -> None:
    table = Table()
    table.add_column("name")
    table.add_row("\x9b31m a\u202eb")
    output = printed("clear \x1b[2J\x1b]0;pwned\x07", table, Text("hand-made \x1b[31m", style="bold"))
    assert_terminal_safe(output)
    assert "clear \\x1b[2J\\x1b]0;pwned\\x07" in output and "\\x9b31m a\\u202eb" in output
    assert "hand-made \\x1b[31m" in output  # a Text built without data() is escaped when it is rendered


def test_data_keeps_styles_on_their_characters() -> None:
    text = visible_text(Text.assemble(("a\x1bb", "red"), "c", ("\x9bd", "blue")))
    assert text.plain == "a\\x1bbc\\x9bd"
    assert [(text.plain[s.start : s.end], s.style) for s in text.spans] == [("a\\x1bb", "red"), ("\\x9bd", "blue")]
    assert data("one\nline").plain == "one\\nline" and data("two\nlines", newlines=True).plain == "two\nlines"


def test_json_for_the_terminal_is_the_same_json() -> None:
    value = {"course": "Exam \x1b[2J\x07 \x7f \x9b31m a\u202eb \u2028 nul\x00", "lone": "\ud800", "ok": "Müller ✓"}
    dumped = dumps_for_terminal(value)
    assert_terminal_safe(dumped)
    assert json.loads(dumped) == value and "Müller ✓" in dumped
    dumped.encode("utf-8")  # a lone surrogate is escaped, so stdout can encode it


def test_the_daemons_log_lines_show_control_characters() -> None:
    record = logging.LogRecord("archived", logging.INFO, __file__, 1, "course %s", ("Exam \x1b[2J\x9b",), None)
    assert VisibleFormatter("%(levelname)s %(message)s").format(record) == "INFO course Exam \\x1b[2J\\x9b"
