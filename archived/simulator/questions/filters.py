"""The text filters that run inside question HTML: `filter_mathjaxloader` (contract §5) and `filter_emoticon`.

The MathJax filter does not convert TeX. A formatted chunk that contains `\\(`, `\\[` or `$$` is wrapped in
`<span class="filter_mathjaxloader_equation">`, and each formula in `<span class="nolink">`; the delimiters
stay verbatim. Each filtered chunk also queues an `amd.typeset()` call in the page's end code.
"""

from __future__ import annotations

import re
from collections.abc import Callable

_FORMULA = re.compile(r"(\\\(.*?\\\)|\\\[.*?\\\]|\$\$.*?\$\$)", re.DOTALL)
_TRIGGER = re.compile(r"\\\(|\\\[|\$\$")


def has_tex(text: str) -> bool:
    """True when the filter would touch `text`."""
    return bool(_TRIGGER.search(text))


def _escape_braces(formula: str) -> str:
    # The filter entity-escapes < and > inside {...} groups so that the browser cannot read them as tags.
    def fix(match: re.Match[str]) -> str:
        return match.group(0).replace("<", "&lt;").replace(">", "&gt;")

    return re.sub(r"\{[^{}]*\}", fix, formula)


def filter_text(text: str, on_typeset: Callable[[], None] | None = None) -> str:
    """Apply the MathJax filter to one formatted chunk."""
    if not has_tex(text):
        return text
    wrapped = _FORMULA.sub(lambda m: f'<span class="nolink">{_escape_braces(m.group(0))}</span>', text)
    if on_typeset is not None:
        on_typeset()
    return f'<span class="filter_mathjaxloader_equation">{wrapped}</span>'


def formulas(text: str) -> list[str]:
    """Every TeX formula in `text`, without its delimiters and surrounding spaces."""
    found = []
    for match in _FORMULA.finditer(text):
        body = match.group(0)
        inner = body[2:-2]
        found.append(inner.strip())
    return found


def strip_formulas(text: str, replacement: str = " ") -> str:
    """`text` with every formula replaced (what remains visible as plain text once MathJax has run)."""
    return _FORMULA.sub(replacement, text)


_NOLINK = re.compile(r'(<span class="nolink">.*?</span>)', re.DOTALL)
_EMOTICONS = {"(n)": ("no", "No"), "(y)": ("yes", "Yes")}


def emoticons(text: str, pix_base: str) -> str:
    """`filter_emoticon`: `(n)` and `(y)` become icons, except inside `nolink` spans (formulas)."""
    if not any(code in text for code in _EMOTICONS):
        return text
    parts = _NOLINK.split(text)
    for index in range(0, len(parts), 2):
        for code, (pix, alt) in _EMOTICONS.items():
            image = f'<img class="icon emoticon" alt="{alt}" title="{alt}" src="{pix_base}/s/{pix}" />'
            parts[index] = parts[index].replace(code, image)
    return "".join(parts)
