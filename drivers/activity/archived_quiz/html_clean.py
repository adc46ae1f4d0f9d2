"""One question's review HTML from Moodle → clean, static parts for the report.

Keeps every word the student wrote (text inputs, selected options, checked choices shown as ◉/☑, drag-and-drop
placements as text) and every word Moodle shows in review; drops what only makes sense in a browser: scripts,
hidden inputs, screen-reader helper texts (they break phrase search), question flags, edit links, UI icons, and
the teacher controls a token that may grade sees ("Make comment or override mark") — a grader's comment stays.
What cannot go on paper but is content — an embedded video, audio recording, web page or object — becomes a
visible placeholder with its source address, and a warning for the job log; nothing vanishes without one.
The parts come back separately so that report sections can be switched off for real.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from lxml import etree
from lxml import html as lhtml

from archived.moodle.redact import redact
from archived_quiz.dragdrop import extract_placements, list_choices
from archived_quiz.html_tree import fragment, new_element

HIDDEN_CLASSES = frozenset({"accesshide", "sr-only", "visually-hidden", "visually-hidden-focusable", "questionflag",
                            "questionflagpostdata", "editquestion", "commentlink", "im-controls", "d-none",
                            "hidden"})  # fmt: skip
UNWRAP_CLASSES = frozenset({"filter_mathjaxloader_equation", "nolink"})
DROP_TAGS = ("script", "style", "noscript", "button", "template", "link", "meta", "source", "track", "param")
# Embedded content a PDF cannot hold, by what the placeholder calls it.
EMBEDDED_KINDS = {"video": "video", "audio": "audio", "iframe": "web page", "frame": "web page",
                  "object": "object", "embed": "object", "applet": "applet"}  # fmt: skip
# Their fallback content is what a reader without the player sees: kept (an iframe's is never shown).
_FALLBACK_KEPT = frozenset({"video", "audio", "object", "applet"})
_URL_SHOWN_MAX = 300
SVG_NAMESPACE = "http://www.w3.org/2000/svg"
# The HTML parser lower-cases names; SVG's are case-sensitive (a `viewbox` scales nothing). The HTML standard's
# tables of SVG names to adjust after parsing.
_SVG_NAMES = {name.lower(): name for name in (
    "altGlyph", "altGlyphDef", "altGlyphItem", "animateColor", "animateMotion", "animateTransform", "clipPath",
    "feBlend", "feColorMatrix", "feComponentTransfer", "feComposite", "feConvolveMatrix", "feDiffuseLighting",
    "feDisplacementMap", "feDistantLight", "feDropShadow", "feFlood", "feFuncA", "feFuncB", "feFuncG", "feFuncR",
    "feGaussianBlur", "feImage", "feMerge", "feMergeNode", "feMorphology", "feOffset", "fePointLight",
    "feSpecularLighting", "feSpotLight", "feTile", "feTurbulence", "foreignObject", "glyphRef", "linearGradient",
    "radialGradient", "textPath", "attributeName", "attributeType", "baseFrequency", "baseProfile", "calcMode",
    "clipPathUnits", "diffuseConstant", "edgeMode", "filterUnits", "gradientTransform", "gradientUnits",
    "kernelMatrix", "kernelUnitLength", "keyPoints", "keySplines", "keyTimes", "lengthAdjust", "limitingConeAngle",
    "markerHeight", "markerUnits", "markerWidth", "maskContentUnits", "maskUnits", "numOctaves", "pathLength",
    "patternContentUnits", "patternTransform", "patternUnits", "pointsAtX", "pointsAtY", "pointsAtZ", "preserveAlpha",
    "preserveAspectRatio", "primitiveUnits", "refX", "refY", "repeatCount", "repeatDur", "requiredExtensions",
    "requiredFeatures", "specularConstant", "specularExponent", "spreadMethod", "startOffset", "stdDeviation",
    "stitchTiles", "surfaceScale", "systemLanguage", "tableValues", "targetX", "targetY", "textLength", "viewBox",
    "viewTarget", "xChannelSelector", "yChannelSelector", "zoomAndPan",
)}  # fmt: skip
_TEX_ANNOTATIONS = frozenset({"application/x-tex", "tex", "latex", "text/x-tex"})
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
    warnings: list[str] = field(default_factory=list)  # what could not go into the report as it was


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


def _is_empty(element: lhtml.HtmlElement) -> bool:
    """No text and no picture left."""
    return not element.text_content().strip() and next(element.iter("img", "svg"), None) is None


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

    # Placements live in hidden inputs, drop-down options in selects and attachments in links: read them before
    # cleaning removes them.
    parts.placements = extract_placements(que, qtype)
    list_choices(que, qtype)
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
    _strip(que, parts.warnings)

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
    if parts.comment is not None and _is_empty(parts.comment):
        _remove(parts.comment)  # it only held the comment link a grader sees: no comment was made
        parts.comment = None
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


def _strip(root: lhtml.HtmlElement, warnings: list[str]) -> None:
    """Drop browser-only parts, unwrap meaningless wrappers, reduce attributes; say what was replaced."""
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
    for element in list(root.iter(*EMBEDDED_KINDS)):
        if element.getparent() is not None:  # not inside embedded content replaced already
            _embedded_placeholder(element, warnings)
    for element in list(root.iter(*DROP_TAGS)):
        _remove(element)
    # SVG and MathML keep their own attributes (a path's `d`, a `viewBox`): the reduction below is for HTML.
    tops = list(root.iter("svg", "math"))
    foreign = {e for top in tops for e in top.iter()}
    for top in [e for e in tops if not any(a in foreign for a in e.iterancestors())]:
        if top.tag == "svg":
            _svg(top)
        else:
            _math(top, warnings)
    for element in list(root.iter()):
        if element.getparent() is None and element is not root:
            continue  # already removed with an ancestor
        tag = element.tag
        if not isinstance(tag, str) or (foreign and element in foreign):
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
        elif tag == "img" and not element.get("src") and element.get("srcset"):
            element.set("src", element.get("srcset", "").split(",")[0].split()[0])  # else no image at all
            del element.attrib["srcset"]
        elif tag == "a":
            popup = element.get("data-content") or element.get("data-bs-content") or ""  # Bootstrap 4 / 5 (5.0)
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


def shown_url(url: str) -> str:
    """A source address as the report and the job log show it: no tokens, a data: URL by its type and size."""
    url = url.strip()
    if url.startswith("data:"):
        return f"{url[: url.find(',')] if ',' in url else url[:40]}… (inline data, {len(url)} characters)"
    url = redact(url)
    return url if len(url) <= _URL_SHOWN_MAX else url[:_URL_SHOWN_MAX] + "…"


def _embedded_sources(element: lhtml.HtmlElement) -> list[str]:
    """Every address the embedded content would load, in document order."""
    urls = [element.get(name) or "" for name in ("src", "data", "code")]
    for child in element.iter("source", "track", "param", "embed"):
        if child.tag == "param":
            if (child.get("name") or "").lower() in ("movie", "src", "url", "filename"):
                urls.append(child.get("value") or "")
        else:
            urls.append(child.get("src") or (child.get("srcset") or "").split(" ")[0])
    if element.get("srcdoc"):
        urls.append("(a page written into the question: srcdoc)")
    return [shown_url(url) for url in dict.fromkeys(u for u in urls if u.strip())]


def _embedded_placeholder(element: lhtml.HtmlElement, warnings: list[str]) -> None:
    """Replace a video, audio, iframe, object or embed by a visible note with its address (as text, no link)."""
    kind = EMBEDDED_KINDS[element.tag]
    sources = _embedded_sources(element)
    where = ", ".join(sources) if sources else "no source address given"
    placeholder = new_element("span", {"class": "missing-image embedded"})  # the same look: no new CSS
    placeholder.text = f"[embedded {kind} not archived: {where}]"
    warnings.append(f"embedded {kind} cannot be archived, placeholder shown: {where}")
    if element.tag in _FALLBACK_KEPT:
        # An <embed> inside an <object> is the same content for older browsers: its address is listed already.
        for child in list(element.iter("source", "track", "param", "embed")):
            _remove(child)
        placeholder.tail = element.text
        element.text = None
        element.insert(0, placeholder)
        element.drop_tag()
    else:
        placeholder.tail = element.tail
        element.getparent().replace(element, placeholder)


def _svg(svg: lhtml.HtmlElement) -> None:
    """Make an inline SVG one the renderer draws: its namespace declared, `xlink:href` as plain `href`."""
    if svg.get("xmlns") is None:
        svg.set("xmlns", SVG_NAMESPACE)  # without it the well-formed report would hold an unknown element
    for element in svg.iter():
        if not isinstance(element.tag, str):
            continue
        element.tag = _SVG_NAMES.get(element.tag, element.tag)
        for name in [n for n in element.attrib if n in _SVG_NAMES or ":" in n]:
            value = element.attrib.pop(name)
            if name in _SVG_NAMES:
                element.set(_SVG_NAMES[name], value)
            elif name.startswith(("xml:", "xmlns:")):
                element.set(name, value)
            elif name == "xlink:href" and element.get("href") is None:
                element.set("href", value)
            # Other prefixes (inkscape:…) are not declared in HTML and draw nothing: left out of the XML report.


def _math(math: lhtml.HtmlElement, warnings: list[str]) -> None:
    """MathML with a TeX annotation becomes that TeX (typeset like every formula); other MathML stays as text."""
    tex = next(
        (a.text for a in math.iter("annotation") if (a.get("encoding") or "").lower() in _TEX_ANNOTATIONS and a.text),
        None,
    )
    if tex:
        display = (math.get("display") or "").lower() == "block"
        replacement = new_element("span")
        replacement.text = ("\\[" if display else "\\(") + tex.strip() + ("\\]" if display else "\\)")
        replacement.tail = math.tail
        math.getparent().replace(math, replacement)
        replacement.drop_tag()
        return
    warnings.append("MathML formula without a TeX annotation: shown as plain text, its layout is lost")
