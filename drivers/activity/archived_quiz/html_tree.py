"""The lxml parser and element factory for report HTML: every element a plain `HtmlElement`, its class chosen in C.

lxml.html's own parser picks the Python class of every element it hands out with a lookup written in Python
(form, input, label… get classes of their own); that lookup ran ~6,000 times per attempt of the real
16-question exam, a sixth of the report preparation. Nothing in the quiz driver uses those classes' extras.
Trees parsed with `PARSER` or built from `new_element` keep this lookup, also for elements moved into them.

No size or depth of Moodle's HTML may cut a report short without anyone noticing. libxml2 stops reading at
its default limits (a text or attribute of 10,000,000 bytes — a 10 MB inline `data:` image — or elements
nested 256 deep) and hands back what it had, so the student's answer after such an image would vanish:
`PARSER` lifts those limits (`huge_tree`), and `fragment` checks that the parse reached the end of its input.
When it did not, it repairs what stops libxml2 without losing content (a lone surrogate, `</html>`) and
parses again — only then, so that normal input costs no extra pass over its text — and raises
`IncompleteHtmlError` if even that parse falls short.
"""

from __future__ import annotations

import re

from lxml import etree
from lxml import html as lhtml

from archived.errors import FatalError
from archived_quiz.xml_chars import clean_text

PARSER = lhtml.HTMLParser(huge_tree=True)
PARSER.set_element_class_lookup(
    etree.ElementDefaultClassLookup(
        element=lhtml.HtmlElement, comment=lhtml.HtmlComment, pi=lhtml.HtmlProcessingInstruction
    )
)

# Appended to every fragment: found again at the end of the tree, it proves the parser read everything.
_END = "archived:end-of-fragment:5b0e9c1d"
_END_MARKER = f"<!--{_END}-->"
# A fragment has no document end: libxml2 drops everything after `</html>` and puts what follows `</body>`
# outside the body, where lxml's fragment parsing never looks.
_DOCUMENT_END = re.compile(r"</(?:body|html)\b[^>]*>", re.IGNORECASE)
# Void elements that libxml2 (2.14) does not know are void: it makes everything after them their content,
# which would then be dropped (or shown) together with the element.
_UNKNOWN_VOIDS = ("embed", "source", "track", "wbr", "keygen")


class IncompleteHtmlError(FatalError):
    """HTML from Moodle could not be read to its end: the report would silently miss what follows."""

    code = "html_incomplete"


def new_element(tag: str, attrib: dict[str, str] | None = None, **extra: str) -> lhtml.HtmlElement:
    """A new element in a document of `PARSER`."""
    element: lhtml.HtmlElement = PARSER.makeelement(tag, attrib or {}, **extra)
    return element


def fragment(html: str, parent: str = "div") -> lhtml.HtmlElement:
    """`lxml.html.fragment_fromstring(html, create_parent=parent)` with `PARSER`'s lookup for the whole tree.

    (lxml's own function makes the parent with its default parser, whose lookup the parsed elements then take.)
    Raises `IncompleteHtmlError` if the parser cannot read the HTML to its end.
    """
    root = _parse(html, parent)
    if root is None:
        repaired = _DOCUMENT_END.sub("", clean_text(html))  # what stops libxml2 early: see the module's docstring
        root = _parse(repaired, parent) if repaired != html else None
        if root is None:
            raise IncompleteHtmlError(
                "the HTML could not be read to its end: elements nested more than 2,048 deep, or a tag, attribute "
                "value or comment left open that swallowed what follows; the report would silently miss that "
                "part. Correct the HTML of the question (or feedback) in Moodle and retry the job"
            )
    _empty_voids(root)
    return root


def _parse(html: str, parent: str) -> lhtml.HtmlElement | None:
    """The fragment under a new `parent`, or None if the parse never reached the end of `html`."""
    root = new_element(parent)
    elements = lhtml.fragments_fromstring(html + _END_MARKER, parser=PARSER, no_leading_text=False)
    if elements and isinstance(elements[0], str):
        root.text = elements.pop(0)
    root.extend(elements)
    return root if _take_end_marker(root) else None


def _take_end_marker(root: lhtml.HtmlElement) -> bool:
    """Remove the end marker; False if the parse never reached it."""
    last = root
    while len(last):
        last = last[-1]
    if last.tag is etree.Comment and last.text == _END:
        parent = last.getparent()
        if last.tail:  # never seen: nothing follows the marker; kept for safety
            previous = last.getprevious()
            if previous is not None:
                previous.tail = (previous.tail or "") + last.tail
            else:
                parent.text = (parent.text or "") + last.tail
        parent.remove(last)
        return True
    # Input that ends inside an element holding raw text (an unclosed <textarea>, <script>, <title>…) or
    # inside an unclosed comment swallowed the marker as text: the input was read to its end. Cut the marker
    # and what lxml added after it (`</body></html>`) off again.
    for node in root.iter():
        for name in ("text", "tail"):
            value = getattr(node, name)
            if value and _END in value:
                cut = value.index(_END)
                opening = value.rfind("<!--", 0, cut)
                setattr(node, name, value[: opening if opening >= 0 else cut] or None)
                return True
    return False


def _empty_voids(root: lhtml.HtmlElement) -> None:
    """Move what libxml2 put inside void elements back after them, where the HTML had it."""
    for element in list(root.iter(*_UNKNOWN_VOIDS)):  # a walk in C: cheaper than searching the text first
        if element.text is None and not len(element):
            continue
        parent = element.getparent()
        text, tail = element.text, element.tail
        element.text = None
        children = list(element)
        index = parent.index(element)
        for offset, child in enumerate(children, 1):
            parent.insert(index + offset, child)
        last = children[-1] if children else None
        if last is None:
            element.tail = (text or "") + (tail or "") or None
        else:
            element.tail = text
            last.tail = (last.tail or "") + (tail or "") or None
