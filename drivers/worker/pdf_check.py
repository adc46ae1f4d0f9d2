"""Check a PDF after it was written: it opens, claims PDF/A in its XMP, has an output intent, has text.

The reference system ran a PDF/A conversion whose result nobody looked at (Debian's Ghostscript silently wrote
plain PDFs). Every report we write goes through `check_pdf` before it counts as done.
"""

from __future__ import annotations

import io
import re
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


def _text_chars(reader: object) -> int:
    # Text extraction is slow in pure Python; the first page with text is proof enough.
    for page in reader.pages:  # type: ignore[attr-defined]
        try:
            count = len(page.extract_text().strip())
        except Exception:
            count = 0
        if count:
            return count
    return 0
