"""Hooks that let one WeasyPrint process reuse work across documents and skip work it did twice.

Every attempt of a quiz shows the same question images and the same formulas, yet WeasyPrint starts from
scratch for each document: it decodes every image and re-encodes it as PNG for the PDF (twice when it has an
alpha channel), parses every SVG path and walks every SVG node in pure Python, and pydyf serialises and
deflates every PDF stream twice (once to write it, once more for the file identifier's hash). On a real quiz
attempt these were most of the render time. Here the results are kept per worker process, keyed by what they
depend on only (each item is one patch of `weasy_patches`, named in brackets):

- `ImageCache` is WeasyPrint's own `cache` render option (a dict keyed by image URL), kept across documents
  for content-addressed URLs only (`res:<sha256>`, `svg:<sha256>`, `data:`); SVG images only when they
  draw without their document (no text, no nested images), and without the document's layout context
  (`image_cache`, used by `pdf_engine`).
- `RasterImage.get_x_object` is memoised per image: a fresh copy of the PDF image object is made from the
  stored bytes for each document (PDF object numbers differ per document) (`raster_objects`).
- The SVG `path` drawer is memoised by its path data: its output (PDF path operators in user space) does not
  depend on where the path is drawn, only on the data and the sizes a path could refer to. Formulas whose
  drawing differs per attempt (calculated questions) still share their glyph paths (`svg_paths`).
- `SVGImage.draw` is memoised by (SVG source hash, drawn size) for drawings made of path operators only
  (see `_SvgDrawMemo`); text and anything that names a document resource is drawn every time
  (`svg_drawings`).
- `pydyf.PDF.write` serialises each stream once: the identifier hash reuses the bytes (`streams_once`).
- pydyf deflates at level 6 instead of 9: slightly larger streams, far less compression time (`zlib6`).

These are WeasyPrint/pydyf internals (WeasyPrint 70, pydyf 0.13: `RasterImage.get_x_object`,
`SVGImage.__init__/draw`, `weasyprint.svg.TAGS`, `pydyf.Stream.data`, `pydyf.PDF.write`, `pydyf.zlib`), so
`weasy_patches` puts them in place only on the versions they were proven on, and
tests/drivers/worker/test_engine_caches.py proves them (byte-identical PDFs from a cold and a warm engine,
formulas and images really drawn, SVG text never replayed). `install()` is idempotent; `uninstall()` restores
the originals; without them the engine is merely slower (what each saves: BENCHMARKS.md).
"""

from __future__ import annotations

import hashlib
import re
import zlib
from collections import OrderedDict, deque
from collections.abc import Collection
from typing import Any
from xml.etree import ElementTree

import pydyf
from weasyprint import images as weasy_images
from weasyprint import svg as weasy_svg

_PATH_MEMO_MAX_BYTES = 6 * 1024 * 1024  # per memo and worker: the whole tree must stay < 400 MiB


# SVG elements that draw without the document: no text (fonts, layout context), no images, no external use.
_SELF_CONTAINED_SVG = frozenset({"svg", "g", "path", "rect", "circle", "ellipse", "line", "polyline", "polygon",
                                 "defs", "use", "title", "desc"})  # fmt: skip


# Image URLs that name their content: the report's `res:<sha256>`, the engine's `svg:<sha256>`, `data:` URLs.
# Another URL may stand for other bytes in the next task, so its image is not kept across documents.
_CONTENT_ADDRESSED = re.compile(r"(?:res|svg):[0-9a-f]{64}$|data:")


def _self_contained(image: Any) -> bool:
    tree = getattr(getattr(getattr(image, "_svg", None), "tree", None), "_etree_node", None)
    if tree is None:
        return False
    for element in tree.iter():
        if not isinstance(element.tag, str) or element.tag.rpartition("}")[2] not in _SELF_CONTAINED_SVG:
            return False
        href = element.get("href") or element.get("{http://www.w3.org/1999/xlink}href")
        if href is not None and not href.startswith("#"):
            return False
    return True


class ImageCache(dict[str, Any]):
    """WeasyPrint's `cache` option, kept across documents: raster images, self-contained SVGs, byte payloads.

    `None` (an image that failed) is not kept: a failure must be fetched and reported again in the next
    document. An SVG image holds its document's layout context (for text and nested images); only SVGs that
    need neither are kept, without that context. Trim only between documents: WeasyPrint reads the
    payloads lazily while writing the PDF.
    """

    def __init__(self, max_bytes: int = 16 * 1024 * 1024, max_items: int = 256, max_svgs: int = 64) -> None:
        super().__init__()
        self.max_bytes = max_bytes
        self.max_items = max_items
        # A parsed SVG is large to keep; formulas with per-attempt values (calculated questions) never repeat,
        # so SVGs are kept first in, first out: the quiz's recurring formulas stay, memory stays flat.
        self.max_svgs = max_svgs
        self._svg_keys: deque[str] = deque()

    def __setitem__(self, key: str, value: Any) -> None:
        if not isinstance(value, bytes) and not _CONTENT_ADDRESSED.match(key):
            return  # an image is kept only under a name that changes with its content
        if isinstance(value, weasy_images.SVGImage) and _self_contained(value):
            value._context = None  # do not keep the first document alive
            if key not in self:
                self._svg_keys.append(key)
            super().__setitem__(key, value)
            while len(self._svg_keys) > self.max_svgs:
                self.pop(self._svg_keys.popleft(), None)
        elif isinstance(value, weasy_images.RasterImage | bytes):
            super().__setitem__(key, value)

    def clear(self) -> None:
        """Forget everything."""
        super().clear()
        self._svg_keys.clear()

    def trim(self) -> None:
        """Drop everything when the payloads exceed the budget (call between documents)."""
        if len(self) > self.max_items or sum(len(v) for v in self.values() if isinstance(v, bytes)) > self.max_bytes:
            self.clear()


def _clone_stream(stream: pydyf.Stream) -> pydyf.Stream:
    extra = pydyf.Dictionary(stream.extra)
    for key, value in stream.extra.items():
        if isinstance(value, pydyf.Stream):
            extra[key] = _clone_stream(value)
        elif isinstance(value, pydyf.Dictionary):
            extra[key] = pydyf.Dictionary(value)
    return pydyf.Stream(list(stream.stream), extra, stream.compress)


def _memoised_x_object(original: Any) -> Any:
    def get_x_object(self: Any, interpolate: bool, dpi_ratio: float) -> pydyf.Stream:
        memo: dict[tuple[bool, float], pydyf.Stream] = self.__dict__.setdefault("_archived_x_objects", {})
        key = (bool(interpolate), dpi_ratio)
        if key not in memo:
            # Keep a pristine copy: WeasyPrint replaces the SMask by a reference in the object it got.
            memo[key] = _clone_stream(original(self, interpolate, dpi_ratio))
        return _clone_stream(memo[key])

    get_x_object.__wrapped__ = original  # type: ignore[attr-defined]
    return get_x_object


class _PathMemo:
    """Output of WeasyPrint's SVG path drawer by (path data, font size, viewport); bounded LRU."""

    def __init__(self, draw: Any, max_bytes: int = _PATH_MEMO_MAX_BYTES) -> None:
        self.draw = draw
        self.max_bytes = max_bytes
        self.bytes = 0
        self.hits = 0
        self.items: OrderedDict[tuple[Any, ...], tuple[list[Any], list[Any]]] = OrderedDict()

    def __call__(self, svg: Any, node: Any, font_size: float) -> None:
        data = node.get("d", "")
        key = (data, font_size, svg.inner_width, svg.inner_height)
        found = self.items.get(key)
        if found is not None:
            self.hits += 1
            self.items.move_to_end(key)
            operators, vertices = found
            svg.stream.stream.extend(operators)
            node.vertices.extend(vertices)
            return
        start, known = len(svg.stream.stream), len(node.vertices)
        self.draw(svg, node, font_size)  # raises on malformed data: nothing is remembered then
        operators = svg.stream.stream[start:]
        if not all(isinstance(item, bytes) for item in operators):
            return
        self.items[key] = (operators, list(node.vertices)[known:])  # a deque: no slicing
        self.bytes += len(data) + sum(len(item) for item in operators)
        while self.bytes > self.max_bytes and self.items:
            (old, _, _, _), (old_ops, _) = self.items.popitem(last=False)
            self.bytes -= len(old) + sum(len(item) for item in old_ops)


# Graphics-state resources an SVG drawing may name (`/a1.0 gs`): WeasyPrint's alpha states, keyed by value.
_ALPHA_STATE = re.compile(rb"/([aA][0-9.]+) gs")
_TRACKERS = ("_current_color", "_current_color_stroke", "_current_alpha", "_current_alpha_stroke", "_current_font")


# PDF operators that only draw paths and set colours/line styles: replaying them needs no document resource.
_PATH_OPERATORS = frozenset(b"m l c v y h re f F f* B B* b b* S s n W W* q Q cm rg RG g G k K w J j d M i ri".split())


def _drawing_only(item: bytes) -> bool:
    operator = item.rpartition(b" ")[2] if b" " in item else item
    if operator == b"gs":
        return _ALPHA_STATE.fullmatch(item) is not None
    return operator in _PATH_OPERATORS


def _keyed_svg_init(original: Any) -> Any:
    def __init__(self: Any, tree: Any, *args: Any, **kwargs: Any) -> None:
        original(self, tree, *args, **kwargs)
        tail, tree.tail = tree.tail, None  # the text after an inline <svg> is not part of it
        try:
            self._archived_key = hashlib.sha256(ElementTree.tostring(tree)).digest()
        except Exception:
            self._archived_key = None
        finally:
            tree.tail = tail

    return __init__


class _SvgDrawMemo:
    """Whole SVG drawings (PDF operators) by (SVG source, drawn size); bounded LRU.

    An SVG is drawn between a save and a restore of the graphics state, so its operators do not depend on
    what was drawn before, provided they are recorded with WeasyPrint's state trackers (current colour,
    alpha, font) cleared: then every state the drawing needs is set in its own operators. Drawings that add
    resources other than alpha states (groups for opacity, patterns, gradients, fonts for SVG text) are
    not kept.
    """

    def __init__(self, draw: Any, max_bytes: int = _PATH_MEMO_MAX_BYTES) -> None:
        self.draw = draw
        self.max_bytes = max_bytes
        self.bytes = 0
        self.hits = 0
        self.items: OrderedDict[tuple[Any, ...], tuple[list[bytes], list[tuple[str, dict[str, Any]]]]] = OrderedDict()

    def __call__(self, image: Any, stream: Any, width: float, height: float, style: Any) -> None:
        source = getattr(image, "_archived_key", None)
        if source is None or not all(hasattr(stream, name) for name in (*_TRACKERS, "_resources", "_fonts")):
            self.draw(image, stream, width, height, style)
            return
        key = (source, width, height)
        for name in _TRACKERS:
            setattr(stream, name, None)
        found = self.items.get(key)
        if found is not None:
            self.hits += 1
            self.items.move_to_end(key)
            operators, states = found
            known = stream._resources["ExtGState"]
            for name, value in states:
                if name not in known:
                    known[name] = pydyf.Dictionary(value)
            stream.stream.extend(operators)
            return
        resources = stream._resources
        counts = [len(resources.get(kind) or ()) for kind in ("XObject", "Pattern", "Shading")]
        fonts, start = len(stream._fonts), len(stream.stream)
        self.draw(image, stream, width, height, style)
        for name in _TRACKERS:
            setattr(stream, name, None)
        operators = stream.stream[start:]
        if (
            counts != [len(resources.get(kind) or ()) for kind in ("XObject", "Pattern", "Shading")]
            or fonts != len(stream._fonts)
            or not all(isinstance(item, bytes) for item in operators)
        ):
            return
        if not all(_drawing_only(item) for item in operators):
            return  # text, images, shadings, other graphics states: they name document resources
        named = {m.decode() for item in operators if item.endswith(b" gs") for m in _ALPHA_STATE.findall(item)}
        known = resources["ExtGState"]
        states = [(name, dict(known[name])) for name in sorted(named) if name in known]
        self.items[key] = (operators, states)
        self.bytes += sum(len(item) for item in operators)
        while self.bytes > self.max_bytes and self.items:
            _, (old, _) = self.items.popitem(last=False)
            self.bytes -= sum(len(item) for item in old)


def svg_memo() -> _SvgDrawMemo | None:
    """The installed SVG drawing memo (for statistics and tests), or None."""
    drawer = weasy_images.SVGImage.draw
    return getattr(drawer, "memo", None)


def _bound(memo: _SvgDrawMemo) -> Any:
    def draw(self: Any, stream: Any, width: float, height: float, style: Any) -> None:
        memo(self, stream, width, height, style)

    draw.memo = memo  # type: ignore[attr-defined]
    return draw


def path_memo() -> _PathMemo | None:
    """The installed SVG path memo (for statistics and tests), or None."""
    drawer = weasy_svg.TAGS.get("path")
    return drawer if isinstance(drawer, _PathMemo) else None


# The patch names (see weasy_patches) and what each one replaced, for `uninstall`.
NAMES = ("raster_objects", "svg_paths", "svg_drawings", "streams_once", "zlib6")
_originals: dict[str, tuple[Any, ...]] = {}


def install(names: Collection[str] = NAMES) -> set[str]:
    """Hook the named memoising wrappers into WeasyPrint and pydyf (idempotent); return the names installed."""
    wanted = set(names)
    if "raster_objects" in wanted and "raster_objects" not in _originals:
        raster = weasy_images.RasterImage
        _originals["raster_objects"] = (raster.get_x_object,)
        raster.get_x_object = _memoised_x_object(raster.get_x_object)
    if "svg_paths" in wanted and "svg_paths" not in _originals:
        _originals["svg_paths"] = (weasy_svg.TAGS["path"],)
        weasy_svg.TAGS["path"] = _PathMemo(weasy_svg.TAGS["path"])
    if "svg_drawings" in wanted and "svg_drawings" not in _originals:
        svg_image = weasy_images.SVGImage
        _originals["svg_drawings"] = (svg_image.__init__, svg_image.draw)
        svg_image.__init__ = _keyed_svg_init(svg_image.__init__)
        svg_image.draw = _bound(_SvgDrawMemo(svg_image.draw))
    if "streams_once" in wanted and "streams_once" not in _originals:
        _originals["streams_once"] = (pydyf.Stream.__dict__["data"], pydyf.PDF.write)
        pydyf.Stream.data = _memoised_stream_data(pydyf.Stream.data.fget)
        pydyf.PDF.write = _write_once(pydyf.PDF.write)
    if "zlib6" in wanted and "zlib6" not in _originals:
        _originals["zlib6"] = (pydyf.zlib,)
        pydyf.zlib = _Zlib6()
    return set(_originals)


def installed() -> set[str]:
    """The names of the wrappers in place now."""
    return set(_originals)


def uninstall() -> None:
    """Restore WeasyPrint's and pydyf's own functions (tests; switching to another set of patches)."""
    if "raster_objects" in _originals:
        (weasy_images.RasterImage.get_x_object,) = _originals["raster_objects"]
    if "svg_paths" in _originals:
        (weasy_svg.TAGS["path"],) = _originals["svg_paths"]
    if "svg_drawings" in _originals:
        weasy_images.SVGImage.__init__, weasy_images.SVGImage.draw = _originals["svg_drawings"]
    if "streams_once" in _originals:
        pydyf.Stream.data, pydyf.PDF.write = _originals["streams_once"]
    if "zlib6" in _originals:
        (pydyf.zlib,) = _originals["zlib6"]
    _originals.clear()


class _Zlib6:
    """pydyf's view of zlib: level 6 instead of 9 (slightly larger streams, far less compression time)."""

    def __getattr__(self, name: str) -> Any:
        return getattr(zlib, name)

    @staticmethod
    def compressobj(level: int = -1, *args: Any, **kwargs: Any) -> Any:
        return zlib.compressobj(min(level, 6) if level >= 0 else level, *args, **kwargs)


# While a PDF is written: stream id -> (the stream, its serialised bytes). The stream itself is kept so that
# its id cannot be reused by another object freed and allocated during the write.
_WRITING: dict[int, tuple[pydyf.Stream, bytes]] | None = None


def _memoised_stream_data(original: Any) -> Any:
    def data(self: pydyf.Stream) -> bytes:
        if _WRITING is None:
            result: bytes = original(self)
            return result
        found = _WRITING.get(id(self))
        if found is None or found[0] is not self:
            found = _WRITING[id(self)] = (self, original(self))
        return found[1]

    return property(data)


def _write_once(original: Any) -> Any:
    def write(self: Any, *args: Any, **kwargs: Any) -> Any:
        global _WRITING
        _WRITING = {}
        try:
            return original(self, *args, **kwargs)
        finally:
            _WRITING = None

    return write
