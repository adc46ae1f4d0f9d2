"""Text from outside (Moodle, an archive, the daemon, the user) made safe to show on a terminal.

Such text is never read as rich markup or emoji codes, and its control characters are shown as visible escapes
(`\\x1b`, `\\x9b`, `\\u202e`) instead of reaching the terminal, where they could clear the screen, set the window
title, recolour what follows or reorder what the operator reads. Shown, not dropped: an operator should see
that a name is odd. The CLI prints through `SafeConsole`; the TUI uses the same escaping for its widgets.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from typing import Any

from rich.console import Console, ConsoleOptions, HighlighterType, JustifyMethod, OverflowMethod, RenderableType
from rich.segment import Segment
from rich.style import Style
from rich.text import Span, Text

# C0 controls (tab stays: it only moves the cursor right), DEL and C1 (U+009B is a one-character CSI), the Arabic
# letter mark, LRM/RLM, line/paragraph separators, the bidi embeddings, overrides and isolates, lone surrogates
# (they cannot even be encoded to UTF-8).
_UNSAFE = "\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069\ud800-\udfff"
UNSAFE_IN_LINE = re.compile(f"[\n{_UNSAFE}]")
UNSAFE_IN_BLOCK = re.compile(f"[{_UNSAFE}]")
_NAMED = {"\n": "\\n", "\r": "\\r"}


def _escape(char: str) -> str:
    code = ord(char)
    return _NAMED.get(char) or (f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}")


def _pattern(newlines: bool) -> re.Pattern[str]:
    return UNSAFE_IN_BLOCK if newlines else UNSAFE_IN_LINE


def visible(text: str, *, newlines: bool = False) -> str:
    """`text` with every control character written as an escape (`\\x1b`); newlines kept only if `newlines`."""
    pattern = _pattern(newlines)
    if not pattern.search(text):
        return text
    return pattern.sub(lambda match: _escape(match.group()), text)


def visible_offsets(text: str, *, newlines: bool = False) -> tuple[str, list[int]] | None:
    """Like `visible`, plus where each old offset lands in the new text (to move style spans); None if unchanged."""
    pattern = _pattern(newlines)
    if not pattern.search(text):
        return None
    pieces: list[str] = []
    offsets: list[int] = []
    length = 0
    for char in text:
        offsets.append(length)
        piece = _escape(char) if pattern.match(char) else char
        pieces.append(piece)
        length += len(piece)
    offsets.append(length)
    return "".join(pieces), offsets


def visible_text(text: Text, *, newlines: bool = False) -> Text:
    """A rich `Text` with its control characters made visible; its styles stay on the same characters."""
    changed = visible_offsets(text.plain, newlines=newlines)
    if changed is None:
        return text
    plain, offsets = changed
    spans = [Span(offsets[span.start], offsets[min(span.end, len(offsets) - 1)], span.style) for span in text.spans]
    return Text(plain, style=text.style, justify=text.justify, overflow=text.overflow, no_wrap=text.no_wrap,
                end=text.end, tab_size=text.tab_size, spans=spans)  # fmt: skip


def data(value: object, style: str | Style = "", *, newlines: bool = False) -> Text:
    """A value from outside as literal text in `style`: never markup, control characters visible."""
    return Text(visible(str(value), newlines=newlines), style=style)


def dumps_for_terminal(value: Any) -> str:
    """JSON for --json: readable UTF-8, but every control character is a JSON escape, so a terminal is safe.

    `json.dumps` escapes only C0; DEL, C1, bidi controls and lone surrogates are escaped here. They can only
    occur inside JSON strings, where `\\uXXXX` decodes to the very same text.
    """
    text = json.dumps(value, indent=2, ensure_ascii=False, default=str)
    return UNSAFE_IN_BLOCK.sub(lambda match: f"\\u{ord(match.group()):04x}", text)


class SafeConsole(Console):
    """A rich console on which no string is ever read as markup or emoji and no control character gets out.

    Styles come only from `Text` objects and `style=` arguments. Strings (printed or put in tables) are escaped
    before they are measured; any `Text` built from outside data without `data()` is still escaped when its
    segments are rendered (its width may then be off by the escapes, its bytes are safe).
    """

    def __init__(self, **options: Any) -> None:
        options.update(markup=False, emoji=False, highlight=False)
        super().__init__(**options)

    def render_str(
        self,
        text: str,
        *,
        style: str | Style = "",
        justify: JustifyMethod | None = None,
        overflow: OverflowMethod | None = None,
        emoji: bool | None = None,
        markup: bool | None = None,
        highlight: bool | None = None,
        highlighter: HighlighterType | None = None,
    ) -> Text:
        """Always plain text, whatever the caller asked for (`markup` and `emoji` are ignored)."""
        return super().render_str(
            visible(text, newlines=True), style=style, justify=justify, overflow=overflow, emoji=False,
            markup=False, highlight=highlight, highlighter=highlighter,
        )  # fmt: skip

    def render(self, renderable: RenderableType, options: ConsoleOptions | None = None) -> Iterable[Segment]:
        """Rich's rendering, with control characters in text segments escaped (cursor movements stay)."""
        for segment in super().render(renderable, options):
            if segment.control is None and UNSAFE_IN_BLOCK.search(segment.text):
                yield Segment(visible(segment.text, newlines=True), segment.style)
            else:
                yield segment
