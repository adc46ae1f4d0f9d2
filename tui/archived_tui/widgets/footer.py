"""The footer of the main screens: Textual's, without the memory it keeps from every rebuild.

Textual's `Footer` (8.2) rebuilds its keys whenever the screen's bindings change, and each new key binds the
footer's `compact` reactive; the footer keeps a watcher per key ever made, pruned only when `compact` changes,
which it never does here. The footer changes with the highlighted job (only applicable actions are offered), so
over a long session those dead keys added up to megabytes. This one drops the watchers of keys that are gone.
"""

from __future__ import annotations

from typing import Any

from textual.widgets import Footer

# Where Textual's reactive module keeps the watchers of an object (textual/reactive.py `_watch`).
_WATCHERS = "__watchers"


class LeanFooter(Footer):
    """`Footer` that forgets its removed keys (see the module docstring)."""

    async def recompose(self) -> None:
        """Drop the watchers of keys that were removed, then rebuild as Textual does."""
        watchers: dict[str, list[tuple[Any, Any]]] = getattr(self, _WATCHERS, {})
        for name, entries in watchers.items():
            watchers[name] = [(node, callback) for node, callback in entries if node.is_attached]
        await super().recompose()
