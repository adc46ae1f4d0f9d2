"""Text from outside (Moodle, the daemon, files, the user) in Textual widgets: never markup, controls visible.

Textual reads a `str` as content markup almost everywhere (`Static`, `Label`, DataTable cells, toasts, border
titles, the command palette), and passes escape sequences through to the terminal. The widgets that show such
text hand it through here: `plain()` makes literal text, `safe_visual()` cleans whatever a widget is given.
"""

from __future__ import annotations

from rich.console import Group
from rich.style import Style
from rich.text import Text
from textual.content import Content, Span
from textual.visual import VisualType

from archived.terminal_text import visible, visible_offsets, visible_text

__all__ = [
    "literal", "plain", "plain_content", "safe_cell", "safe_visual", "visible", "visible_content", "visible_text",
]  # fmt: skip


def plain(value: object, style: str | Style = "", *, newlines: bool = False, one_line: bool = False) -> Text:
    """A value from outside as literal text in `style` (control characters shown as `\\x1b`).

    `one_line`: cut with an ellipsis where it does not fit. Build data into `Text` this way, not with
    `Text(value)`: rich silently drops BEL, BS, VT, FF and CR, which should be seen.
    """
    text = Text(visible(str(value), newlines=newlines), style=style)
    if one_line:
        text.no_wrap, text.overflow = True, "ellipsis"
    return text


def plain_content(value: object) -> Content:
    """A value from outside as literal Textual content (for border titles and similar one-liners)."""
    return Content(visible(str(value)))


def visible_content(content: Content, *, newlines: bool = True) -> Content:
    """Textual content with its control characters made visible; its styles stay on the same characters."""
    changed = visible_offsets(content.plain, newlines=newlines)
    if changed is None:
        return content
    text, offsets = changed
    last = len(offsets) - 1
    spans = [Span(offsets[min(s.start, last)], offsets[min(s.end, last)], s.style) for s in content.spans]
    return Content(text, spans)


def literal(label: str | Text) -> Text:
    """A string (not read as markup) or a `Text`, with control characters visible, as one line."""
    return Text(visible(label)) if isinstance(label, str) else visible_text(label)


def safe_cell(cell: object) -> object:
    """A DataTable cell: a string becomes literal text (DataTable would read it as markup)."""
    return literal(cell) if isinstance(cell, str | Text) else cell


def safe_visual(content: VisualType) -> VisualType:
    """What a `Static` is given, made literal: a string is plain text, not markup; controls become visible."""
    if isinstance(content, str):
        return Content(visible(content, newlines=True))
    if isinstance(content, Text):
        return visible_text(content, newlines=True)
    if isinstance(content, Content):
        return visible_content(content)
    if isinstance(content, Group):
        return Group(*(safe_visual(part) for part in content.renderables), fit=content.fit)  # type: ignore[arg-type]
    return content
