"""Drag-and-drop questions: the student's placements and the choices on offer, written out as text.

Moodle draws placements with JavaScript from hidden inputs; a static render shows empty drop zones. We read
the inputs *before* the cleaner drops them and put the placements into the question as text
("Drop zone 1 → Germany"), so the archive says what the student did without any script.

The choices to drag (ddwtos, ddimageortext, ddmarker) sit in a tray that only a script lays out; on paper they
ran together ("derivative integral limit matrix series assiduous"). They become a labelled list, one line per
group ("Group 1: derivative · integral · limit"), and so do the options of gapselect's drop-down lists, which a
static render would not show at all.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from lxml import etree
from lxml import html as lhtml

from archived_quiz.html_tree import new_element

_NUMBER = re.compile(r"(?:^|\s)(?:place|choice|group)(\d+)(?:\s|$)")
_CHOICE_SEPARATOR = " · "
# The tray of choices to drag, by question type.
_TRAYS = {"ddwtos": "answercontainer", "ddimageortext": "draghomes", "ddmarker": "draghomes"}


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


def list_choices(question: lhtml.HtmlElement, qtype: str) -> None:
    """Replace the tray of choices of a ddwtos/ddimageortext/ddmarker question, and add the drop-down options of a
    gapselect question, as a labelled list of the choices (one line per group)."""
    if qtype == "gapselect":
        formulation = next(
            (e for e in question.iter() if isinstance(e.tag, str) and "formulation" in _classes(e)), question
        )
        block = _choice_list("Choices:", _select_options(question))
        if block is not None:
            formulation.append(block)
        return
    tray_class = _TRAYS.get(qtype)
    if tray_class is None:
        return
    tray = next((e for e in question.iter() if isinstance(e.tag, str) and tray_class in _classes(e)), None)
    if tray is None or tray.getparent() is None:
        return  # unusual markup: the choices stay where Moodle put them
    if qtype == "ddmarker":
        block = _choice_list("Markers:", {1: list(_markers(tray).values())})
    else:
        groups: dict[int, list[lhtml.HtmlElement]] = {}
        for (group, _choice), item in sorted(_home_items(tray).items()):
            groups.setdefault(group, []).append(item)
        block = _choice_list("Choices:", groups)
    if block is not None:
        block.tail = tray.tail
        tray.getparent().replace(tray, block)


def _markers(tray: lhtml.HtmlElement) -> dict[int, str]:
    """The label of each ddmarker marker by its choice number (a marker placed twice is listed once)."""
    markers: dict[int, str] = {}
    for marker in tray.iter("span"):
        choice = _number(marker, "choice") if "marker" in _classes(marker) else None
        if choice is not None and choice not in markers:
            text = marker.find_class("markertext")
            markers[choice] = " ".join((text[0] if text else marker).text_content().split()) or f"Marker {choice}"
    return dict(sorted(markers.items()))


def _select_options(question: lhtml.HtmlElement) -> dict[int, list[str]]:
    """The options of each group's drop-down lists (every list of a group offers the same ones)."""
    groups: dict[int, list[str]] = {}
    for select in question.iter("select"):
        control = next((a for a in select.iterancestors() if "control" in _classes(a)), None)
        group = _number(control, "group") if control is not None else None
        if group is None or group in groups:
            continue
        groups[group] = [
            " ".join(option.text_content().split())
            for option in select.iter("option")
            if (option.get("value") or "").strip() and option.text_content().strip()
        ]
    return groups


def _choice_list(title: str, groups: Mapping[int, Sequence[str | lhtml.HtmlElement]]) -> lhtml.HtmlElement | None:
    """The titled list, one line per group ("Group 2: …" once there are several); None without any choice.

    Text choices are written as text; a choice that is an element (a picture, or text with a formula) keeps its
    markup, and a group with pictures lists one choice per line. The box is the placements' (same dashed frame):
    no new style, so reports without these questions keep their bytes.
    """
    groups = {group: items for group, items in groups.items() if items}
    if not groups:
        return None
    block = new_element("div", {"class": "placements choices"})
    etree.SubElement(block, "p", {"class": "choices-title"}).text = title
    listing = etree.SubElement(block, "ul")
    for group, items in sorted(groups.items()):
        pictures = any(not isinstance(i, str) and next(i.iter("img"), None) is not None for i in items)
        entries = listing
        if len(groups) > 1:
            label = etree.SubElement(listing, "li")
            label.text = f"Group {group}:"
            if not pictures:
                label.text += " "
                _choice_line(label, items)
                continue
            entries = etree.SubElement(label, "ul")
        if pictures:
            for item in items:
                _append_choice(etree.SubElement(entries, "li"), item)
        else:
            _choice_line(etree.SubElement(entries, "li"), items)
    return block


def _choice_line(line: lhtml.HtmlElement, items: Sequence[str | lhtml.HtmlElement]) -> None:
    """Every choice of a group on one line."""
    for index, item in enumerate(items):
        if index:
            _append_text(line, _CHOICE_SEPARATOR)
        _append_choice(line, item)


def _append_choice(line: lhtml.HtmlElement, item: str | lhtml.HtmlElement) -> None:
    """A choice's text, a drag item's content (its text and markup), or the item itself when it is a picture —
    then followed by the label the placements use for it."""
    if isinstance(item, str):
        _append_text(line, item)
        return
    item.tail = None
    if item.tag == "img":
        line.append(item)
        _append_text(line, " " + _item_label(item))
        return
    if len(item) == 0:
        _append_text(line, " ".join((item.text or "").split()) or "?")
        return
    _append_text(line, item.text)
    for child in list(item):
        line.append(child)


def _append_text(element: lhtml.HtmlElement, text: str | None) -> None:
    if not text:
        return
    if len(element):
        element[-1].tail = (element[-1].tail or "") + text
    else:
        element.text = (element.text or "") + text
