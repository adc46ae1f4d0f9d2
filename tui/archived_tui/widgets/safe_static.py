"""A `Static` for text from outside: what it is given is shown literally, never read as markup."""

from __future__ import annotations

from typing import Any

from textual.visual import VisualType
from textual.widgets import Static

from archived_tui.safe_text import safe_visual


class SafeStatic(Static):
    """Strings are plain text (not content markup) and control characters are shown as `\\x1b`.

    Markup the TUI itself means is written with `Content.from_markup` and `$variables`, which take values
    literally; this class then makes their control characters visible too.
    """

    def __init__(self, content: VisualType = "", **options: Any) -> None:
        super().__init__(safe_visual(content), **options)

    def update(self, content: VisualType = "", *, layout: bool = True) -> None:
        """Show new content, made literal."""
        super().update(safe_visual(content), layout=layout)
