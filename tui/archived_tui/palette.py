"""The command palette's commands, shown literally: their titles carry activity and course names."""

from __future__ import annotations

from textual.command import DiscoveryHit, Hit, Hits, Matcher
from textual.content import Content
from textual.system_commands import SystemCommandsProvider

from archived_tui.safe_text import visible


def _highlight(matcher: Matcher, title: str) -> Content:
    """The title as plain content with the matched characters styled (Textual's own would read markup)."""
    content = Content(title)
    _, offsets = matcher.fuzzy_search.match(matcher.query, title)
    for offset in offsets:
        if not title[offset].isspace():
            content = content.stylize(matcher.match_style, offset, offset + 1)
    return content


class LiteralSystemCommands(SystemCommandsProvider):
    """The app's system commands (`App.get_system_commands`), with titles and help that are never markup."""

    async def discover(self) -> Hits:
        """Every discoverable command, in title order."""
        commands = sorted(self.app.get_system_commands(self.screen), key=lambda command: command.title)
        for title, help_text, callback, discover in commands:
            if discover:
                shown = visible(title)
                yield DiscoveryHit(Content(shown), callback, text=shown, help=_help(help_text))

    async def search(self, query: str) -> Hits:
        """The commands whose title matches `query`."""
        matcher = self.matcher(query)
        for title, help_text, callback, *_ in self.app.get_system_commands(self.screen):
            shown = visible(title)
            if (score := matcher.match(shown)) > 0:
                yield Hit(score, _highlight(matcher, shown), callback, text=shown, help=_help(help_text))


def _help(text: str) -> str:
    # The palette reads help as markup; escaping every bracket keeps it literal.
    return visible(text).replace("[", "\\[")
