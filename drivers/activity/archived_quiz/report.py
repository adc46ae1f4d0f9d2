"""The report of one quiz attempt as one HTML document (our own markup and stylesheet, not Moodle's theme).

Building happens in three steps so that the slow parts can be batched by the driver:
`prepare_report` cleans every question and applies the section toggles (a switched-off section is never put
into the document), returning the formulas and image URLs it needs; the driver renders the formulas
(MathJax) and downloads the images; `finish_report` puts both in and serialises the document.
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import resources as package_files
from typing import Any, TypeVar

from lxml import etree
from lxml import html as lhtml

from archived_quiz.html_clean import (
    Attachment,
    QuestionParts,
    classes_of,
    parse_question,
    shown_url,
)
from archived_quiz.html_tree import IncompleteHtmlError, fragment, new_element
from archived_quiz.part_notes import number_part_feedback
from archived_quiz.settings import QuizSettings
from archived_quiz.tex import Formula, apply_formulas, mark_formulas
from archived_quiz.xml_chars import (
    clean_line,
    clean_text,
    cleaning_note,
    has_unsafe,
    unsafe_or_replaced,
)
from archived_render.images import sniff_image_mime
from archived_render.math import MathResult
from archived_render.render_task import Resource

RESOURCE_SCHEME = "res:"
_VOID = frozenset(
    {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}
)
# Elements that start and end lines (whitespace next to them never shows) and subtrees whose whitespace counts.
_BLOCK = frozenset({"html", "head", "body", "div", "p", "section", "table", "thead", "tbody", "tfoot", "tr", "td",
                    "th", "caption", "ul", "ol", "li", "dl", "dt", "dd", "h1", "h2", "h3", "h4", "h5", "h6",
                    "blockquote", "fieldset", "legend", "form", "hr", "figure", "figcaption"})  # fmt: skip
_PRESERVE = ("pre", "textarea", "code", "script", "style", "{http://www.w3.org/2000/svg}svg", "svg")
_STATE_CLASS = {
    "gradedright": "correct", "mangrright": "correct", "gradedpartial": "partiallycorrect",
    "mangrpartial": "partiallycorrect", "gradedwrong": "incorrect", "mangrwrong": "incorrect",
}  # fmt: skip


def stylesheet() -> str:
    """The report stylesheet shipped with the driver."""
    return package_files.files(__package__).joinpath("report.css").read_text(encoding="utf-8")


@dataclass
class AttemptHeader:
    """Facts for the report header (all optional except the ids)."""

    attempt_id: int
    attempt_number: int = 0
    state: str = ""
    timestart: int = 0
    timefinish: int = 0
    sumgrades: float | None = None
    quiz_sumgrades: float | None = None
    grade: float | None = None
    quiz_grade: float | None = None
    user_fullname: str = ""
    username: str = ""
    idnumber: str = ""
    course: str = ""
    quiz: str = ""
    overall_feedback_html: str = ""
    archived_at: datetime | None = None
    job_id: str = ""


@dataclass
class QuestionInput:
    """One entry of `mod_quiz_get_attempt_review.questions` (the keys the report uses)."""

    slot: int
    html: str
    qtype: str = ""
    number: str = ""
    status: str = ""
    state: str = ""
    stateclass: str = ""
    mark: str = ""
    maxmark: float | None = None

    @classmethod
    def from_ws(cls, question: dict[str, Any]) -> QuestionInput:
        """From the web-service dict (4.1 has `number`, 4.2+ `questionnumber`)."""
        number = question.get("questionnumber") or question.get("number") or ""
        return cls(
            slot=int(question["slot"]),
            html=question.get("html") or "",
            qtype=question.get("type") or "",
            number=str(number),
            status=question.get("status") or "",
            state=question.get("state") or "",
            stateclass=question.get("stateclass") or "",
            mark=question.get("mark") or "",
            maxmark=question.get("maxmark"),
        )


@dataclass
class PreparedReport:
    """A report document waiting for its formulas and images."""

    root: lhtml.HtmlElement
    formulas: set[Formula]
    image_urls: list[str]
    attachments: dict[int, list[Attachment]]
    placements: dict[int, list[str]]
    warnings: list[str] = field(default_factory=list)  # what could not go into the report as Moodle sent it
    sources: dict[str, str] = field(default_factory=dict)  # Moodle's HTML by where it goes, for `finish_report`


@dataclass
class ReportDocument:
    """The finished report: HTML text plus the resources it refers to (`res:` URLs)."""

    html: str
    resources: dict[str, Resource]
    warnings: list[str] = field(default_factory=list)

    def standalone_html(self) -> str:
        """The HTML with every resource embedded as a data: URL (for the optional HTML copy)."""

        def embed(match: re.Match[str]) -> str:
            resource = self.resources.get(match.group(1))
            if resource is None:
                return match.group(0)
            return f'src="data:{resource.mime};base64,{base64.b64encode(resource.data).decode()}"'

        return re.sub(r'src="(res:[0-9a-f]+)"', embed, self.html)


def _el(tag: str, cls: str | None = None, text: str | None = None, **attrs: str) -> lhtml.HtmlElement:
    element = new_element(tag, {"class": cls} if cls else {}, **attrs)
    if text is not None:
        element.text = text
    return element


def _time(value: int) -> str:
    return datetime.fromtimestamp(value, UTC).strftime("%Y-%m-%d %H:%M:%S UTC") if value else "–"


def _duration(start: int, finish: int) -> str:
    if not start or not finish or finish < start:
        return "–"
    seconds = finish - start
    hours, rest = divmod(seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    return (f"{hours} h " if hours else "") + f"{minutes} min {seconds} s"


def _number(value: float | None) -> str:
    if value is None:
        return "not yet graded"
    return f"{value:.2f}"


def _header(header: AttemptHeader, settings: QuizSettings) -> lhtml.HtmlElement:
    """The facts of the attempt as label/value lines; a tab after each label aligns the values in a column.

    Why not a table: the PDF renderer spends a layout box per cell, and this table was ~5 % of a report.
    """
    summary = _el("div", "summary")

    def row(label: str, value: str | lhtml.HtmlElement) -> None:
        line = etree.SubElement(summary, "p")
        line.append(_el("b", None, label + "\t"))
        if isinstance(value, str):
            line[0].tail = value
        else:
            line.append(value)

    row("Student", header.user_fullname or "–")
    row("Username", header.username or "–")
    row("ID number", header.idnumber or "–")
    row("Course", header.course or "–")
    row("Quiz", header.quiz or "–")
    row("Attempt", f"{header.attempt_number} (attempt id {header.attempt_id})")
    row("State", header.state or "–")
    row("Started", _time(header.timestart))
    row("Completed", _time(header.timefinish))
    row("Time taken", _duration(header.timestart, header.timefinish))
    marks = _number(header.sumgrades)
    if header.sumgrades is not None and header.quiz_sumgrades:
        marks += f" / {header.quiz_sumgrades:.2f}"
    row("Marks", marks)
    grade = _number(header.grade)
    if header.grade is not None and header.quiz_grade:
        grade += f" out of {header.quiz_grade:.2f} ({100 * header.grade / header.quiz_grade:.0f} %)"
    row("Grade", grade)
    if settings.section_quiz_feedback and header.overall_feedback_html.strip():
        feedback = fragment(header.overall_feedback_html)
        feedback.set("class", "overall-feedback")
        row("Overall feedback", feedback)
    row(
        "Archived at",
        header.archived_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC") if header.archived_at else "–",
    )
    row("Job", header.job_id or "–")
    return summary


def _block(cls: str, title: str | None, content: lhtml.HtmlElement) -> lhtml.HtmlElement:
    """A report section around `content`; a `<div>` becomes the section itself (one layout box fewer)."""
    content.tail = None
    if content.tag != "div":
        block = _el("div", f"block {cls}")
        if title:
            block.append(_el("h4", None, title))
        block.append(content)
        return block
    content.set("class", f"block {cls} {content.get('class') or ''}".strip())
    if title:
        heading = _el("h4", None, title)
        heading.tail, content.text = content.text, None
        content.insert(0, heading)
    return content


def _move_content(source: lhtml.HtmlElement, target: lhtml.HtmlElement) -> None:
    """Append the text and children of `source` to `target` (markup such as formulas and images kept)."""
    text = " ".join((source.text or "").split())
    if text:
        last = target[-1] if len(target) else None
        if last is None:
            target.text = (target.text or "") + text
        else:
            last.tail = (last.tail or "") + text
    for child in list(source):
        tail, child.tail = child.tail, None
        target.append(child)
        if tail and tail.strip():
            child.tail = " ".join(tail.split())


def _add_text(target: lhtml.HtmlElement, text: str) -> None:
    last = target[-1] if len(target) else None
    if last is None:
        target.text = (target.text or "") + text
    else:
        last.tail = (last.tail or "") + text


def _history_lines(history: lhtml.HtmlElement) -> lhtml.HtmlElement:
    """Moodle's response-history table as one wrapped line per step: "2. 28/11/23, 12:14:00 — Saved: 42 —
    State: Answer saved — Marks: 0.50".

    Every step and every cell stays; the columns after the action carry their (localised) header as a label.
    Why not the table: a table costs the PDF renderer a layout box per cell, and the history tables were 40 %
    of the render time of a 16-question attempt. Unusual tables (fewer than three columns, ragged rows)
    stay as they are.
    """
    table = next(history.iter("table"), None)
    if table is None:
        return history
    headers = [" ".join(th.text_content().split()) for th in table.iter("th")]
    rows = [[cell for cell in tr if cell.tag == "td"] for tr in table.iter("tr")]
    rows = [cells for cells in rows if cells]
    if len(headers) < 3 or any(len(cells) != len(headers) for cells in rows):
        return history
    lines = _el("div", "steps")
    for tr, cells in zip((tr for tr in table.iter("tr") if tr.find("td") is not None), rows, strict=True):
        line = etree.SubElement(lines, "p", {"class": "current"} if "current" in classes_of(tr) else {})
        _move_content(cells[0], line)
        _add_text(line, ". ")
        _move_content(cells[1], line)
        _add_text(line, " — ")
        _move_content(cells[2], line)
        for header, cell in zip(headers[3:], cells[3:], strict=True):
            if cell.text_content().strip() or len(cell):
                _add_text(line, f" — {header}: ")
                _move_content(cell, line)
    return lines


def _question(question: QuestionInput, parts: QuestionParts, settings: QuizSettings) -> lhtml.HtmlElement:
    state = question.stateclass or _STATE_CLASS.get(question.state, "")
    is_info = question.qtype == "description" or (
        not question.state and not parts.state and question.maxmark in (None, 0)
    )
    section = _el("section", f"q {state or ('info' if is_info else 'other')}")
    # Number and mark as plain text, type and state as styled spans: every inline box costs render time.
    number = question.number or parts.number
    head = _el("div", "qhead", ("Information " if is_info else "Question ") + number if number else "Question")
    section.append(head)
    if question.qtype:
        head.append(_el("span", "qtype", question.qtype))
    status = question.status or parts.state
    if status:
        head.append(_el("span", f"qstate {state}", status))
    mark_text = parts.grade
    if not mark_text and question.maxmark is not None and not is_info:
        mark_text = f"Mark {question.mark or '–'} out of {question.maxmark:.2f}"
    if mark_text:
        _add_text(head, "\u2003" + mark_text)

    dropped = [] if settings.section_question_feedback else list(parts.inline_feedback)
    outcome_shown = settings.section_question_feedback and settings.section_rightanswer
    if not outcome_shown:
        dropped += parts.inline_outcome  # they mix feedback and the right answer
    for element in dropped:
        if element.getparent() is not None:
            element.drop_tree()
    if parts.formulation is not None:
        parts.formulation.set("class", "qbody")
        section.append(parts.formulation)
    if outcome_shown:
        notes = number_part_feedback([e for e in parts.inline_outcome if "feedbackspan" in classes_of(e)])
        if notes is not None:
            section.append(_block("feedback partnotes", "Feedback on each part", notes))
    if settings.section_question_feedback:
        for element in parts.specific_feedback:
            section.append(_block("feedback", None, element))
        if parts.comment is not None:
            section.append(_block("comment", None, parts.comment))
    if settings.section_general_feedback and parts.general_feedback is not None:
        section.append(_block("generalfeedback", "General feedback", parts.general_feedback))
    if settings.section_rightanswer and parts.right_answer is not None:
        section.append(_block("rightanswer", None, parts.right_answer))
    if settings.section_history and parts.history is not None:
        section.append(_block("history", "Response history", _history_lines(parts.history)))
    if settings.section_attachments and parts.attachments:
        listing = _el("ul")
        for attachment in parts.attachments:
            listing.append(_el("li", None, attachment.name))
        section.append(_block("attachments", "Attachments (stored next to this report)", listing))
    return section


def prepare_report(
    header: AttemptHeader, questions: list[QuestionInput], settings: QuizSettings, *, title: str = ""
) -> PreparedReport:
    """Clean the questions, apply the section toggles and collect the formulas and images needed.

    Raises `IncompleteHtmlError` (naming the question's slot) when Moodle's HTML cannot be read to its end.
    """
    warnings: list[str] = []
    header = _cleaned(header, "report header", warnings)
    sources = {"the quiz's overall feedback": header.overall_feedback_html}
    html = new_element("html")
    head = etree.SubElement(html, "head")
    head.append(_el("meta", None, None, charset="utf-8"))
    head.append(_el("title", None, clean_line(title) or f"Quiz attempt {header.attempt_id}"))
    head.append(_el("style", None, stylesheet()))
    body = etree.SubElement(html, "body")
    if settings.section_header:
        body.append(_el("h1", None, f"{header.quiz or 'Quiz'} — attempt {header.attempt_number or header.attempt_id}"))
        try:
            body.append(_header(header, settings))
        except IncompleteHtmlError as exc:
            raise IncompleteHtmlError(f"the quiz's overall feedback: {exc}") from None
    attachments: dict[int, list[Attachment]] = {}
    placements: dict[int, list[str]] = {}
    if settings.section_question:
        for question in sorted(questions, key=lambda q: q.slot):
            if not question.html.strip():
                continue  # blocked in sequential navigation: nothing to show
            where = f"question in slot {question.slot}"
            question = _cleaned(question, where, warnings)
            sources[where] = question.html
            try:
                parts = parse_question(question.html, question.qtype)
            except IncompleteHtmlError as exc:
                raise IncompleteHtmlError(f"{where}: {exc}") from None
            warnings += [f"{where}: {warning}" for warning in parts.warnings]
            attachments[question.slot] = parts.attachments
            placements[question.slot] = parts.placements
            body.append(_question(question, parts, settings))
    formulas = mark_formulas(body)
    images = list(dict.fromkeys(img.get("src") or "" for img in body.iter("img") if img.get("src")))
    images += [url for url in dict.fromkeys(i.get("href") or "" for i in body.iter("image")) if url not in images]
    return PreparedReport(html, formulas, [url for url in images if url], attachments, placements, warnings, sources)


_Record = TypeVar("_Record", AttemptHeader, QuestionInput)
_HTML_FIELDS = frozenset({"html", "overall_feedback_html"})


def _cleaned(record: _Record, where: str, warnings: list[str]) -> _Record:
    """`record` with its one-line texts made safe for XML (`xml_chars`); a warning names the fields changed.

    (Its HTML is checked in `finish_report`, in the much smaller serialised report.)
    """
    changes: dict[str, Any] = {}
    for name, value in vars(record).items():
        if isinstance(value, str) and value and name not in _HTML_FIELDS:
            safe = clean_line(value)
            if safe != value:
                changes[name] = safe
    if not changes:
        return record
    warnings.append(cleaning_note(where, changes))
    return dataclasses.replace(record, **changes)


def finish_report(
    prepared: PreparedReport,
    formulas: dict[Formula, MathResult],
    images: dict[str, Resource | None],
) -> ReportDocument:
    """Put rendered formulas and downloaded images in; serialise to (X)HTML for the render worker."""
    warnings = list(prepared.warnings)
    warnings += [f"formula not rendered, shown as TeX source: {e}" for e in apply_formulas(prepared.root, formulas)]
    resources: dict[str, Resource] = {}
    for img in list(prepared.root.iter("img")):
        src = img.get("src") or ""
        resource = images.get(src)
        if resource is None and src.startswith("data:"):
            resource = _data_url(src)
        if resource is None:
            name = src.split("?")[0].rsplit("/", 1)[-1] if not src.startswith("data:") else "embedded image"
            label = img.get("alt") or name
            warnings.append(f"image not available, placeholder shown: {src if not src.startswith('data:') else label}")
            placeholder = _el("span", "missing-image", f"[image not available: {label}]")
            placeholder.tail = img.tail
            img.getparent().replace(img, placeholder)
            continue
        key = RESOURCE_SCHEME + hashlib.sha256(resource.data).hexdigest()
        resources[key] = resource
        img.set("src", key)
    for image in list(prepared.root.iter("image")):  # pictures inside an inline SVG drawing
        href = image.get("href") or ""
        if not href:
            continue
        resource = images.get(href)
        if resource is None and href.startswith("data:"):
            resource = _data_url(href)
        if resource is None:
            warnings.append(f"image in a drawing not available, left out: {shown_url(href)}")
            image.getparent().remove(image)
            continue
        key = RESOURCE_SCHEME + hashlib.sha256(resource.data).hexdigest()
        resources[key] = resource
        image.set("href", key)
    html = serialise(prepared.root)
    if unsafe_or_replaced(html):
        # Rare: Moodle's HTML held characters XML cannot carry (the parser turned some into U+FFFD already).
        # Only now search the sources, to name where they were.
        warnings += [cleaning_note(where, ["HTML"]) for where, source in prepared.sources.items() if has_unsafe(source)]
        html = clean_text(html)
    return ReportDocument(html, resources, warnings)


def _data_url(url: str) -> Resource | None:
    header, _, payload = url[5:].partition(",")
    try:
        data = base64.b64decode(payload) if header.endswith(";base64") else payload.encode()
    except ValueError:
        return None
    mime = header.split(";")[0]
    if not mime.startswith("image/"):
        # The render worker scales down only what it knows is an image: a 10 MB picture labelled
        # `data:;base64,` or application/octet-stream would go into the PDF at full size.
        mime = sniff_image_mime(data) or mime or "application/octet-stream"
    return Resource(data, mime)


def serialise(root: lhtml.HtmlElement) -> str:
    """Well-formed HTML (parses as XML too, which the render worker's fast path needs).

    Whitespace-only text next to block elements (Moodle's line breaks between tags) is dropped: it never
    shows, but each piece would cost the PDF renderer a box.
    """
    # The elements themselves, not their ids: lxml reuses a Python object's id once nothing refers to it.
    keep = {e for top in root.iter(*_PRESERVE) for e in top.iter()}
    keep |= {e for top in root.iter() if "white-space" in (top.get("style") or "") for e in top.iter()}
    for element in root.iter():
        if not isinstance(element.tag, str):
            continue
        if element not in keep:
            _drop_block_whitespace(element)
        if element.tag not in _VOID and element.text is None and len(element) == 0:
            element.text = ""
    serialised: str = etree.tostring(root, method="xml", encoding="unicode")
    return "<!DOCTYPE html>\n" + serialised


def _drop_block_whitespace(element: lhtml.HtmlElement) -> None:
    block = element.tag in _BLOCK
    text = element.text
    if text is not None and text and not text.strip() and block and (len(element) == 0 or element[0].tag in _BLOCK):
        element.text = None
    tail = element.tail
    if tail is not None and tail and not tail.strip():
        following = element.getnext()
        if block or (following is not None and following.tag in _BLOCK):
            element.tail = None
