"""Check a PDF after it was written: it opens, claims PDF/A in its XMP, has an output intent, has text.

The reference system ran a PDF/A conversion whose result nobody looked at (Debian's Ghostscript silently wrote
plain PDFs). Every report we write goes through `check_pdf` before it counts as done.

"Text is extractable" is proved the way a text extractor would do it, but only as far as needed: the text
operators of the first page that has any are decoded through their fonts' ToUnicode maps into Unicode
characters. (pypdf's full `extract_text` interprets every operator of the page in Python and cost 0.15–0.4 s
per report, more than the rest of the check by far; it remains the fallback for text this decoder does not
understand, e.g. literal strings or simple fonts.)
"""

from __future__ import annotations

import io
import re
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from archived.errors import FatalError

_PART = re.compile(rb"pdfaid:part(?:=[\"'](\d)[\"']|>\s*(\d)\s*<)")
_CONFORMANCE = re.compile(rb"pdfaid:conformance(?:=[\"']([ABUabu])[\"']|>\s*([ABUabu])\s*<)")


class PdfCheckError(FatalError):
    """A written PDF failed its check; the message names the task (attempt) and what is wrong."""

    code = "pdf_check_failed"

    def __init__(self, task_id: str, cause: str) -> None:
        super().__init__(f"PDF check failed for {task_id}: {cause}")
        self.task_id = task_id
        self.cause = cause


@dataclass(frozen=True)
class PdfCheck:
    """What the check found in a PDF that passed."""

    pages: int
    pdfa_part: int
    pdfa_conformance: str
    has_output_intent: bool
    text_chars: int

    @property
    def variant(self) -> str:
        """The PDF/A variant as WeasyPrint names it, e.g. 'pdf/a-2u'."""
        return f"pdf/a-{self.pdfa_part}{self.pdfa_conformance.lower()}"


def check_pdf(source: bytes | Path, *, task_id: str = "PDF", expect_variant: str | None = None) -> PdfCheck:
    """Open the PDF and verify PDF/A identification, output intent, extractable text and page count."""
    from pypdf import PdfReader  # imported late: only worker processes and checks need it

    try:
        reader = PdfReader(io.BytesIO(source) if isinstance(source, bytes) else source, strict=False)
        pages = len(reader.pages)
        root: Any = reader.trailer["/Root"].get_object()
    except Exception as exc:
        raise PdfCheckError(task_id, f"the file does not open as a PDF ({exc})") from exc
    if pages < 1:
        raise PdfCheckError(task_id, "the PDF has no pages")

    metadata = root.get("/Metadata")
    if metadata is None:
        raise PdfCheckError(task_id, "no XMP metadata stream, so no PDF/A identification")
    xmp = metadata.get_object().get_data()
    part_match = _PART.search(xmp)
    conformance_match = _CONFORMANCE.search(xmp)
    if not part_match or not conformance_match:
        raise PdfCheckError(task_id, "the XMP metadata has no pdfaid:part/pdfaid:conformance (not PDF/A)")
    part = int(part_match.group(1) or part_match.group(2))
    conformance = (conformance_match.group(1) or conformance_match.group(2)).decode().upper()

    intents = root.get("/OutputIntents")
    intents = intents.get_object() if intents is not None else []
    has_intent = any(
        str(intent.get_object().get("/S")) == "/GTS_PDFA1" and intent.get_object().get("/DestOutputProfile")
        for intent in intents
    )
    if not has_intent:
        raise PdfCheckError(task_id, "no PDF/A output intent (/GTS_PDFA1 with an ICC profile)")

    found = PdfCheck(pages, part, conformance, has_intent, _text_chars(reader))
    if found.text_chars == 0:
        raise PdfCheckError(task_id, "no extractable text on any page")
    if expect_variant and found.variant != expect_variant.lower():
        raise PdfCheckError(task_id, f"it claims {found.variant}, expected {expect_variant}")
    return found


def _text_chars(reader: Any) -> int:
    # The first page with text is proof enough.
    for page in reader.pages:
        try:
            count = _decoded_chars(page)
        except Exception:
            count = 0
        if not count:
            try:
                count = len(page.extract_text().strip())
            except Exception:
                count = 0
        if count:
            return count
    return 0


# Text showing in a content stream: a font selection (`/F1 12 Tf`) or a hex string shown by TJ/Tj.
_TEXT_OPS = re.compile(rb"/([^\s/\[\]()<>{}%]+)\s+[-+.\d]+\s+Tf|\[([^\]]*)\]\s*TJ|<([0-9A-Fa-f\s]*)>\s*Tj")
_HEX = re.compile(rb"<([0-9A-Fa-f\s]*)>")
# What does not count as a text character: white space, control and format characters.
_NOT_COUNTED = re.compile(r"[\s\x00-\x1f\x7f-\x9f\u00ad\u200b-\u200f\u2028-\u202e\u2060-\u2064\ufeff]")
_BFCHAR = re.compile(rb"beginbfchar(.*?)endbfchar", re.DOTALL)
_BFRANGE = re.compile(rb"beginbfrange(.*?)endbfrange", re.DOTALL)
_RANGE_ENTRY = re.compile(rb"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>\s*(<[0-9A-Fa-f]+>|\[[^\]]*\])")


def _decoded_chars(page: Any) -> int:
    """Printable characters of the page's hex-string text, decoded through each font's ToUnicode map."""
    resources = page.get("/Resources")
    fonts = resources.get_object().get("/Font") if resources is not None else None
    contents = page.get_contents()
    if fonts is None or contents is None:
        return 0
    fonts = fonts.get_object()
    maps: dict[bytes, dict[int, str] | None] = {}
    current: dict[int, str] | None = None
    decoded: list[str] = []
    for match in _TEXT_OPS.finditer(contents.get_data()):
        name, array, single = match.groups()
        if name is not None:
            if name not in maps:
                maps[name] = _font_map(fonts.get("/" + name.decode("latin-1")))
            current = maps[name]
            continue
        if current is None:
            continue
        for string in [single] if single is not None else _HEX.findall(array):
            codes = bytes.fromhex(b"".join(string.split()).decode("ascii"))
            pairs = struct.unpack(f">{len(codes) // 2}H", codes[: len(codes) // 2 * 2])
            decoded.extend(filter(None, map(current.get, pairs)))
    return len(_NOT_COUNTED.sub("", "".join(decoded)))


def _font_map(font: Any) -> dict[int, str] | None:
    """A two-byte (Identity-H) font's ToUnicode map as {code: text}, or None when there is none."""
    if font is None:
        return None
    font = font.get_object()
    if font.get("/Subtype") != "/Type0" or "/ToUnicode" not in font:
        return None
    cmap = font["/ToUnicode"].get_object().get_data()
    mapping: dict[int, str] = {}
    for block in _BFCHAR.findall(cmap):
        codes = _HEX.findall(block)
        for source, target in zip(codes[::2], codes[1::2], strict=False):
            mapping[int(source, 16)] = _utf16(target)
    for block in _BFRANGE.findall(cmap):
        for low, high, target in _RANGE_ENTRY.findall(block):
            first, last = int(low, 16), int(high, 16)
            if last - first > 0xFFFF:
                continue
            if target.startswith(b"["):
                for offset, each in enumerate(_HEX.findall(target)):
                    mapping[first + offset] = _utf16(each)
            else:
                base = _utf16(target)
                for offset in range(last - first + 1):
                    mapping[first + offset] = base[:-1] + chr(ord(base[-1]) + offset) if base else ""
    return mapping


def _utf16(hex_digits: bytes) -> str:
    return bytes.fromhex(b"".join(hex_digits.split()).decode("ascii")).decode("utf-16-be", errors="replace")
