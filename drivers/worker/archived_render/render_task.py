"""What a render worker is asked to do and what it answers: plain, picklable data.

A task carries everything the PDF needs (HTML, every resource as bytes, options): a worker never touches the
network or the file system except for writing the output path it was given.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

from archived_render.images import ImageLimits
from archived_render.pdf_check import PdfCheck

# A CSS `size` value: a keyword (A4, letter) or two lengths; nothing that could smuggle in other CSS.
_PAGE_SIZE = re.compile(
    r"^(?:[A-Za-z][A-Za-z0-9-]{0,15}(?:\s+(?:portrait|landscape))?"
    r"|\d+(?:\.\d+)?(?:mm|cm|in|pt)\s+\d+(?:\.\d+)?(?:mm|cm|in|pt))$"
)


class PdfVariant(StrEnum):
    """The PDF/A flavours archived writes (Unicode conformance: text stays searchable)."""

    PDFA_2U = "pdf/a-2u"
    PDFA_3U = "pdf/a-3u"


class PaperFormat(StrEnum):
    """Paper formats for the PDF reports."""

    A0 = "A0"
    A1 = "A1"
    A2 = "A2"
    A3 = "A3"
    A4 = "A4"
    A5 = "A5"
    A6 = "A6"
    LETTER = "Letter"
    LEGAL = "Legal"
    TABLOID = "Tabloid"
    LEDGER = "Ledger"

    @property
    def css_size(self) -> str:
        """The CSS `size` of the page (portrait; Ledger is Tabloid turned)."""
        return _SIZES[self]


_SIZES = {
    PaperFormat.A0: "841mm 1189mm",
    PaperFormat.A1: "594mm 841mm",
    PaperFormat.A2: "420mm 594mm",
    PaperFormat.A3: "297mm 420mm",
    PaperFormat.A4: "210mm 297mm",
    PaperFormat.A5: "148mm 210mm",
    PaperFormat.A6: "105mm 148mm",
    PaperFormat.LETTER: "8.5in 11in",
    PaperFormat.LEGAL: "8.5in 14in",
    PaperFormat.TABLOID: "11in 17in",
    PaperFormat.LEDGER: "17in 11in",
}


@dataclass(frozen=True)
class Resource:
    """One file the HTML refers to (image, font, stylesheet), handed to the worker from memory."""

    data: bytes
    mime: str


@dataclass(frozen=True)
class RenderOptions:
    """How to turn the HTML into PDF/A."""

    pdf_variant: PdfVariant = PdfVariant.PDFA_2U
    page_size: str | None = None  # CSS `size`, e.g. "210mm 297mm" or "A4"; None = the HTML's own @page
    identifier: str = ""  # deterministic PDF /ID (REQ-TR-02); empty = derived from the content
    title: str = ""
    author: str = ""
    subject: str = ""
    language: str = ""
    created: str | None = None  # W3C date, e.g. "2024-05-01T10:00:00Z"; fixed so equal input gives equal bytes
    image_limits: ImageLimits = field(default_factory=ImageLimits)
    check: bool = True  # run pdf_check on the result in the worker

    def __post_init__(self) -> None:
        if self.page_size is not None and not _PAGE_SIZE.match(self.page_size.strip()):
            raise ValueError(f"invalid page size {self.page_size!r}; use a keyword like A4 or '210mm 297mm'")


@dataclass(frozen=True)
class RenderTask:
    """One document to render; `task_id` names it in errors and logs (e.g. 'attempt 812')."""

    task_id: str
    html: str
    resources: dict[str, Resource] = field(default_factory=dict)
    options: RenderOptions = field(default_factory=RenderOptions)
    output_path: Path | None = None  # write here (atomically) instead of returning the bytes
    debug_sleep: float = 0.0  # test hook: the worker sleeps this long first (simulates a stuck render)


@dataclass(frozen=True)
class RenderResult:
    """A rendered PDF (bytes, or the path it was written to) and what happened on the way."""

    task_id: str
    pdf: bytes | None
    path: Path | None
    size: int
    sha256: str
    pages: int
    missing_resources: tuple[str, ...] = ()  # URLs the document asked for that were not in `resources`
    broken_resources: tuple[str, ...] = ()  # resources that were given but could not be decoded
    check: PdfCheck | None = None
    seconds: float = 0.0  # wall time in the worker
    cpu_seconds: float = 0.0  # CPU time of the worker process for this task (what the render cost)
    tries: int = 1
