"""One question's review HTML from Moodle → clean, static parts for the report.

Keeps every word the student wrote (text inputs, selected options, checked choices shown as ◉/☑, drag-and-drop
placements as text) and every word Moodle shows in review; drops what only makes sense in a browser: scripts,
hidden inputs, screen-reader helper texts (they break phrase search), question flags, edit links, UI icons.
The parts come back separately so that report sections can be switched off for real.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from lxml import etree
from lxml import html as lhtml

from archived.drivers.activity.quiz.dragdrop import extract_placements
from archived.drivers.activity.quiz.html_tree import fragment, new_element

HIDDEN_CLASSES = frozenset({"accesshide", "sr-only", "visually-hidden", "questionflag", "questionflagpostdata",
                            "editquestion", "im-controls", "d-none", "hidden"})  # fmt: skip
UNWRAP_CLASSES = frozenset({"filter_mathjaxloader_equation", "nolink"})
DROP_TAGS = ("script", "style", "noscript", "button", "template", "link", "meta", "object", "embed", "iframe")
KEEP_ATTRIBUTES = frozenset({"class", "src", "alt", "width", "height", "colspan", "rowspan", "style", "href"})
# Inline styles that make sense on screen but break paper: fixed heights, scroll boxes.
_STYLE_DROP = re.compile(r"(?:min-|max-)?height\s*:[^;]*;?|overflow[-xy]*\s*:[^;]*;?", re.IGNORECASE)
_ICON_TEXT = {"Correct": "✔", "Incorrect": "✘", "Partially correct": "◐"}


@dataclass
class Attachment:
    """A file the student uploaded, as linked from the question."""

    name: str
    url: str


@dataclass
class QuestionParts:
    """The cleaned pieces of one question, each an HTML element (or None when Moodle showed none)."""

    number: str = ""
    state: str = ""
    grade: str = ""
    formulation: lhtml.HtmlElement | None = None
    specific_feedback: list[lhtml.HtmlElement] = field(default_factory=list)
    inline_feedback: list[lhtml.HtmlElement] = field(default_factory=list)  # per-choice feedback in the text
    inline_outcome: list[lhtml.HtmlElement] = field(default_factory=list)  # cloze parts: feedback + right answer
    general_feedback: lhtml.HtmlElement | None = None
    right_answer: lhtml.HtmlElement | None = None
    comment: lhtml.HtmlElement | None = None
    history: lhtml.HtmlElement | None = None
    attachments: list[Attachment] = field(default_factory=list)
    placements: list[str] = field(default_factory=list)


def classes_of(element: lhtml.HtmlElement) -> set[str]:
    """The element's CSS classes."""
    return set((element.get("class") or "").split())


def _find(root: lhtml.HtmlElement, cls: str) -> lhtml.HtmlElement | None:
    """The first element (document order, root included) with class `cls`.

    A plain walk that stops at the first hit: lxml's `find_class` evaluates an XPath over the whole subtree
    and was a third of the report preparation time.
    """
    for element in root.iter():
        classes = element.get("class") if isinstance(element.tag, str) else None
        if classes and cls in classes.split():
            return element
    return None


def _text(element: lhtml.HtmlElement | None) -> str:
    return " ".join(element.text_content().split()) if element is not None else ""


def _remove(element: lhtml.HtmlElement) -> None:
    """Remove an element but keep its tail text (lxml's drop_tree)."""
    if element.getparent() is not None:
        element.drop_tree()


def parse_question(html: str, qtype: str = "") -> QuestionParts:
    """Split and clean one `questions[].html` (or a `.que` block of a review page)."""
    wrapper = fragment(html or "<div></div>")
    que = next((e for e in wrapper.iter("div") if "que" in classes_of(e)), wrapper)
    qtype = qtype or next((c for c in (que.get("class") or "").split() if c != "que"), "")
    parts = QuestionParts()
    info = _find(que, "info")
    if info is not None:
        parts.number = _text(_find(info, "qno")) or _text(_find(info, "no"))
        parts.state = _text(_find(info, "state"))
        parts.grade = _text(_find(info, "grade"))
        _remove(info)

    # Placements live in hidden inputs and attachments in links: read both before cleaning removes them.
    parts.placements = extract_placements(que, qtype)
    formulation = _find(que, "formulation")
    attachments = _find(formulation, "attachments") if formulation is not None else None
    if attachments is not None:
        for link in attachments.iter("a"):
            href = link.get("href") or ""
            name = _text(link) or href.split("?")[0].rsplit("/", 1)[-1]
            if href:
                parts.attachments.append(Attachment(name=name, url=href))
        _remove(attachments)  # the report lists them itself, with where they are stored
    _static_controls(que)
    _strip(que)

    formulation = _find(que, "formulation")
    if formulation is not None:
        inline = [e for e in formulation.iter() if isinstance(e.tag, str)]
        parts.inline_feedback = [e for e in inline if "specificfeedback" in classes_of(e)]
        parts.inline_outcome = [e for e in inline if classes_of(e) & {"feedbackspan", "outcome"}]
    outcome = _find(que, "outcome")
    if outcome is not None:
        for cls in ("specificfeedback", "numpartscorrect"):
            parts.specific_feedback += [e for e in outcome.find_class(cls)]
        parts.general_feedback = _find(outcome, "generalfeedback")
        parts.right_answer = _find(outcome, "rightanswer")
    parts.comment = _find(que, "comment")
    parts.history = _find(que, "history")
    if parts.history is not None:
        header = parts.history.find_class("responsehistoryheader")
        if header and header[0].tag.startswith("h"):
            _remove(header[0])  # the report writes its own heading
    if formulation is None:  # unusual markup: keep everything that is left as the question body
        content = _find(que, "content")
        formulation = content if content is not None else que
    parts.formulation = formulation
    for element in (parts.formulation, *parts.specific_feedback, parts.general_feedback, parts.right_answer,
                    parts.comment, parts.history):  # fmt: skip
        if element is not None and element.getparent() is not None:
            element.getparent().remove(element)
            element.tail = None
    return parts


def _static_controls(root: lhtml.HtmlElement) -> None:
    """Replace form controls with text that shows what the student chose or typed."""
    for select in list(root.iter("select")):
        chosen = [o for o in select.iter("option") if o.get("selected") is not None]
        text = " ".join(_text(o) for o in chosen if _text(o))
        span = new_element("span", {"class": "response" if text else "response empty"})
        span.text = text or "(no answer)"
        span.tail = select.tail
        select.getparent().replace(select, span)
    for textarea in list(root.iter("textarea")):
        div = new_element("div", {"class": "response textarea"})
        div.text = textarea.text or ""
        div.tail = textarea.tail
        textarea.getparent().replace(textarea, div)
    for field_ in list(root.iter("input")):
        kind = (field_.get("type") or "text").lower()
        if kind == "hidden":
            continue
        if kind in ("radio", "checkbox"):
            checked = field_.get("checked") is not None
            mark = ("◉" if checked else "○") if kind == "radio" else ("☑" if checked else "☐")
            if checked and field_.getparent() is not None:
                row = field_.getparent()
                row.set("class", (row.get("class") or "") + " chosen")
            # Plain text, not an element: one layout box fewer per choice in the PDF renderer.
            field_.tail = mark + " " + (field_.tail or "")
            _remove(field_)
            continue
        elif kind in ("submit", "button", "image", "reset", "file"):
            _remove(field_)
            continue
        else:
            value = field_.get("value") or ""
            span = new_element("span", {"class": "response" if value.strip() else "response empty"})
            span.text = value if value.strip() else "(no answer)"
        span.tail = field_.tail
        field_.getparent().replace(field_, span)


def _strip(root: lhtml.HtmlElement) -> None:
    """Drop browser-only parts, unwrap meaningless wrappers, reduce attributes."""
    for element in list(root.iter(etree.Comment, etree.ProcessingInstruction)):
        parent = element.getparent()
        if parent is not None:
            if element.tail:
                previous = element.getprevious()
                if previous is not None:
                    previous.tail = (previous.tail or "") + element.tail
                else:
                    parent.text = (parent.text or "") + element.tail
            parent.remove(element)
    for element in list(root.iter(*DROP_TAGS)):
        _remove(element)
    for element in list(root.iter()):
        if element.getparent() is None and element is not root:
            continue  # already removed with an ancestor
        tag = element.tag
        if not isinstance(tag, str):
            continue
        classes = classes_of(element)
        if (
            (tag == "input" and (element.get("type") or "").lower() == "hidden")
            or classes & HIDDEN_CLASSES
            or element.get("hidden") is not None
        ):
            _remove(element)
        elif tag == "i" and "icon" in classes:
            mark = _ICON_TEXT.get((element.get("title") or element.get("aria-label") or "").strip())
            if mark:
                replacement = new_element("span", {"class": "mark " + ("ok" if mark == "✔" else "bad")})
                replacement.text = mark
                replacement.tail = element.tail
                element.getparent().replace(element, replacement)
            else:
                _remove(element)
        elif tag == "img" and "icon" in classes:
            _remove(element)
        elif tag == "a":
            popup = element.get("data-content") or ""
            if "feedbackspan" in popup:  # cloze sub-question feedback lives in a hover popup: make it text
                feedback = fragment(popup, "span")
                feedback.set("class", "feedbackspan")
                feedback.tail = element.tail
                element.tail = None
                element.addnext(feedback)
            element.drop_tag()  # keep the words, not the link (review links need a Moodle session anyway)
        elif (
            (tag == "span" and (classes & UNWRAP_CLASSES or not element.attrib))
            or (tag == "div" and classes == {"clearfix"})
            or tag == "fieldset"
        ):
            element.drop_tag()  # wrappers without a look on paper only cost the renderer a layout box
        elif tag == "div" and classes & {"d-flex", "flex-fill"}:
            element.tag = "span"  # Moodle's flex label wrappers: one line per choice on paper
            element.attrib.clear()
        else:
            for name in list(element.attrib):
                if name not in KEEP_ATTRIBUTES:
                    del element.attrib[name]
            style = element.get("style")
            if style is not None:
                style = _STYLE_DROP.sub("", style).strip()
                if style:
                    element.set("style", style)
                else:
                    del element.attrib["style"]
