"""Text from outside (Moodle, an archive, the daemon, the user) made safe for a terminal, for the CLI and the TUI alike.

Control characters are shown as visible escapes (`\\x1b`, `\\x9b`, `\\u202e`) instead of reaching the terminal, where
they could clear the screen, set the window title, recolour what follows or reorder what the operator reads.
Shown, not dropped: an operator should see that a name is odd. The CLI prints through its `SafeConsole`
(`archived.cli.safe_text`), the TUI through its safe widgets (`archived_tui.safe_text`); both escape with this.
"""

from __future__ import annotations

import re

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
