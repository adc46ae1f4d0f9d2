"""Faster equivalents of WeasyPrint functions that run once per box or per piece of text.

A quiz report has many boxes and text runs, and WeasyPrint's layout spends much of its time in small Python
helpers called for each of them. Several of them redo work whose result depends only on a handful of style
values, or was just done; here they do it once:

- `ComputedStyle.__missing__` (every computed value of every element) walked the whole cascade logic for
  values that are simply inherited from the parent or the property's initial value; those two cases are now
  answered directly, everything else (cascaded values, logical properties, `var()`, math functions, values
  that need computing) goes to WeasyPrint's own method.
- `draw_first_line` (every line of text) read each glyph's id, width and offsets as four cffi attribute
  lookups; it now unpacks the whole glyph array of a run in one `struct` call. Lines that need anything
  rarer (ellipsis, colour or bitmap emoji fonts) go to WeasyPrint's own function.
- Drawing a text run (`Layout.reactivate`) built a new Pango layout and shaped its text again, though line
  breaking had just shaped the same text with the same attributes (`first_line_metrics`); that layout is
  now kept until drawing and handed back, except where drawing would set it up differently (justified
  text, word or letter spacing, paragraph breaks). The layouts then live from line breaking to drawing (a
  little more peak memory).
- `Box.is_in_normal_flow` called five predicates, each looking the style up again; they are one function now
  (flex items, which get an `is_floated` of their own, go to WeasyPrint's method).

These replace WeasyPrint 70 internals (`weasyprint.text.line_break.Layout.reactivate`, `first_line_metrics`,
`weasyprint.css.ComputedStyle.__missing__`, `Box.is_in_normal_flow` and `weasyprint.draw.text.draw_first_line`),
so `weasy_patches` puts them in place only on the WeasyPrint version they were proven on. They must not change a
single byte of output: tests/drivers/worker/test_engine_fastpaths.py renders reports with and without them and
compares the PDFs byte for byte. `install()` is idempotent; `uninstall()` restores the originals. What each
one saves, and the fast paths that were dropped for saving too little, are in BENCHMARKS.md.
"""

from __future__ import annotations

import re
import struct
from collections.abc import Collection
from typing import Any

from weasyprint import css
from weasyprint.css.computed_values import PHYSICAL_FUNCTIONS
from weasyprint.css.functions import check_math
from weasyprint.css.properties import INHERITED, INITIAL_NOT_COMPUTED, INITIAL_VALUES
from weasyprint.draw import text as draw_text
from weasyprint.formatting_structure import boxes
from weasyprint.logger import LOGGER
from weasyprint.text import line_break
from weasyprint.text.ffi import FROM_UNITS, ffi, pango

_originals: dict[str, Any] = {}


# Properties whose computed value depends on others or on the cascade in ways `_computed_missing` leaves to
# WeasyPrint: position/float/display (CSS 2.1 §9.7), page (taken from an ancestor), text decorations
# (propagated, not inherited).
_CASCADE_SPECIAL = frozenset({"position", "float", "display", "page"})
# For each physical property (margin_left…), the logical ones (margin_inline_start…) that could override it.
_LOGICAL_NAMES = {
    key: frozenset({function(block="ttb", inline="ltr"), function(block="ttb", inline="rtl")})
    for key, function in PHYSICAL_FUNCTIONS.items()
}


def _computed_missing(self: Any, key: str) -> Any:
    """`ComputedStyle.__missing__` answering inherited and initial values of properties not in the cascade."""
    parent_style = self.parent_style
    cascaded = self.cascaded
    if parent_style is None or key in cascaded or key in _CASCADE_SPECIAL or key[:16] == "text_decoration_":
        return _originals["computed_missing"](self, key)
    logical = _LOGICAL_NAMES.get(key)
    if logical is not None and not logical.isdisjoint(cascaded):
        return _originals["computed_missing"](self, key)
    if key in INHERITED or key[:2] == "__":
        value = parent_style[key]  # the parent's value is computed already
    elif key in INITIAL_NOT_COMPUTED:
        return _originals["computed_missing"](self, key)
    else:
        value = INITIAL_VALUES[key]
    if check_math(value):
        return _originals["computed_missing"](self, key)
    self[key] = value
    return value


_OUT_OF_FLOW_FLOATS = frozenset({"left", "right", "inline-start", "inline-end", "footnote"})


def _is_in_normal_flow(self: Any) -> bool:
    """`Box.is_in_normal_flow` with its five predicates' style lookups inlined (same answer)."""
    if "is_floated" in self.__dict__:  # flex items get their own `is_floated` (WeasyPrint's build.flex_children)
        return bool(_originals["is_in_normal_flow"](self))
    style = self.style
    if style["float"] in _OUT_OF_FLOW_FLOATS:
        return False
    position = style["position"]
    return position not in ("absolute", "fixed") and position[0] not in ("running()", "note()")


# Characters that end a paragraph for Pango (or a line for Python): a text with one is laid out anew for drawing.
_LINE_ENDS = re.compile("[\n\r\x0b\x0c\x1c-\x1e\x85\u2028\u2029]")


def _keep_for_drawing(layout: Any) -> None:
    """Deactivate a text run's layout, keeping the shaped Pango layout when drawing would rebuild the same one.

    Drawing a text box rebuilds its Pango layout from its style and text (`Layout.reactivate`) and shapes
    the text again. After `first_line_metrics` the layout already holds exactly that text with exactly the
    attributes drawing would give it, unless justification or CSS word/letter spacing adds spacing that
    drawing sets differently, or the text has a paragraph break (drawing turns on Pango's single-paragraph
    mode). In every other case the shaped layout is kept and `_reactivate` hands it back.
    """
    style = layout.style
    if (
        layout.justification_spacing == 0
        and style["word_spacing"] == 0
        and style["letter_spacing"] == "normal"
        and not _LINE_ENDS.search(layout.text)
    ):
        layout.kept_for_drawing = (layout.layout, layout.language, style)
    del layout.layout, layout.language, layout.style


def _first_line_metrics(
    first_line: Any, text: str, layout: Any, resume_at: int | None, space_collapse: bool, style: Any,
    hyphenated: bool = False, hyphenation_character: str | None = None,
) -> tuple[Any, int, int | None, float, float, float]:  # fmt: skip
    """WeasyPrint 70's `first_line_metrics`, keeping the final layout for drawing (see `_keep_for_drawing`)."""
    length = first_line.length
    if hyphenated:
        assert hyphenation_character is not None
        length -= len(hyphenation_character.encode())
    elif resume_at:
        # Set an infinite width as we don't want to break lines when drawing (WeasyPrint's comment).
        pango.pango_layout_set_width(layout.layout, -1)
        first_line_text = text.encode()[:length].decode()
        if space_collapse:
            first_line_text = first_line_text.rstrip(" ")
        layout.set_text(first_line_text)
        first_line, _ = layout.get_first_line()
        length = first_line.length if first_line is not None else 0

    width, height = line_break.line_size(first_line, style)
    baseline = pango.pango_layout_get_baseline(layout.layout) * FROM_UNITS
    _keep_for_drawing(layout)
    return layout, length, resume_at, width, height, baseline


def _reactivate(self: Any, style: Any) -> None:
    """`Layout.reactivate`, handing back the layout `_keep_for_drawing` kept when the style is the same."""
    kept = self.__dict__.pop("kept_for_drawing", None)
    if kept is not None and kept[2] is style:
        self.layout, self.language, self.style = kept
        self.reused_for_drawing = True
        return
    self.reused_for_drawing = False
    _originals["reactivate"](self, style)


# PangoGlyphInfo: glyph (guint32), geometry (width, x_offset, y_offset: gint32), attr (a guint bit field).
_GLYPH_INFO = struct.Struct("=Iiii4x")


def _glyph_layout_matches() -> bool:
    """Whether Pango's PangoGlyphInfo has the layout `_GLYPH_INFO` reads (else the fast path stays off)."""
    try:
        return ffi.sizeof("PangoGlyphInfo") == _GLYPH_INFO.size and [
            ffi.offsetof("PangoGlyphInfo", "geometry"),
            ffi.sizeof("PangoGlyphGeometry"),
        ] == [4, 12]
    except (ffi.error, TypeError):
        return False


def _weasyprint_draw_first_line(
    stream: Any, textbox: Any, text_overflow: str, block_ellipsis: Any, matrix: Any
) -> list[Any]:
    """WeasyPrint's own `draw_first_line`, on a layout built as it expects rather than one kept from line breaking.

    Its ellipsis path sets a width and breaks the line again, and a kept layout may still carry line breaking's
    wrap mode (character wrapping for a long word): that would end the line elsewhere.
    """
    layout = textbox.pango_layout
    if getattr(layout, "reused_for_drawing", False):
        _originals["reactivate"](layout, textbox.style)
        layout.reused_for_drawing = False
    drawn: list[Any] = _originals["draw_first_line"](stream, textbox, text_overflow, block_ellipsis, matrix)
    return drawn


def _draw_first_line(stream: Any, textbox: Any, text_overflow: str, block_ellipsis: Any, matrix: Any) -> list[Any]:
    """WeasyPrint 70's `draw_first_line` with each run's glyphs unpacked at once (same operators, same bytes)."""
    if text_overflow == "ellipsis" or block_ellipsis != "none":
        return _weasyprint_draw_first_line(stream, textbox, text_overflow, block_ellipsis, matrix)
    if not textbox.text.strip():
        return []
    if textbox.style["font_size"] < 1e-6:  # default float precision used by pydyf
        return []
    if not getattr(textbox.pango_layout, "reused_for_drawing", False):
        # Switching the mode would throw the kept layout's shaping away; its text has no paragraph break, so
        # the mode changes nothing there (see `_keep_for_drawing`).
        pango.pango_layout_set_single_paragraph_mode(textbox.pango_layout.layout, True)
    first_line, _index = textbox.pango_layout.get_first_line()

    # The fonts of the line's runs, in order (adding a font to the stream twice returns the same one).
    runs = []
    run = first_line.runs[0]
    while run != ffi.NULL:
        runs.append(run.data)
        run = run.next
    fonts = [stream.add_font(glyph_item.item.analysis.font) for glyph_item in runs]
    if any(font.svg or font.png or font.colr for font, _size in fonts):
        # Emoji fonts: WeasyPrint's own path draws their images.
        return _weasyprint_draw_first_line(stream, textbox, text_overflow, block_ellipsis, matrix)

    stream.set_text_matrix(*matrix.values)
    previous_pango_font = None
    string = ""
    empty = pango.PANGO_GLYPH_EMPTY
    unknown = pango.PANGO_GLYPH_UNKNOWN_FLAG
    for glyph_item, font_and_size in zip(runs, fonts, strict=True):
        glyph_string = glyph_item.glyphs
        num_glyphs = glyph_string.num_glyphs
        clusters = None
        utf8_text = None

        pango_font = glyph_item.item.analysis.font
        if pango_font != previous_pango_font:
            previous_pango_font = pango_font
            font, font_size = font_and_size
            # Workaround for https://gitlab.gnome.org/GNOME/pango/-/issues/530.
            if pango.pango_version() < 14802 or font.png:
                font_size = textbox.style["font_size"]
            if string:
                stream.show_text(string)
            string = ""
            stream.set_font_size(font.hash, 1 if font.bitmap else font_size)
        bitmap = font.bitmap
        widths = font.widths
        to_unicode = font.to_unicode
        string += "<"
        glyphs = _GLYPH_INFO.iter_unpack(ffi.buffer(glyph_string.glyphs, num_glyphs * _GLYPH_INFO.size))
        for i, (glyph_id, width, x_offset, y_offset) in enumerate(glyphs):
            # Display zero-width empty glyph.
            if glyph_id == empty:
                string += f">{-width / font_size}<"
                continue

            # Display .notdef and log warning for missing glyphs.
            if glyph_id & unknown:
                codepoint = glyph_id - unknown
                LOGGER.warning(
                    '.notdef glyph rendered for Unicode string unsupported by fonts: "%s" (U+%04X)',
                    chr(codepoint), codepoint,
                )  # fmt: skip
                glyph_id = font.get_unused_glyph_id(codepoint)
                widths[glyph_id] = round(width * 1000 * FROM_UNITS / font_size)
                if 0 not in widths:
                    widths[0] = widths[glyph_id]

            # Create mapping between glyphs and Unicode codepoints.
            if glyph_id not in to_unicode:
                if clusters is None:
                    clusters = ffi.unpack(glyph_string.log_clusters, num_glyphs)
                offset = glyph_item.item.offset
                t1 = clusters[i]
                if glyph_item.item.analysis.level % 2:  # rtl
                    t2 = glyph_item.item.length if i == 0 else clusters[i - 1]
                else:
                    t2 = glyph_item.item.length if i == num_glyphs - 1 else clusters[i + 1]
                utf8_text = utf8_text or textbox.pango_layout.text.encode()
                to_unicode[glyph_id] = utf8_text[offset + t1 : offset + t2].decode()

            # Set horizontal and vertical offsets.
            offset = x_offset / font_size
            rise = y_offset / 1000
            if rise:
                if string[-1] == "<":
                    string = string[:-1]
                else:
                    string += ">"
                if string:
                    stream.show_text(string)
                stream.set_text_rise(-rise)
                string = ""
                if offset:
                    string = f"{-offset}"
                string += f"<{glyph_id:02x}>" if bitmap else f"<{glyph_id:04x}>"
                stream.show_text(string)
                stream.set_text_rise(0)
                string = "<"
            else:
                if offset:
                    string += f">{-offset}<"
                string += f"{glyph_id:02x}" if bitmap else f"{glyph_id:04x}"

            # Get glyph logical widths.
            logical_width = widths.get(glyph_id)
            if logical_width is None:
                pango.pango_font_get_glyph_extents(pango_font, glyph_id, stream.ink_rect, stream.logical_rect)
                logical_width = widths[glyph_id] = round(stream.logical_rect.width * 1000 * FROM_UNITS / font_size)

            # Set kerning, word spacing, letter spacing.
            kerning = logical_width + offset - width * 1000 * FROM_UNITS / font_size
            if kerning:
                string += f">{int(kerning)}<"

        # Close the last glyphs list, remove if empty.
        if string[-1] == "<":
            string = string[:-1]
        else:
            string += ">"

    # Draw text.
    stream.show_text(string)
    return []


# The patch names (see weasy_patches) in the order they are put in place.
NAMES = ("computed_values", "normal_flow", "glyphs", "kept_layouts")
_installed: set[str] = set()


def install(names: Collection[str] = NAMES) -> set[str]:
    """Put the named fast paths in place (idempotent); return the names now installed.

    `kept_layouts` needs `glyphs`, and `glyphs` needs Pango's glyph struct as `_GLYPH_INFO` reads it.
    """
    wanted = set(names)
    if "glyphs" in wanted and "glyphs" not in _installed and _glyph_layout_matches():
        _originals["draw_first_line"] = draw_text.draw_first_line
        draw_text.draw_first_line = _draw_first_line
        _installed.add("glyphs")
    if "kept_layouts" in wanted and "kept_layouts" not in _installed and "glyphs" in _installed:
        # Layouts kept for drawing need `_draw_first_line` (single-paragraph mode, WeasyPrint's own path).
        _originals["first_line_metrics"] = line_break.first_line_metrics
        _originals["reactivate"] = line_break.Layout.reactivate
        line_break.first_line_metrics = _first_line_metrics
        line_break.Layout.reactivate = _reactivate
        _installed.add("kept_layouts")
    if "computed_values" in wanted and "computed_values" not in _installed:
        _originals["computed_missing"] = css.ComputedStyle.__missing__
        css.ComputedStyle.__missing__ = _computed_missing
        _installed.add("computed_values")
    if "normal_flow" in wanted and "normal_flow" not in _installed:
        _originals["is_in_normal_flow"] = boxes.Box.is_in_normal_flow
        boxes.Box.is_in_normal_flow = _is_in_normal_flow
        _installed.add("normal_flow")
    return set(_installed)


def installed() -> set[str]:
    """The names of the fast paths in place now."""
    return set(_installed)


def uninstall() -> None:
    """Restore WeasyPrint's own functions (tests compare the output of both)."""
    if "kept_layouts" in _installed:
        line_break.first_line_metrics = _originals["first_line_metrics"]
        line_break.Layout.reactivate = _originals["reactivate"]
    if "glyphs" in _installed:
        draw_text.draw_first_line = _originals["draw_first_line"]
    if "computed_values" in _installed:
        css.ComputedStyle.__missing__ = _originals["computed_missing"]
    if "normal_flow" in _installed:
        boxes.Box.is_in_normal_flow = _originals["is_in_normal_flow"]
    _installed.clear()
    _originals.clear()
