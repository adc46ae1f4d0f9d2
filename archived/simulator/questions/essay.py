"""qtype_essay: a free-text answer (HTML editor) with optional attachments, graded by a teacher."""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, field
from typing import Any

from archived.simulator.questions.base import BLANK, Feedback, QuestionDef, RenderContext, plain_text, text_fragments
from archived.simulator.questions.filters import formulas
from archived.simulator.questions.markup import esc


@dataclass
class EssayQuestion(QuestionDef):
    """The response is the HTML the student typed; `response_pool` feeds seeded answers."""

    responsefieldlines: int = 15
    attachments: int = 1
    maxbytes: int = 1048576
    response_pool: list[str] = field(default_factory=list)

    qtype = "essay"
    manual = True

    def make_variant(self, rng: random.Random) -> dict[str, Any]:
        """No random state."""
        return {}

    def make_response(self, variant: dict[str, Any], outcome: str, rng: random.Random) -> Any:
        """Two to four paragraphs drawn from the pool (order and choice are seeded)."""
        if outcome == BLANK or not self.response_pool:
            return None
        count = min(len(self.response_pool), rng.randrange(2, 5))
        return "".join(f"<p>{paragraph}</p>" for paragraph in rng.sample(self.response_pool, count))

    def grade(self, variant: dict[str, Any], response: Any) -> float | None:
        """Essays wait for a teacher."""
        return None

    def formulation(self, variant: dict[str, Any], response: Any, fraction: float | None, ctx: RenderContext) -> str:
        """Question text, the read-only editor area and the attachment list."""
        markup = ctx.markup
        qtext = markup.wrap_text(ctx.fmt(self.text))
        label = f"{ctx.prefix}answer_label"
        height = self.responsefieldlines * 1.5
        body = ctx.fmt(response) if response else ""
        files = ""
        for stored in ctx.attachments:
            url = (
                f"{ctx.wwwroot}/pluginfile.php/{stored.contextid}/question/response_attachments/"
                f"{ctx.qubaid}/{ctx.slot}/{stored.itemid}/{_quote(stored.filename)}?forcedownload=1"
            )
            icon = f"{ctx.wwwroot}/theme/image.php/boost/core/{ctx.theme_revision}/f/pdf"
            files += (
                f'<li class="mb-2"><a href="{url}"><img class="icon icon" alt="PDF document" title="PDF document" '
                f'src="{icon}" /> {esc(stored.filename)}</a></li>'
            )
        attachments = ""
        if self.attachments:
            attachments = (
                f'<div class="attachments"><h4 id="{ctx.prefix}attachments_label" class="{markup.sr_only}">'
                f"Answer files Question {ctx.number}</h4>"
                f'<ul aria-labelledby="{ctx.prefix}attachments_label" class="list-unstyled m-0">{files}</ul></div>'
            )
        return (
            f'<div class="qtext">{qtext}</div><div class="ablock"><div class="answer">'
            f'<h4 id="{label}" class="{markup.sr_only}">Answer text Question {ctx.number}</h4>'
            f'<div role="textbox" aria-readonly="true" aria-labelledby="{label}" '
            f'class="qtype_essay_editor qtype_essay_response readonly" style="min-height: {height:g}em;">{body}</div>'
            f"</div>{attachments}</div>"
        )

    def feedback(self, variant: dict[str, Any], response: Any, fraction: float | None, ctx: RenderContext) -> Feedback:
        """Only the general feedback."""
        return Feedback(general=ctx.fmt(self.generalfeedback) if self.generalfeedback else "")

    def summarise(self, variant: dict[str, Any], response: Any) -> str:
        """The response as plain text."""
        return plain_text(response or "")

    def settings(self) -> str | None:
        """Editor settings as `get_question_definition_for_external_rendering` reports them."""
        return json.dumps(
            {
                "responseformat": "editor",
                "responserequired": "1",
                "responsefieldlines": str(self.responsefieldlines),
                "attachments": str(self.attachments),
                "attachmentsrequired": "0",
                "maxbytes": str(self.maxbytes),
                "filetypeslist": [],
                "responsetemplate": "",
                "responsetemplateformat": "1",
                "minwordlimit": None,
                "maxwordlimit": None,
            },
            separators=(",", ":"),
        )

    def visible_response_texts(self, variant: dict[str, Any], response: Any) -> list[str]:
        """The response's text fragments."""
        return text_fragments(response or "")

    def tex(self, variant: dict[str, Any], response: Any) -> list[str]:
        """Formulas of text, feedback and response."""
        return super().tex(variant, response) + formulas(response or "")


def _quote(name: str) -> str:
    from urllib.parse import quote

    return quote(name)
