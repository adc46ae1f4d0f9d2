"""Assignment reports as HTML (our own markup and stylesheet): the description, and one per participant with
the submission status, every attempt (online text with its formulas and images, files, grade, feedback).

Moodle's HTML (description, online text, feedback comments) is cleaned of what a PDF cannot hold or must not
run, its TeX formulas are marked for one MathJax batch (`formulas`) and its images listed for download
(`image_urls`); `finish` puts the typeset formulas and the images in and returns the document.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import resources as package_files

from lxml import etree
from lxml import html as lhtml

from archived_render.math import MathResult
from archived_render.render_task import Resource

Formula = tuple[str, bool]
_FORMULA = re.compile(r"\\\((?P<inline>.+?)\\\)|\\\[(?P<display>.+?)\\\]|\$\$(?P<dollars>.+?)\$\$", re.DOTALL)
_DROP = ("script", "style", "iframe", "object", "embed", "link", "meta", "base", "form", "audio", "video")
_SKIP_TEXT = frozenset({"code", "pre", "textarea"})
_MARK = "archived-formula"
# What lxml refuses in element text (and no person wrote): C0 controls but tab and newlines, lone surrogates,
# U+FFFE/U+FFFF. A name or a comment author holding one must not fail the participant: each becomes U+FFFD.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
RESOURCE_SCHEME = "res:"


def stylesheet() -> str:
    """The report stylesheet."""
    return package_files.files("archived_assign").joinpath("report.css").read_text(encoding="utf-8")


def when(timestamp: int | None) -> str:
    """A Unix time as 'YYYY-MM-DD HH:MM UTC'; '—' for none."""
    if not timestamp or timestamp <= 0:
        return "—"
    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d %H:%M UTC")


def xml_safe(text: str) -> str:
    """`text` with each character XML cannot carry replaced by U+FFFD."""
    return _NOT_XML.sub("\ufffd", text)


def el(tag: str, text: str | None = None, cls: str | None = None) -> lhtml.HtmlElement:
    """A new element with optional text (made XML-safe) and class."""
    element = lhtml.Element(tag)
    if text is not None:
        element.text = xml_safe(text)
    if cls:
        element.set("class", cls)
    return element


def summary_table(rows: list[tuple[str, str]]) -> lhtml.HtmlElement:
    """A two-column table of labels and values."""
    table = el("table", cls="summary")
    for label, value in rows:
        row = etree.SubElement(table, "tr")
        etree.SubElement(row, "th").text = xml_safe(label)
        etree.SubElement(row, "td").text = xml_safe(value)
    return table


def file_table(files: list[tuple[str, str, str]]) -> lhtml.HtmlElement:
    """Files as a table: name, where it is in the archive, SHA-256."""
    table = el("table", cls="files")
    head = etree.SubElement(table, "tr")
    for title in ("File", "In this archive", "SHA-256"):
        etree.SubElement(head, "th").text = title
    for name, path, digest in files:
        row = etree.SubElement(table, "tr")
        etree.SubElement(row, "td").text = name
        etree.SubElement(row, "td").text = path
        cell = etree.SubElement(row, "td")
        cell.text = digest
        cell.set("class", "hash")
    return table


@dataclass
class ReportBuilder:
    """One report's document under construction: cleaned Moodle HTML pieces, the formulas and images they need."""

    title: str
    body: lhtml.HtmlElement = field(default_factory=lambda: el("body"))
    formulas: set[Formula] = field(default_factory=set)
    image_urls: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def add(self, element: lhtml.HtmlElement) -> lhtml.HtmlElement:
        """Append an element to the body; returns it."""
        self.body.append(element)
        return element

    def moodle_html(self, html: str, where: str) -> lhtml.HtmlElement:
        """Moodle's HTML as a cleaned `div.text`: nothing that runs or loads, no control characters (U+FFFD
        instead), formulas marked, images listed."""
        root = lhtml.fragment_fromstring(xml_safe(html or ""), create_parent="div")
        root.set("class", "text")
        for element in list(root.iter()):
            if not isinstance(element.tag, str):  # comments, processing instructions
                if element.getparent() is not None:
                    element.drop_tree()
                continue
            if element.tag in _DROP:
                self.warnings.append(f"{where}: a <{element.tag}> element was left out")
                element.drop_tree()
                continue
            for name in list(element.attrib):
                if name.lower().startswith("on") or name.lower() in ("srcset", "style"):
                    del element.attrib[name]
            if element.tag == "a":
                element.attrib.pop("href", None)  # a link in an archive leads nowhere a reader can rely on
            if element.tag == "img":
                src = element.get("src", "")
                if src.startswith(("http://", "https://")):
                    if src not in self.image_urls:
                        self.image_urls.append(src)
                else:
                    self.warnings.append(f"{where}: image {src[:80]!r} cannot be fetched and is left out")
                    element.drop_tree()
        self._mark_formulas(root)
        return root

    def _mark_formulas(self, root: lhtml.HtmlElement) -> None:
        for element in list(root.iter()):
            if not isinstance(element.tag, str) or element.tag in _SKIP_TEXT:
                continue
            if element.text and _FORMULA.search(element.text):
                pieces = self._split(element.text)
                element.text = pieces[0] if isinstance(pieces[0], str) else ""
                self._insert(element, 0, pieces[1:] if isinstance(pieces[0], str) else pieces)
            for child in list(element):
                if child.tail and _FORMULA.search(child.tail) and child.get("class") != _MARK:
                    pieces = self._split(child.tail)
                    child.tail = pieces[0] if isinstance(pieces[0], str) else ""
                    self._insert(
                        element, element.index(child) + 1, pieces[1:] if isinstance(pieces[0], str) else pieces
                    )

    def _split(self, text: str) -> list[str | Formula]:
        pieces: list[str | Formula] = []
        position = 0
        for found in _FORMULA.finditer(text):
            pieces.append(text[position : found.start()])
            display = found.group("inline") is None
            tex = (found.group("inline") or found.group("display") or found.group("dollars") or "").strip()
            pieces.append((tex, display))
            self.formulas.add((tex, display))
            position = found.end()
        pieces.append(text[position:])
        return pieces

    @staticmethod
    def _insert(parent: lhtml.HtmlElement, index: int, pieces: list[str | Formula]) -> None:
        last: lhtml.HtmlElement | None = None
        for piece in pieces:
            if isinstance(piece, str):
                if last is not None:
                    last.tail = (last.tail or "") + piece
                continue
            marker = el("span", cls=_MARK)
            marker.set("data-tex", piece[0])
            marker.set("data-display", "1" if piece[1] else "0")
            parent.insert(index, marker)
            index += 1
            last = marker

    def finish(
        self, rendered: dict[Formula, MathResult], images: dict[str, Resource | None], css: str
    ) -> tuple[str, dict[str, Resource]]:
        """The document's HTML with formulas typeset (or shown as TeX) and the images it keeps."""
        resources: dict[str, Resource] = {}
        for marker in list(self.body.iter("span")):
            if marker.get("class") != _MARK:
                continue
            formula = (marker.get("data-tex", ""), marker.get("data-display") == "1")
            result = rendered.get(formula)
            if result is not None and result.svg:
                # The SVG as an image resource (no SVG namespaces in the HTML), the TeX source beside it as
                # tiny text: PDF readers and pdftotext find the formula.
                name = f"{RESOURCE_SCHEME}math-{hashlib.sha256(result.svg.encode()).hexdigest()[:24]}.svg"
                resources[name] = Resource(result.svg.encode(), "image/svg+xml")
                box = el("span", cls="math display" if formula[1] else "math")
                image = etree.SubElement(box, "img", src=name, alt="formula")
                image.set("class", "formula")
                box.append(el("span", formula[0], cls="tex-source"))
            else:
                box = el("code", formula[0], cls="tex-fallback")
            box.tail = marker.tail
            parent = marker.getparent()
            if parent is not None:
                parent.replace(marker, box)
        for image in list(self.body.iter("img")):
            src = image.get("src", "")
            if src.startswith(RESOURCE_SCHEME):
                continue
            resource = images.get(src)
            if resource is None:
                self.warnings.append(f"image {src[:120]} not available; left out")
                image.drop_tree()
            else:
                resources[src] = resource
        page = el("html")
        head = etree.SubElement(page, "head")
        etree.SubElement(head, "meta", charset="utf-8")
        etree.SubElement(head, "title").text = self.title
        etree.SubElement(head, "style").text = css
        page.append(self.body)
        html = "<!DOCTYPE html>\n" + lhtml.tostring(page, encoding="unicode", method="html")
        return html, resources
