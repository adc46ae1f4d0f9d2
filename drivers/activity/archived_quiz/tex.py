"""TeX in question HTML: find `\\( … \\)`, `\\[ … \\]`, `$$ … $$` and put rendered SVG in their place.

Two steps so that all formulas of an attempt go to MathJax in one batch: `mark_formulas` swaps each formula
for a placeholder and returns the set of (tex, display) pairs; `apply_formulas` swaps the placeholders for
the SVG plus the TeX source as invisible text laid over the formula (so `pdftotext` and PDF viewers find
`\\frac{a}{b}` where the fraction is, without a visible `\\(`), or — when MathJax is not available or fails
— for the TeX source in a visibly marked `<code class="tex-fallback">`.
"""

from __future__ import annotations

import copy
import hashlib
import re
import threading
from collections import OrderedDict
from collections.abc import Mapping

from lxml import etree
from lxml import html as lhtml

from archived_quiz.html_tree import new_element
from archived_render.math import MathResult

_FORMULA = re.compile(
    r"\\\((?P<inline>.+?)\\\)|\\\[(?P<display>.+?)\\\]|\$\$(?P<dollars>.+?)\$\$"
    # MathJax also typesets bare LaTeX environments (processEnvironments), e.g. \begin{align}…\end{align}.
    r"|(?P<env>\\begin\{(?P<name>[A-Za-z]+\*?)\}.+?\\end\{(?P=name)\})",
    re.DOTALL,
)
_MAYBE = re.compile(r"\\\(|\\\[|\$\$|\\begin\{")
_SKIP = frozenset({"code", "pre", "script", "style", "textarea", "svg"})
_EX = re.compile(r"([\d.]+)ex")
_PLACEHOLDER = "tex-formula"
# Advance of every DejaVu Sans Mono character in em (1233/2048): sizes the invisible source to the formula.
_MONO_EM = 0.60205

Formula = tuple[str, bool]


class _ParsedSvgs:
    """Parsed, id-normalised SVG per (formula, MathJax output), shared by the attempts of a job (copied on use).

    Least recently used first out, and small: a formula of the question text recurs in every attempt and
    stays; one with the attempt's own numbers (calculated, numerical questions) never recurs. A parsed SVG
    lives in libxml2's memory (10–30 KiB each, invisible to Python's allocator statistics): the earlier
    cache of 2,048 entries, emptied only when full, made the daemon grow by ~10 KiB per attempt for the
    first thousands of attempts of such a quiz. Attempts are prepared in threads, hence the lock.
    """

    def __init__(self, size: int) -> None:
        self.size = size
        self._items: OrderedDict[tuple[Formula, str], etree._Element] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, formula: Formula, svg: str) -> etree._Element:
        """A private copy of the parsed SVG (parsed now if not kept)."""
        key = (formula, svg)
        with self._lock:
            parsed = self._items.get(key)
            if parsed is not None:
                self._items.move_to_end(key)
        if parsed is None:
            parsed = _normalised_svg(svg, formula)
            with self._lock:
                self._items[key] = parsed
                while len(self._items) > self.size:
                    self._items.popitem(last=False)
        return copy.deepcopy(parsed)

    def __len__(self) -> int:
        return len(self._items)


PARSED_SVGS = _ParsedSvgs(256)


def _split(text: str) -> list[str | Formula]:
    pieces: list[str | Formula] = []
    position = 0
    for match in _FORMULA.finditer(text):
        source = match.group("inline") or match.group("display") or match.group("dollars") or match.group("env") or ""
        if not source.strip():
            continue
        pieces.append(text[position : match.start()])
        pieces.append((" ".join(source.split()), match.group("inline") is None))
        position = match.end()
    pieces.append(text[position:])
    return pieces


def _placeholder(formula: Formula) -> lhtml.HtmlElement:
    element = new_element("span", {"class": _PLACEHOLDER, "data-display": "1" if formula[1] else "0"})
    element.text = formula[0]
    return element


def mark_formulas(root: lhtml.HtmlElement) -> set[Formula]:
    """Replace every formula in the text of `root` by a placeholder; return the formulas found."""
    found: set[Formula] = set()
    # Inside <code>, <pre>, <svg>… nothing is a formula: leave those subtrees out in one go. (The set holds
    # the elements themselves: lxml reuses a Python object's id once nothing refers to it.)
    skipped = {e for top in root.iter(*_SKIP) if top is not root for e in top.iter()}
    for element in list(root.iter()):
        if not isinstance(element.tag, str) or element.tag in _SKIP or element in skipped:
            continue
        if element.text and _MAYBE.search(element.text):
            pieces = _split(element.text)
            if len(pieces) > 1:
                element.text = pieces[0]
                _insert_after_text(element, pieces[1:], found)
        if element is not root and element.tail and _MAYBE.search(element.tail):
            pieces = _split(element.tail)
            if len(pieces) > 1:
                element.tail = pieces[0]
                parent = element.getparent()
                index = parent.index(element) + 1
                _insert_pieces(parent, index, element, pieces[1:], found)
    return found


def _insert_after_text(element: lhtml.HtmlElement, pieces: list[str | Formula], found: set[Formula]) -> None:
    _insert_pieces(element, 0, None, pieces, found)


def _insert_pieces(
    parent: lhtml.HtmlElement,
    index: int,
    previous: lhtml.HtmlElement | None,
    pieces: list[str | Formula],
    found: set[Formula],
) -> None:
    last = previous
    for piece in pieces:
        if isinstance(piece, tuple):
            found.add(piece)
            node = _placeholder(piece)
            parent.insert(index, node)
            index += 1
            last = node
        elif piece:
            if last is None:
                parent.text = (parent.text or "") + piece
            else:
                last.tail = (last.tail or "") + piece


def apply_formulas(root: lhtml.HtmlElement, rendered: Mapping[Formula, MathResult]) -> list[str]:
    """Swap placeholders for SVG + invisible source (or a marked fallback); return TeX errors seen."""
    errors: list[str] = []
    for node in list(root.iter("span")):
        if node.get("class") != _PLACEHOLDER:
            continue
        formula: Formula = (node.text or "", node.get("data-display") == "1")
        result = rendered.get(formula)
        if result is None or result.svg is None:
            if result is not None and result.error:
                errors.append(f"{formula[0]!r}: {result.error}")
            replacement = _fallback(formula)
        else:
            replacement = _math_box(formula, PARSED_SVGS.get(formula, result.svg))
        replacement.tail = node.tail
        node.getparent().replace(node, replacement)
    return errors


def _fallback(formula: Formula) -> lhtml.HtmlElement:
    code = new_element("code", {"class": "tex-fallback display" if formula[1] else "tex-fallback"})
    code.text = ("\\[" if formula[1] else "\\(") + formula[0] + ("\\]" if formula[1] else "\\)")
    return code


def _normalised_svg(svg: str, formula: Formula) -> etree._Element:
    element = etree.fromstring(svg.encode())
    # MathJax numbers ids per process (MJX-17-…); number them per formula so equal input gives equal bytes.
    tag = _stable_id(formula)
    for node in element.iter():
        for name, value in node.attrib.items():
            if "MJX-" in value:
                node.set(name, re.sub(r"MJX-\d+-", f"{tag}-", value))
    for name in ("role", "focusable"):
        element.attrib.pop(name, None)
    return element


def _stable_id(formula: Formula) -> str:
    return "mj" + hashlib.sha256(f"{formula[1]}:{formula[0]}".encode()).hexdigest()[:10]


def _math_box(formula: Formula, svg: etree._Element) -> lhtml.HtmlElement:
    """`<span class="math"><span class="tex-source">TeX</span><svg/></span>`: the source lies over the formula.

    The source is set in DejaVu Sans Mono, whose every character advances exactly `_MONO_EM` em, at the font
    size that makes it as wide as the formula, and a negative right margin of its own width takes it out of
    the line: the SVG starts where the source starts. Plain inline boxes only — an absolutely positioned,
    transformed overlay cost the PDF renderer ~8 % of a report's time.
    """
    width = _EX.match(svg.get("width") or "")
    box = new_element("span", {"class": "math"})
    source = etree.SubElement(box, "span", {"class": "tex-source"})
    source.text = formula[0]
    characters = max(1, len(formula[0]))
    # 1ex = 0.5em for MathJax and for the renderer's SVG sizes; a formula without a fixed width (a tagged
    # display equation is 100 % wide) gets a source too small to take room.
    formula_em = float(width.group(1)) / 2 if width else 0.0
    size = min(1.0, formula_em / (characters * _MONO_EM)) if width else 0.05
    source.set("style", f"font-size: {max(size, 0.01):.4f}em; margin-right: -{characters * _MONO_EM:.4f}em")
    box.append(svg)
    if formula[1]:
        centred = new_element("span", {"class": "math-display"})
        centred.append(box)
        return centred
    return box
