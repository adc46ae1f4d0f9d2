"""Settings of the assignment driver (presets may set and lock them like any driver's)."""

from __future__ import annotations

from pydantic import Field

from archived.interfaces.activity import DriverSettings
from archived_render.render_task import PaperFormat, PdfVariant


class AssignSettings(DriverSettings):
    """What an assignment archive holds and how its reports look."""

    paper_format: PaperFormat = Field(PaperFormat.A4, description="Paper format of the PDF reports.")
    pdf_variant: PdfVariant = Field(PdfVariant.PDFA_2U, description="PDF/A flavour: pdf/a-2u or pdf/a-3u.")
    fetch_concurrency: int = Field(4, ge=1, le=32, description="Participants fetched from Moodle at the same time.")
    keep_raw_text: bool = Field(
        True, description="Keep each online text exactly as stored in Moodle, as a file next to the report."
    )
