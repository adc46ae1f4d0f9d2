"""The report's lxml parser: same trees as lxml.html's, every element a plain HtmlElement."""

from __future__ import annotations

import pytest
from lxml import html as lhtml

from archived_quiz.html_tree import IncompleteHtmlError, fragment, new_element

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


# -- nothing may cut a fragment short unnoticed --------------------------------------------------------------

TEN_MB_IMAGE = "data:image/png;base64," + "iVBORw0K" * 1_300_000  # 10.4 MB: over libxml2's default text limit


def test_a_ten_megabyte_attribute_keeps_what_follows() -> None:
    root = fragment(f'<p>before</p><img src="{TEN_MB_IMAGE}" alt="scan"><p>the student\'s answer</p>')
    assert [element.tag for element in root] == ["p", "img", "p"]
    assert root[1].get("src") == TEN_MB_IMAGE and root[1].get("alt") == "scan"
    assert root[2].text == "the student's answer"


def test_a_ten_megabyte_text_keeps_what_follows() -> None:
    essay = "word " * 2_100_000
    root = fragment(f"<p>{essay}</p><p>after</p>")
    assert root[0].text == essay and root[1].text == "after"


def test_deep_nesting_keeps_its_content() -> None:
    """libxml2 stops at 256 levels by default and hands back a tree without the content."""
    root = fragment("<div>" * 1000 + "deep" + "</div>" * 1000 + "<p>after</p>")
    assert root.text_content() == "deepafter"


def test_a_parse_that_stops_early_raises() -> None:
    """Even the lifted limit (2,048 levels) ends somewhere: what it drops must not go unnoticed."""
    with pytest.raises(IncompleteHtmlError, match="could not be read to its end"):
        fragment("<div>" * 3000 + "deep" + "</div>" * 3000 + "<p>after</p>")


def test_document_end_tags_do_not_end_the_fragment() -> None:
    """libxml2 drops everything after `</html>` and puts what follows `</body>` outside the body."""
    for end in ("</body></html>", "</html>", "</body>", "</BODY >"):
        root = fragment(f"<p>first</p>{end}<p>after</p>")
        assert [e.text for e in root] == ["first", "after"], end


@pytest.mark.parametrize("void", ["embed", "source", "track", "wbr", "keygen"])
def test_content_after_a_void_element_stays_after_it(void: str) -> None:
    """libxml2 makes what follows these void elements their content; it belongs after them."""
    root = fragment(f'<div>a<{void} src="x">after <b>bold</b> tail</div><p>next</p>')
    element = root.find(f".//{void}")
    assert element is not None and element.text is None and len(element) == 0
    assert lhtml.tostring(root[0], encoding="unicode").endswith("after <b>bold</b> tail</div>")
    assert root[1].text == "next"


@pytest.mark.parametrize("opener", ["<textarea>", "<title>", "<script>", "<xmp>", "<!--"])
def test_unclosed_raw_text_ends_with_the_input(opener: str) -> None:
    """An unclosed element of raw text runs to the end of the input, and no further (lxml's own wrapper used
    to show up in it as `</body></html>`)."""
    root = fragment(f"<p>x</p>{opener}unclosed")
    raw = "".join(root.itertext()) if opener != "<!--" else root[-1].text
    assert raw.endswith("unclosed") and "archived" not in raw and "body" not in raw


def test_a_lone_surrogate_no_longer_ends_the_parse() -> None:
    """libxml2 stops at a lone surrogate and hands back what it had: the fragment is parsed again, repaired."""
    root = fragment("<p>a\ud800b \ufffe</p><p>after</p>")
    assert [e.text for e in root] == ["a\ufffdb \ufffd", "after"]
