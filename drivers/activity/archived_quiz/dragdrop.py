"""Drag-and-drop questions: the student's placements, read from the hidden inputs, written out as text.

Moodle draws placements with JavaScript from hidden inputs; a static render shows empty drop zones. We read
the inputs *before* the cleaner drops them and put the placements into the question as text
("Drop zone 1 → Germany"), so the archive says what the student did without any script.
"""

from __future__ import annotations

import re

from lxml import etree
from lxml import html as lhtml

from archived_quiz.html_tree import new_element

_NUMBER = re.compile(r"(?:^|\s)(?:place|choice|group)(\d+)(?:\s|$)")


def _classes(element: lhtml.HtmlElement) -> list[str]:
    return (element.get("class") or "").split()


def _number(element: lhtml.HtmlElement, prefix: str) -> int | None:
    for cls in _classes(element):
        if cls.startswith(prefix) and cls[len(prefix) :].isdigit():
            return int(cls[len(prefix) :])
    return None


def _item_label(item: lhtml.HtmlElement | None) -> str:
    if item is None:
        return "?"
    if item.tag == "img":
        alt = (item.get("alt") or "").strip()
        if alt:
            return alt
        source = item.get("x-original-source") or item.get("src") or ""
        name = source.split("?")[0].rsplit("/", 1)[-1] if not source.startswith("data:") else ""
        return f"image {name}".strip() if name else "image"
    text = " ".join(item.text_content().split())
    if not text:
        image = item.find(".//img")
        return _item_label(image) if image is not None else "?"
    return text


def _home_items(question: lhtml.HtmlElement) -> dict[tuple[int, int], lhtml.HtmlElement]:
    items: dict[tuple[int, int], lhtml.HtmlElement] = {}
    for element in question.iter():
        if not isinstance(element.tag, str) or "draghome" not in _classes(element):
            continue
        group, choice = _number(element, "group"), _number(element, "choice")
        if group is not None and choice is not None:
            items.setdefault((group, choice), element)
    return items


def _placement_list(question: lhtml.HtmlElement, lines: list[str], anchor: lhtml.HtmlElement | None) -> None:
    if not lines:
        return
    block = new_element("div", {"class": "placements"})
    title = etree.SubElement(block, "p", {"class": "placements-title"})
    title.text = "Placements by the student:"
    listing = etree.SubElement(block, "ul")
    for line in lines:
        entry = etree.SubElement(listing, "li")
        entry.text = line
    target = anchor if anchor is not None else question
    target.append(block)


def extract_placements(question: lhtml.HtmlElement, qtype: str) -> list[str]:
    """Write the placements of a ddwtos/ddimageortext/ddmarker question into it; return them as lines."""
    formulation = next(
        (e for e in question.iter() if isinstance(e.tag, str) and "formulation" in _classes(e)), question
    )
    if qtype == "ddmarker":
        return _ddmarker(question, formulation)
    if qtype in ("ddwtos", "ddimageortext"):
        return _places(question, formulation, qtype)
    return []


def _places(question: lhtml.HtmlElement, formulation: lhtml.HtmlElement, qtype: str) -> list[str]:
    items = _home_items(question)
    lines = []
    for field in question.iter("input"):
        classes = _classes(field)
        if field.get("type") != "hidden" or "placeinput" not in classes:
            continue
        place, group = _number(field, "place"), _number(field, "group")
        if place is None:
            continue
        value = (field.get("value") or "").strip()
        chosen = int(value) if value.isdigit() else 0
        label = _item_label(items.get((group or 1, chosen))) if chosen else "(empty)"
        name = "Blank" if qtype == "ddwtos" else "Drop zone"
        lines.append(f"{name} {place} → {label}")
        if qtype == "ddwtos":
            _fill_drop(question, place, label if chosen else "")
    _placement_list(question, lines, formulation)
    return lines


def _fill_drop(question: lhtml.HtmlElement, place: int, label: str) -> None:
    for drop in question.iter("span"):
        classes = _classes(drop)
        if "drop" in classes and f"place{place}" in classes:
            for child in list(drop):
                drop.remove(child)
            drop.text = f"[{label}]" if label else "[   ]"
            drop.set("class", "drop filled" if label else "drop empty")
            return


def _ddmarker(question: lhtml.HtmlElement, formulation: lhtml.HtmlElement) -> list[str]:
    markers: dict[int, str] = {}
    for marker in question.iter("span"):
        classes = _classes(marker)
        if "marker" in classes:
            choice = _number(marker, "choice")
            text = marker.find_class("markertext")
            if choice is not None:
                markers[choice] = " ".join((text[0] if text else marker).text_content().split()) or f"Marker {choice}"
    lines = []
    for field in question.iter("input"):
        classes = _classes(field)
        if field.get("type") != "hidden" or "choices" not in classes:
            continue
        choice = _number(field, "choice")
        if choice is None:
            continue
        label = markers.get(choice, f"Marker {choice}")
        spots = [s for s in (field.get("value") or "").split(";") if s.strip()]
        if not spots:
            lines.append(f"{label} → not placed")
        for spot in spots:
            x, _, y = spot.partition(",")
            lines.append(f"{label} → placed at x={x.strip()}, y={y.strip()} (pixels on the background image)")
    _placement_list(question, lines, formulation)
    return lines
