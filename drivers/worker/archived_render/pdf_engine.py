"""HTML → PDF/A with WeasyPrint, inside a render worker process.

Speed matters (hundreds of attempts per job), so with the speed patches on (`weasy_patches` decides: proven
WeasyPrint/pydyf versions only, and a switch) the engine avoids WeasyPrint's slow paths where the input allows
it: well-formed (XHTML-serialised) input is parsed with expat instead of the pure-Python HTML5 parser, the
user-agent stylesheet is a small one written for report HTML, inline SVGs are drawn as images (their elements
stay out of the CSS cascade), and parsed `<style>` sheets, WeasyPrint's decoded images, PDF image objects and
SVG drawings are reused across tasks (see `weasy_caches`, `weasy_fastpaths`). With them off, it renders through
WeasyPrint's public API only. Either way the font configuration and prepared images are kept across tasks, and
nothing reaches the network: the URL fetcher serves only the task's resources (and `data:` URLs) and records
everything else as missing.

What each patch saves is measured in BENCHMARKS.md ("WeasyPrint speed patches").
"""

from __future__ import annotations

import base64
import hashlib
import logging
import re
import time
import urllib.parse
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import cssselect2
from weasyprint import CSS, HTML
from weasyprint.text.fonts import FontConfiguration
from weasyprint.urls import URLFetcher, URLFetcherResponse, iri_to_uri

from archived.durable import write_atomic
from archived_render import weasy_patches
from archived_render.images import ImageDecodeError, PreparedImageCache
from archived_render.pdf_check import check_pdf
from archived_render.render_task import RenderResult, RenderTask, Resource
from archived_render.weasy_patches import PatchDecision

# WeasyPrint reports a missing image as an ERROR log line; the fetcher records it instead.
logging.getLogger("weasyprint").setLevel(logging.CRITICAL)
logging.getLogger("fontTools").setLevel(logging.ERROR)

_SVG_TAG = "{http://www.w3.org/2000/svg}svg"
_CSS_LENGTH = re.compile(r"\d+(?:\.\d+)?(?:ex|em|px|pt|mm|cm|in|%)?|\.\d+(?:ex|em|px|pt|mm|cm|in|%)?")

# The user-agent stylesheet for report HTML: only what the elements we emit need. WeasyPrint's full HTML5
# stylesheet has hundreds of rules, matched against every element of every report.
UA_CSS = """
html, body, div, p, h1, h2, h3, h4, h5, h6, ul, ol, dl, dt, dd, fieldset, legend, pre, blockquote, section,
header, footer, figure, figcaption, address, article, aside, nav, main, hr, center, form, details, summary
  { display: block }
head, script, style, title, meta, link, template, noscript, datalist, param, [hidden] { display: none }
table { display: table; border-collapse: separate; border-spacing: 2px; box-sizing: border-box }
caption { display: table-caption; text-align: center }
thead { display: table-header-group } tbody { display: table-row-group } tfoot { display: table-footer-group }
tr { display: table-row } td, th { display: table-cell; padding: 1px; vertical-align: inherit }
colgroup { display: table-column-group } col { display: table-column }
th { font-weight: bold; text-align: center } li { display: list-item }
ul, ol { margin: .5em 0; padding-left: 2em } ul { list-style-type: disc } ol { list-style-type: decimal }
ul ul { list-style-type: circle } p, dl, pre, blockquote, figure { margin: .6em 0 } dd { margin-left: 2em }
h1 { font-size: 1.6em; margin: .6em 0 } h2 { font-size: 1.35em; margin: .6em 0 }
h3 { font-size: 1.15em; margin: .5em 0 } h4, h5, h6 { font-size: 1em; margin: .4em 0 }
h1, h2, h3, h4, h5, h6, b, strong, dt { font-weight: bold } i, em, cite, var, dfn, address { font-style: italic }
pre, code, kbd, samp, tt { font-family: monospace } pre { white-space: pre-wrap }
sub { vertical-align: sub; font-size: smaller } sup { vertical-align: super; font-size: smaller }
u, ins { text-decoration: underline } s, strike, del { text-decoration: line-through }
small { font-size: smaller } big { font-size: larger } mark { background: yellow }
hr { border: 1px inset; margin: .5em 0 } blockquote { margin-left: 2em } center { text-align: center }
a { color: inherit } br::before { content: '\\A'; white-space: pre-line }
img, svg, video, canvas, iframe, object, embed { display: inline-block }
input, select, textarea, button { display: inline-block }
ruby { display: ruby } rt { display: ruby-text }
"""


class _ResourceFetcher(URLFetcher):  # type: ignore[misc]  # WeasyPrint ships no type information
    """Serves only the task's resources and `data:` URLs; records every other URL as missing."""

    def __init__(self, resources: dict[str, Resource], images: PreparedImageCache, task: RenderTask) -> None:
        super().__init__(allowed_protocols=())
        self._resources = {iri_to_uri(url): res for url, res in resources.items()}
        self._resources.update(resources)
        self._images = images
        self._limits = task.options.image_limits
        self.missing: list[str] = []
        self.broken: list[str] = []

    def add(self, url: str, resource: Resource) -> None:
        """Serve one more resource (made by the engine itself, e.g. an inline SVG turned into an image)."""
        self._resources[url] = resource

    def fetch(self, url: str, headers: Any = None) -> URLFetcherResponse:
        """Answer from memory or refuse (WeasyPrint then leaves the image out, we report it)."""
        if url.startswith("data:"):
            resource = _decode_data_url(url)
            label = "data: URL"
        else:
            found = self._resources.get(url) or self._resources.get(urllib.parse.unquote(url))
            if found is None:
                self.missing.append(url)
                raise ValueError(f"not among the task's resources: {url}")
            resource, label = found, url
        data, mime = resource.data, resource.mime
        if mime.startswith("image/"):
            try:
                data, mime = self._images.get(data, mime, self._limits)
            except ImageDecodeError:
                self.broken.append(label)
                raise
        return URLFetcherResponse(url, data, {"Content-Type": mime})


def _svg_to_images(root: ET.Element, fetcher: _ResourceFetcher) -> None:
    """Turn every inline `<svg>` into an `<img>` of the same SVG, served from memory.

    Same picture, size and alignment (the `style` goes along; currentColor in WeasyPrint's SVG does not come
    from the HTML cascade either), but the SVG's elements no longer go through the document's CSS cascade
    and box tree: a formula has one element there instead of dozens.
    """
    for parent in root.iter():
        for index, child in enumerate(parent):
            if child.tag != _SVG_TAG:
                continue
            tail, child.tail = child.tail, None
            data = ET.tostring(child)
            url = "svg:" + hashlib.sha256(data).hexdigest()
            fetcher.add(url, Resource(data, "image/svg+xml"))
            image = ET.Element("img", {"src": url, "alt": ""})
            # An inline SVG's width/height attributes size it like CSS lengths (ex = the font's x-height);
            # as an image it would use SVG units (ex = em/2): keep the inline sizes.
            sizes = [
                f"{name}: {value}{'px' if value[-1].isdigit() else ''}"
                for name in ("width", "height")
                if (value := (child.get(name) or "").strip()) and _CSS_LENGTH.fullmatch(value)
            ]
            style = "; ".join([*sizes, child.get("style") or ""]).strip("; ")
            if style:
                image.set("style", style)
            image.tail = tail
            parent[index] = image


def _decode_data_url(url: str) -> Resource:
    header, _, payload = url[5:].partition(",")
    mime = header.split(";")[0] or "text/plain"
    if header.endswith(";base64"):
        return Resource(base64.b64decode(payload), mime)
    return Resource(urllib.parse.unquote_to_bytes(payload), mime)


class _ParsedHTML(HTML):  # type: ignore[misc]  # WeasyPrint ships no type information
    """A WeasyPrint document from an already parsed tree, with the report user-agent stylesheet."""

    def __init__(self, root: ET.Element, fetcher: URLFetcher, ua: CSS) -> None:  # no super(): no re-parse
        self.base_url: str | None = None
        self.url_fetcher = fetcher
        self.media_type = "print"
        self.wrapper_element = cssselect2.ElementWrapper.from_html_root(root, content_language=None)
        self.etree_element = self.wrapper_element.etree_element
        self._report_ua = ua

    def _ua_stylesheets(self, forms: bool = False) -> list[CSS]:
        return [self._report_ua]


class PdfEngine:
    """Renders tasks one after another in one process; keeps fonts and prepared images warm.

    With the speed patches on (see `weasy_patches`), it also parses well-formed reports itself, uses the report
    user-agent stylesheet, draws inline SVGs as images and keeps parsed `<style>` sheets and WeasyPrint's images
    across tasks; with them off it uses WeasyPrint's public API only.
    """

    def __init__(self, patches: PatchDecision | None = None) -> None:
        self.patches = weasy_patches.apply(patches or weasy_patches.decide())
        enabled = self.patches.enabled
        self._fonts = FontConfiguration()
        self._images = PreparedImageCache()
        self._weasy_images: Any = weasy_patches.image_cache() if "image_cache" in enabled else None
        self._parsed = "parsed_html" in enabled
        self._ua = CSS(string=UA_CSS) if self._parsed else None
        self._page_css: dict[str, CSS] = {}
        self._style_css: dict[str, CSS] = {}

    def render(self, task: RenderTask) -> RenderResult:
        """Render one task to PDF/A; write it atomically to `task.output_path` if given."""
        started = time.perf_counter(), time.process_time()
        options = task.options
        fetcher = _ResourceFetcher(task.resources, self._images, task)
        stylesheets: list[CSS] = []
        if self._parsed:
            document = self._document(task.html, fetcher)
            stylesheets = self._take_style_sheets(document.etree_element)
        else:
            document = HTML(string=task.html, url_fetcher=fetcher)
        if options.page_size:
            stylesheets.append(self._page_size_css(options.page_size))
        try:
            rendered = document.render(
                font_config=self._fonts,
                stylesheets=stylesheets,
                pdf_variant=str(options.pdf_variant),
                cache={} if self._weasy_images is None else self._weasy_images,
            )
            return self._finish(task, rendered, fetcher, started)
        finally:
            if self._weasy_images is not None:
                self._weasy_images.trim()

    def _finish(
        self, task: RenderTask, rendered: Any, fetcher: _ResourceFetcher, started: tuple[float, float]
    ) -> RenderResult:
        options = task.options
        metadata = rendered.metadata
        metadata.title = options.title or metadata.title
        if options.author:
            metadata.authors = [options.author]
        if options.subject:
            metadata.description = options.subject
        if options.language:
            metadata.lang = options.language
        metadata.created = metadata.modified = options.created
        metadata.generator = "archived (WeasyPrint)"
        identifier = (options.identifier or hashlib.sha256(task.html.encode()).hexdigest())[:32].encode()
        pdf = rendered.write_pdf(pdf_identifier=identifier, pdf_variant=str(options.pdf_variant))
        check = check_pdf(pdf, task_id=task.task_id, expect_variant=str(options.pdf_variant)) if options.check else None
        path = None
        if task.output_path is not None:
            path = Path(task.output_path)
            write_atomic(path, pdf)
        return RenderResult(
            task_id=task.task_id,
            pdf=None if path else pdf,
            path=path,
            size=len(pdf),
            sha256=hashlib.sha256(pdf).hexdigest(),
            pages=len(rendered.pages),
            missing_resources=tuple(dict.fromkeys(fetcher.missing)),
            broken_resources=tuple(dict.fromkeys(fetcher.broken)),
            check=check,
            seconds=time.perf_counter() - started[0],
            cpu_seconds=time.process_time() - started[1],
        )

    def _document(self, html: str, fetcher: _ResourceFetcher) -> HTML:
        assert self._ua is not None  # only with `parsed_html`
        body = _strip_doctype(html)
        if body.startswith("<html"):
            try:
                root = ET.fromstring(body)
            except ET.ParseError:
                root = None  # not well-formed after all: WeasyPrint's HTML5 parser copes with anything
            if root is not None and root.tag == "html":  # a namespaced XHTML root would match no rule
                _svg_to_images(root, fetcher)
                return _ParsedHTML(root, fetcher, self._ua)
        root = HTML(string=html, url_fetcher=fetcher).etree_element
        _svg_to_images(root, fetcher)
        return _ParsedHTML(root, fetcher, self._ua)

    def _take_style_sheets(self, root: ET.Element) -> list[CSS]:
        """Swap the document's `<style>` elements for parsed sheets kept across tasks (same cascade).

        Every report carries the same stylesheet, and parsing it anew for every task was costly. The sheet goes
        in as a WeasyPrint user sheet, which only ranks below author sheets, and no author sheet is left. Sheets
        that could register document state (fonts, counters, imports, layers) stay where they are.
        """
        sheets: list[CSS] = []
        head = root.find("head")
        if head is None:
            return sheets
        for style in [child for child in head if child.tag == "style"]:
            text = "".join(style.itertext())
            media = (style.get("media") or "all").strip()
            kind = (style.get("type") or "text/css").split(";")[0].strip()
            if media not in ("all", "print") or kind != "text/css":
                continue
            if any(word in text for word in ("@font-face", "@counter-style", "@import", "@layer", "url(")):
                continue
            css = self._style_css.get(text)
            if css is None:
                if len(self._style_css) > 16:
                    self._style_css.clear()
                css = self._style_css[text] = CSS(string=text, font_config=self._fonts)
            sheets.append(css)
            head.remove(style)
        return sheets

    def _page_size_css(self, size: str) -> CSS:
        css = self._page_css.get(size)
        if css is None:
            css = self._page_css[size] = CSS(string=f"@page {{ size: {size} }}")
        return css


def _strip_doctype(html: str) -> str:
    text = html.lstrip()
    if text[:9].upper() == "<!DOCTYPE":
        text = text[text.index(">") + 1 :].lstrip()
    return text
