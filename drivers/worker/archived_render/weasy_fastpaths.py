"""Faster equivalents of WeasyPrint functions that run once per box or per piece of text.

A quiz report is a thousand-odd boxes and several hundred text runs, and WeasyPrint's layout spends much of
its time in small Python helpers called for each of them. Several of them redo work whose result depends only
on a handful of style values, or was just done; here they do it once:

- `Layout.setup` (one per text run, and again when it is drawn) created a new Pango context each time, for
  the same font map, text direction and language; the context is kept per (font configuration, direction,
  language) and shared by the layouts made from it. Nothing changes a context after this setup (WeasyPrint
  sets the font description, attributes and width on the layout, not on the context).
- `get_font_description` built a Pango font description from seven style values for every text run; the
  description is kept per those values (Pango copies it into each layout).
- `resolve_percentages` (every box, at every layout pass) made two calls per property for sixteen
  properties; it now resolves plain lengths and percentages inline and hands anything else (CSS math
  functions) to WeasyPrint's own `percentage`.
- `ComputedStyle.__missing__` (every computed value of every element, ~13,000 per report) walked the
  whole cascade logic for values that are simply inherited from the parent or the property's initial
  value; those two cases are now answered directly, everything else (cascaded values, logical
  properties, `var()`, math functions, values that need computing) goes to WeasyPrint's own method.
- `draw_first_line` (every line of text) read each glyph's id, width and offsets as four cffi attribute
  lookups; it now unpacks the whole glyph array of a run in one `struct` call. Lines that need anything
  rarer (ellipsis, colour or bitmap emoji fonts) go to WeasyPrint's own function.
- Drawing a text run (`Layout.reactivate`) built a new Pango layout and shaped its text again, though line
  breaking had just shaped the same text with the same attributes (`first_line_metrics`); that layout is
  now kept until drawing and handed back, except where drawing would set it up differently (justified
  text, word or letter spacing, paragraph breaks). ~6 % of a report's rendering time; the layouts live from line
  breaking to drawing (+3 MiB peak for a 36-page report).
- `Box.is_in_normal_flow` (~2,000 calls per report) called five predicates, each looking the style up again;
  they are one function now (flex items, which get an `is_floated` of their own, go to WeasyPrint's method).

These replace WeasyPrint 70 internals (`weasyprint.text.line_break.Layout.setup`, `Layout.reactivate`,
`first_line_metrics`, the `get_font_description` binding, the `resolve_percentages` bindings of the layout
modules, `weasyprint.css.ComputedStyle.__missing__`, `Box.is_in_normal_flow` and
`weasyprint.draw.text.draw_first_line`). They must not change a single byte of output:
tests/drivers/worker/test_engine_fastpaths.py renders reports with and without them and compares the PDFs byte
for byte. `install()` is idempotent; `uninstall()` restores the originals (for that test).
"""

from __future__ import annotations

import re
import struct
from collections.abc import Callable, Collection
from typing import Any

from weasyprint import css
from weasyprint.css.computed_values import PHYSICAL_FUNCTIONS
from weasyprint.css.functions import check_math
from weasyprint.css.properties import INHERITED, INITIAL_NOT_COMPUTED, INITIAL_VALUES
from weasyprint.draw import text as draw_text
from weasyprint.formatting_structure import boxes
from weasyprint.layout import absolute, block, column, grid, inline, page, percent, table
from weasyprint.layout import float as float_layout
from weasyprint.logger import LOGGER
from weasyprint.text import line_break
from weasyprint.text.constants import LST_TO_ISO, PANGO_DIRECTION
from weasyprint.text.ffi import FROM_UNITS, ffi, gobject, pango, unicode_to_char_p
from weasyprint.text.fonts import font_features

_MAX_ENTRIES = 1024  # distinct (font, size, weight, …) combinations in one worker's life; a guard, not a tuning
_LAYOUT_MODULES = (absolute, block, column, float_layout, grid, inline, page, table)
_originals: dict[str, Any] = {}


class _Contexts:
    """Pango contexts per (font configuration, direction, language), each with its Pango language."""

    def __init__(self) -> None:
        self._contexts: dict[tuple[int, str, str | None], tuple[Any, Any, Any]] = {}

    def get(self, style: Any) -> tuple[Any, Any]:
        """The shared context for `style` and the language it was given (Pango's default when none)."""
        override = style["font_language_override"]
        if override != "normal":
            lang: str | None = LST_TO_ISO.get(override.lower(), override)
        else:
            lang = style["lang"] or None
        font_config = style.font_config
        key = (id(font_config), style["direction"], lang)
        found = self._contexts.get(key)
        if found is None:
            context = ffi.gc(pango.pango_font_map_create_context(font_config.font_map), gobject.g_object_unref)
            pango.pango_context_set_round_glyph_positions(context, False)
            pango.pango_context_set_base_dir(context, PANGO_DIRECTION[style["direction"]])
            if lang:
                lang_p, _ = unicode_to_char_p(lang)
                language = pango.pango_language_from_string(lang_p)
                pango.pango_context_set_language(context, language)
            else:
                language = pango.pango_language_get_default()
            if len(self._contexts) >= _MAX_ENTRIES:
                self._contexts.clear()
            # The font configuration is kept with its context so that its id() is never reused for another.
            found = self._contexts[key] = (context, language, font_config)
        return found[0], found[1]


class _FontDescriptions:
    """Pango font descriptions per the style values `get_font_description` reads."""

    def __init__(self, build: Callable[[Any], Any]) -> None:
        self._build = build
        self._descriptions: dict[tuple[Any, ...], Any] = {}

    def __call__(self, style: Any) -> Any:
        try:
            key = (
                tuple(style["font_family"]), style["font_style"], style["font_stretch"], style["font_weight"],
                style["font_size"], style["font_variant_caps"], _hashable(style["font_variation_settings"]),
            )  # fmt: skip
            hash(key)
        except TypeError:  # a value we do not know how to key: build it as WeasyPrint does
            return self._build(style)
        description = self._descriptions.get(key)
        if description is None:
            if len(self._descriptions) >= _MAX_ENTRIES:
                self._descriptions.clear()
            description = self._descriptions[key] = self._build(style)
        return description


def _hashable(value: Any) -> Any:
    if isinstance(value, list):
        return tuple(tuple(item) if isinstance(item, list) else item for item in value)
    return value


_contexts = _Contexts()


def _layout_setup(self: Any, style: Any) -> None:
    """WeasyPrint 70's `Layout.setup` with the Pango context and font description shared (see above)."""
    self.style = style
    self.first_line_direction = 0
    pango_context, self.language = _contexts.get(style)

    assert not isinstance(style["font_family"], str), "font_family should be a list"
    font_description = line_break.get_font_description(style)
    self.layout = ffi.gc(pango.pango_layout_new(pango_context), gobject.g_object_unref)
    pango.pango_layout_set_auto_dir(self.layout, False)
    pango.pango_layout_set_font_description(self.layout, font_description)

    if style["text_decoration_line"] != "none":
        metrics = ffi.gc(
            pango.pango_context_get_metrics(pango_context, font_description, self.language),
            pango.pango_font_metrics_unref,
        )
        self.ascent = FROM_UNITS * pango.pango_font_metrics_get_ascent(metrics)
        self.underline_position = FROM_UNITS * pango.pango_font_metrics_get_underline_position(metrics)
        self.strikethrough_position = FROM_UNITS * pango.pango_font_metrics_get_strikethrough_position(metrics)
        self.underline_thickness = FROM_UNITS * pango.pango_font_metrics_get_underline_thickness(metrics)
        self.strikethrough_thickness = FROM_UNITS * pango.pango_font_metrics_get_strikethrough_thickness(metrics)
    else:
        self.ascent = None
        self.underline_position = None
        self.strikethrough_position = None

    features = font_features(
        style["font_kerning"], style["font_variant_ligatures"], style["font_variant_position"],
        style["font_variant_caps"], style["font_variant_numeric"], style["font_variant_alternates"],
        style["font_variant_east_asian"], style["font_feature_settings"],
    )  # fmt: skip
    if features:
        encoded = ",".join(f"{key} {value}" for key, value in features.items()).encode()
        attr = style.font_config.font_features.setdefault(encoded, pango.pango_attr_font_features_new(encoded))
        attr_list = pango.pango_attr_list_new()
        pango.pango_attr_list_insert(attr_list, attr)
        pango.pango_layout_set_attributes(self.layout, attr_list)


# The sixteen used values `resolve_percentages` sets, with which side of the containing block they refer to:
# "w" its width, "mh" its height on a page box and its width otherwise (margins and paddings).
_WIDTH_PROPERTIES = (
    ("margin_left", "w"), ("margin_right", "w"), ("margin_top", "mh"), ("margin_bottom", "mh"),
    ("padding_left", "w"), ("padding_right", "w"), ("padding_top", "mh"), ("padding_bottom", "mh"),
    ("width", "w"), ("min_width", "w"), ("max_width", "w"),
)  # fmt: skip
_BORDER_WIDTHS = ("border_top_width", "border_right_width", "border_bottom_width", "border_left_width")


def _used(box: Any, style: Any, name: str, refer_to: Any) -> None:
    """`resolve_one_percentage` with `percentage` inlined for its common cases."""
    value = style[name]
    if value is None or value == "auto":
        used = value
    else:
        unit = getattr(value, "unit", None)
        if unit is None:  # a math function: WeasyPrint's own code
            used = percent.percentage(value, style, refer_to)
        elif unit == "%":
            used = refer_to * value.value / 100
        else:
            used = value.value
    if used == "auto" and (name == "min_width" or name == "min_height"):
        used = 0
    setattr(box, name, used)


def _resolve_percentages(box: Any, containing_block: Any) -> None:
    """WeasyPrint 70's `resolve_percentages`, same results, fewer calls."""
    if isinstance(containing_block, boxes.Box):
        cb_width = containing_block.width
        cb_height = containing_block.height
    else:
        cb_width, cb_height = containing_block
    maybe_height = cb_height if isinstance(box, boxes.PageBox) else cb_width
    style = box.style
    for name, refers in _WIDTH_PROPERTIES:
        _used(box, style, name, cb_width if refers == "w" else maybe_height)

    if cb_height == "auto":
        height = style["height"]
        if height == "auto" or percent.check_math(height) or height.unit == "%":
            box.height = "auto"
        else:
            assert height.unit.lower() == "px"
            box.height = height.value
        _used(box, style, "min_height", 0)
        _used(box, style, "max_height", float("inf"))
    else:
        _used(box, style, "height", cb_height)
        _used(box, style, "min_height", cb_height)
        _used(box, style, "max_height", cb_height)

    collapse = style["border_collapse"] == "collapse"
    for prop in _BORDER_WIDTHS:
        # border-*-width may have been resolved during border conflict resolution for collapsed borders
        if not (collapse and hasattr(box, prop)):
            setattr(box, prop, style[prop])

    percent.adjust_box_sizing(box, "width")
    percent.adjust_box_sizing(box, "height")


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
    return _originals["draw_first_line"](stream, textbox, text_overflow, block_ellipsis, matrix)


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
NAMES = ("pango_contexts", "font_descriptions", "percentages", "computed_values", "normal_flow", "glyphs",
         "kept_layouts")  # fmt: skip
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
    if "pango_contexts" in wanted and "pango_contexts" not in _installed:
        _originals["setup"] = line_break.Layout.setup
        line_break.Layout.setup = _layout_setup
        _installed.add("pango_contexts")
    if "font_descriptions" in wanted and "font_descriptions" not in _installed:
        _originals["get_font_description"] = line_break.get_font_description
        line_break.get_font_description = _FontDescriptions(_originals["get_font_description"])
        _installed.add("font_descriptions")
    if "percentages" in wanted and "percentages" not in _installed:
        _originals["resolve_percentages"] = percent.resolve_percentages
        for module in (percent, *_LAYOUT_MODULES):
            if getattr(module, "resolve_percentages", None) is _originals["resolve_percentages"]:
                module.resolve_percentages = _resolve_percentages
        _installed.add("percentages")
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
    if "pango_contexts" in _installed:
        line_break.Layout.setup = _originals["setup"]
    if "font_descriptions" in _installed:
        line_break.get_font_description = _originals["get_font_description"]
    if "percentages" in _installed:
        for module in (percent, *_LAYOUT_MODULES):
            if getattr(module, "resolve_percentages", None) is _resolve_percentages:
                module.resolve_percentages = _originals["resolve_percentages"]
    _installed.clear()
    _originals.clear()
