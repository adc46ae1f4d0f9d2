"""The report's lxml parser: same trees as lxml.html's, every element a plain HtmlElement."""

from __future__ import annotations

import pytest
from lxml import html as lhtml

from archived.drivers.activity.quiz.html_tree import fragment, new_element

FRAGMENTS = [
    "",
    "plain text only",
    "leading text <b>bold</b> tail",
    "<p>one</p><p>two <i>it</i></p> trailing",
    "<div class='que'><input type='text' value='42'><select><option selected>a</option></select>"
    "<label for='x'>L</label><form><textarea>t</textarea></form></div>",
    "<!-- a comment --><p>after</p>",
    "<table><tr><td>cell</td></tr></table>",
    "Zoë &amp; &lt;b&gt; &nbsp; ✔",
]


@pytest.mark.parametrize("html", FRAGMENTS)
@pytest.mark.parametrize("parent", ["div", "span"])
def test_fragment_parses_as_lxml_html_does(html: str, parent: str) -> None:
    ours = fragment(html, parent)
    theirs = lhtml.fragment_fromstring(html, create_parent=parent)
    assert lhtml.tostring(ours, encoding="unicode") == lhtml.tostring(theirs, encoding="unicode")


def test_every_element_is_a_plain_html_element_with_lxml_html_methods() -> None:
    root = fragment(FRAGMENTS[4])
    root.append(new_element("span", {"class": "x"}, title="t"))
    kinds = {type(element) for element in root.iter() if isinstance(element.tag, str)}
    assert kinds == {lhtml.HtmlElement}  # not InputElement, SelectElement, LabelElement, FormElement…
    assert root.find_class("que")[0].text_content() == "aLt"
    root.find(".//label").drop_tree()
    assert "<label" not in lhtml.tostring(root, encoding="unicode")
    assert root[-1].get("title") == "t" and root[-1].get("class") == "x"
