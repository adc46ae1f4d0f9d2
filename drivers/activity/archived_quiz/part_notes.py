"""Cloze (multianswer) feedback per part: a numbered marker at each blank, numbered notes after the question.

Moodle shows a blank's feedback — its state, the feedback text, the right answer and the mark — in a popover
that opens on hover; the cleaner makes each popover a `span.feedbackspan` next to its blank. Left there, they
run into the question's sentences ("5 ✔Correct Correct The correct answer is: 5 Mark 1.00 out of 1.00 , the
graph of f is …"). Here each blank keeps its answer and a marker "[1]" in the text, and the notes after the
question read "[1] 5 ✔ — Correct — Correct — The correct answer is: 5 — Mark 1.00 out of 1.00".
"""

from __future__ import annotations

import copy

from lxml import etree
from lxml import html as lhtml

from archived_quiz.html_tree import new_element

_SEPARATOR = " — "
# A note is a paragraph unless the feedback holds blocks of its own (a paragraph cannot hold those).
_BLOCKS = frozenset({"p", "div", "ul", "ol", "table", "blockquote", "pre", "h1", "h2", "h3", "h4", "h5", "h6"})


def _classes(element: lhtml.HtmlElement) -> set[str]:
    return set((element.get("class") or "").split())


def number_part_feedback(feedbacks: list[lhtml.HtmlElement]) -> lhtml.HtmlElement | None:
    """Replace each part's feedback in the text (in document order) by a marker `[n]`; the notes as one element.

    Returns None when there is no part feedback (then nothing was changed).
    """
    notes = new_element("div")
    listed = set(feedbacks)
    # A popover's own `span.feedbackspan` sits inside the one the cleaner made of it: one part, one note.
    outermost = [f for f in feedbacks if f.getparent() is not None and not any(a in listed for a in f.iterancestors())]
    for number, feedback in enumerate(outermost, 1):
        label = f"[{number}]"
        note = etree.SubElement(notes, "div" if any(e.tag in _BLOCKS for e in feedback.iter()) else "p")
        etree.SubElement(note, "b").text = label
        note[-1].tail = " "
        part = next((a for a in feedback.iterancestors() if "subquestion" in _classes(a)), None)
        if part is not None:  # what the student answered and its mark, as the text shows them
            inside = set(feedback.iter())
            shown = [copy.deepcopy(e) for e in part.iter() if e not in inside and _classes(e) & {"response", "mark"}]
            for element in shown:
                element.tail = " "
                note.append(element)
            if shown:
                shown[-1].tail = _SEPARATOR
        _take_lines(feedback, note, listed)
        marker = new_element("sup")  # small and raised: a note reference, not part of the answer
        marker.text = label
        marker.tail = feedback.tail
        feedback.getparent().replace(feedback, marker)
    return notes if len(notes) else None


def _take_lines(feedback: lhtml.HtmlElement, note: lhtml.HtmlElement, nested: set[lhtml.HtmlElement]) -> None:
    """Move the feedback's content into `note`, its line breaks made separators (markup such as formulas kept)."""
    _append_text(note, feedback.text)
    for child in list(feedback):
        tail, child.tail = child.tail, None
        if child.tag == "br":
            _append_text(note, _SEPARATOR)
        elif child in nested:
            _take_lines(child, note, nested)
        else:
            note.append(child)
        _append_text(note, tail)


def _append_text(element: lhtml.HtmlElement, text: str | None) -> None:
    if not text:
        return
    if len(element):
        element[-1].tail = (element[-1].tail or "") + text
    else:
        element.text = (element.text or "") + text
