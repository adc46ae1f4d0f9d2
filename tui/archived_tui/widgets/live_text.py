"""A `Static` for text that changes while the screen is shown, whose height follows its content."""

from __future__ import annotations

from textual.visual import VisualType

from archived_tui.widgets.safe_static import SafeStatic


class LiveText(SafeStatic):
    """Re-lays itself out after the refresh that follows an update; shows what it is given literally.

    Textual 8 caches a widget's size per layout generation; an update that arrives while a layout is already
    pending does not start a new generation, so a panel could keep the height of its previous content.
    """

    def update(self, content: VisualType = "", *, layout: bool = True) -> None:
        """Show new content (and make sure the height is measured again)."""
        super().update(content, layout=layout)
        if layout:
            self.call_after_refresh(self.refresh, layout=True)
