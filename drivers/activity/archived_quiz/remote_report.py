"""A quiz report built on a render host: the report HTML and the PDF, from the review's data, in one task.

Building a report's HTML (cleaning Moodle's markup, the section toggles, the formulas and images put in) costs the
daemon about two thirds of its CPU per attempt; with render hosts that share would cap one daemon at ~30 attempts
per second. So with a cluster the daemon sends the review's data instead of the HTML, in two tasks:

1. `report_needs`: what the report needs that only the daemon can get — its formulas (MathJax runs in the daemon,
   where its cache serves every attempt of an exam) and its images (fetched from Moodle with the daemon's token);
2. `build_and_render`: the same report built again on a host with those, and rendered there to PDF/A bytes.

Both run the very functions the local path runs (`prepare_report`, `finish_report`), on a host whose engine
fingerprint — archived's version included — matches the daemon's, so the report is the one the daemon would build.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from archived_quiz.report import AttemptHeader, QuestionInput, finish_report, prepare_report
from archived_quiz.settings import QuizSettings
from archived_quiz.tex import Formula
from archived_render.cluster_worker import check_fingerprint, render_on_worker
from archived_render.math import MathResult
from archived_render.render_task import RenderResult, RenderTask, Resource


@dataclass(frozen=True)
class ReportInputs:
    """What the report of one attempt is made of (as the daemon has it after fetching the review)."""

    header: AttemptHeader
    questions: list[QuestionInput]
    settings: QuizSettings
    title: str


@dataclass(frozen=True)
class ReportNeeds:
    """What the daemon must supply: the formulas to typeset and the images to fetch."""

    formulas: set[Formula]
    image_urls: list[str]


@dataclass(frozen=True)
class BuiltReport:
    """The rendered report (PDF bytes in `result`), what the build noticed, and the HTML copy when asked for."""

    result: RenderResult
    warnings: list[str]
    standalone_html: str | None = None


def report_needs(inputs: ReportInputs, expected_fingerprint: str) -> ReportNeeds:
    """Prepare the report to learn its formulas and images (runs on a render host)."""
    check_fingerprint(expected_fingerprint)
    prepared = prepare_report(inputs.header, inputs.questions, inputs.settings, title=inputs.title)
    return ReportNeeds(prepared.formulas, prepared.image_urls)


def build_and_render(
    inputs: ReportInputs,
    formulas: dict[Formula, MathResult],
    images: dict[str, Resource | None],
    task: RenderTask,
    keep_html: bool,
    expected_fingerprint: str,
) -> BuiltReport:
    """Build the report with the daemon's formulas and images and render `task` with its HTML (on a render host)."""
    check_fingerprint(expected_fingerprint)
    prepared = prepare_report(inputs.header, inputs.questions, inputs.settings, title=inputs.title)
    document = finish_report(prepared, formulas, images)
    result = render_on_worker(replace(task, html=document.html, resources=document.resources), expected_fingerprint)
    return BuiltReport(result, document.warnings, document.standalone_html() if keep_html else None)
