"""Settings of the quiz driver: report sections, paper, images, file names, which attempts."""

from __future__ import annotations

from enum import StrEnum

from pydantic import Field, field_validator, model_validator

from archived.archive.names import PatternError, validate_pattern
from archived.interfaces.activity import DriverSettings
from archived_render.render_task import PaperFormat, PdfVariant

ATTEMPT_VARIABLES = frozenset(
    {
        "courseid", "coursename", "courseshortname", "cmid", "groupids", "groupidnumbers", "groupnames",
        "quizid", "quizname", "attemptid", "username", "firstname", "lastname", "idnumber",
        "timestart", "timefinish", "date", "time", "timestamp",
    }
)  # fmt: skip


class AttemptState(StrEnum):
    """Moodle quiz attempt states (5.0 adds notstarted and submitted)."""

    FINISHED = "finished"
    ABANDONED = "abandoned"
    INPROGRESS = "inprogress"
    OVERDUE = "overdue"
    SUBMITTED = "submitted"


class QuizSettings(DriverSettings):
    """What goes into a quiz archive and how the per-attempt reports look."""

    section_header: bool = Field(
        True, description="Report header: student, course, quiz, attempt times, marks and grade."
    )
    section_quiz_feedback: bool = Field(
        True, description="Overall quiz feedback for the grade reached (shown only with the header)."
    )
    section_question: bool = Field(True, description="Every question with its text and the student's response.")
    section_question_feedback: bool = Field(
        True, description="Specific feedback and the grader's comments per question (needs the questions)."
    )
    section_general_feedback: bool = Field(True, description="General feedback of each question (needs the questions).")
    section_rightanswer: bool = Field(True, description="The right answer of each question (needs the questions).")
    section_history: bool = Field(True, description="Response history table of each question (needs the questions).")
    section_attachments: bool = Field(
        True,
        description="Files students uploaded (essay attachments): listed in the report and stored next to it "
        "under attachments/<slot>/ (needs the questions).",
    )
    paper_format: PaperFormat = Field(PaperFormat.A4, description="Paper format of the PDF reports.")
    image_max_width: int = Field(
        1280, ge=16, le=10000, description="Images wider than this (pixels) are scaled down in the reports."
    )
    image_max_height: int = Field(
        1280, ge=16, le=10000, description="Images taller than this (pixels) are scaled down in the reports."
    )
    image_jpeg_quality: int = Field(
        85, ge=10, le=100, description="JPEG quality (10–100) for JPEG images that had to be scaled down."
    )
    keep_html: bool = Field(
        False, description="Also store each report's HTML source (with its images embedded) next to the PDF."
    )
    folder_pattern: str = Field(
        "${username}/${attemptid}-${date}_${time}",
        description="Folder of each attempt under attempts/; '/' separates folders. Attempts may share a "
        "folder (e.g. ${username}); their attachments then go under attachments/<attemptid>/<slot>/. Variables: "
        + ", ".join(sorted(ATTEMPT_VARIABLES)),
    )
    file_pattern: str = Field(
        "attempt-${attemptid}-${username}_${date}-${time}",
        description="File name of each report (without .pdf); no '/'. Same variables as the folder pattern. "
        "A name that two attempts in one folder would share gets _<attemptid> appended.",
    )
    attempt_states: list[AttemptState] = Field(
        default_factory=lambda: [AttemptState.FINISHED],
        description="Attempt states to archive (finished, abandoned, inprogress, overdue, submitted).",
    )
    attempt_id_sweep: bool = Field(
        False,
        description="Court-proof completeness: also probe every attempt id from the quiz's first to its last known "
        "attempt (widened by attempt_id_sweep_margin) with mod_quiz_get_attempt_review, finding attempts of users "
        "never seen in the course (one request per id).",
    )
    attempt_id_sweep_margin: int = Field(
        50, ge=0, le=100_000, description="Attempt ids probed beyond the quiz's first and last known attempt."
    )
    attempt_id_sweep_max: int = Field(
        5000,
        ge=1,
        le=1_000_000,
        description="At most this many attempt ids probed per job; the archive names the ids left unchecked.",
    )
    pdf_variant: PdfVariant = Field(
        PdfVariant.PDFA_2U, description="PDF/A flavour of the reports: pdf/a-2u or pdf/a-3u."
    )
    fetch_concurrency: int = Field(4, ge=1, le=32, description="Attempt reviews fetched from Moodle at the same time.")

    @field_validator("folder_pattern")
    @classmethod
    def _check_folder(cls, value: str) -> str:
        try:
            validate_pattern(value, set(ATTEMPT_VARIABLES), allow_folders=True)
        except PatternError as exc:
            raise ValueError(str(exc)) from exc
        return value

    @field_validator("file_pattern")
    @classmethod
    def _check_file(cls, value: str) -> str:
        try:
            validate_pattern(value, set(ATTEMPT_VARIABLES), allow_folders=False)
        except PatternError as exc:
            raise ValueError(str(exc)) from exc
        return value

    @field_validator("attempt_states")
    @classmethod
    def _check_states(cls, value: list[AttemptState]) -> list[AttemptState]:
        if not value:
            raise ValueError("attempt_states must name at least one state, e.g. ['finished']")
        return list(dict.fromkeys(value))

    @model_validator(mode="after")
    def _dependencies(self) -> QuizSettings:
        # A dependent section cannot show without its parent: turn it off so the resolved settings
        # (job.json) say exactly what the reports hold.
        if self.section_quiz_feedback and not self.section_header:
            object.__setattr__(self, "section_quiz_feedback", False)
        if not self.section_question:
            for name in ("question_feedback", "general_feedback", "rightanswer", "history", "attachments"):
                object.__setattr__(self, f"section_{name}", False)
        return self
