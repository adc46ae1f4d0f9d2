"""What the CLI prints from outside (Moodle, an archive, the daemon, the user): never markup, controls escaped.

Such text is never read as rich markup or emoji codes, and its control characters are shown as visible escapes
(`archived.terminal_text`, shared with the TUI). Every command prints through `SafeConsole`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from rich.console import Console, ConsoleOptions, HighlighterType, JustifyMethod, OverflowMethod, RenderableType
from rich.segment import Segment
from rich.style import Style
from rich.text import Text

from archived.terminal_text import UNSAFE_IN_BLOCK, visible


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
