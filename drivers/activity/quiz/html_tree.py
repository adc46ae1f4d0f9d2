"""The lxml parser and element factory for report HTML: every element a plain `HtmlElement`, its class chosen in C.

lxml.html's own parser picks the Python class of every element it hands out with a lookup written in Python
(form, input, label… get classes of their own); that lookup ran ~6,000 times per attempt of the real
16-question exam, a sixth of the report preparation. Nothing in the quiz driver uses those classes' extras.
Trees parsed with `PARSER` or built from `new_element` keep this lookup, also for elements moved into them.
"""

from __future__ import annotations

from lxml import etree
from lxml import html as lhtml

PARSER = lhtml.HTMLParser()
PARSER.set_element_class_lookup(
    etree.ElementDefaultClassLookup(
        element=lhtml.HtmlElement, comment=lhtml.HtmlComment, pi=lhtml.HtmlProcessingInstruction
    )
)


def new_element(tag: str, attrib: dict[str, str] | None = None, **extra: str) -> lhtml.HtmlElement:
    """A new element in a document of `PARSER`."""
    element: lhtml.HtmlElement = PARSER.makeelement(tag, attrib or {}, **extra)
    return element


def fragment(html: str, parent: str = "div") -> lhtml.HtmlElement:
    """`lxml.html.fragment_fromstring(html, create_parent=parent)` with `PARSER`'s lookup for the whole tree.

    (lxml's own function makes the parent with its default parser, whose lookup the parsed elements then take.)
    """
    root = new_element(parent)
    elements = lhtml.fragments_fromstring(html, parser=PARSER, no_leading_text=False)
    if elements and isinstance(elements[0], str):
        root.text = elements.pop(0)
    root.extend(elements)
    return root
