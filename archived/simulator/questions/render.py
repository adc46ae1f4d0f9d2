"""The outer review HTML of one question (`core_question_renderer::question`).

`.que` with `.info` (number, state, grade), `.content` with `.formulation` (hidden sequencecheck input, the
qtype's own markup), `.outcome` (specific and general feedback, right answer), `.comment` (manual comment and,
for a user who may grade, the "Make comment or override mark" link) and the response history table; the qtype
fills only the formulation and the feedback parts.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

from archived.simulator.questions.attempt import QuestionAttempt
from archived.simulator.questions.base import RenderContext, format_number
from archived.simulator.questions.markup import esc

_COMMENT_OPEN = '<div class="comment clearfix"><h4 class="accesshide">Comments</h4>'
_COMMENT_LINK = re.compile(r'<div class="commentlink">.*?</div>')
_COMMENT_WITHOUT_DIVS = re.compile(re.escape(_COMMENT_OPEN) + r"(?:(?!<div|</div>).)*", re.DOTALL)


def comment_link(ctx: RenderContext) -> str:
    """The "Make comment or override mark" link of one question, as the recorded 4.5 and 5.0 sites print it for a
    user who may grade."""
    href = f"{ctx.wwwroot}/mod/quiz/comment.php?attempt={ctx.attemptid}&slot={ctx.slot}"
    return (
        f'<div class="commentlink"><a href="{href}" id="{ctx.action_link_id("comment")}" class="" >'
        "Make comment or override mark</a></div>"
    )


def grader_view(block: str, ctx: RenderContext, *, info_item: bool) -> str:
    """A recorded block as `ctx`'s user sees it: the comment link only for a user who may grade (as recorded
    where the recording has one), and no comment box that would be empty."""
    if not ctx.grader or info_item:
        return _COMMENT_LINK.sub("", block).replace(_COMMENT_OPEN + "</div>", "")
    if "commentlink" in block:
        return block
    link = comment_link(ctx)
    comment = _COMMENT_WITHOUT_DIVS.search(block)
    if comment is not None:
        return block[: comment.end()] + link + block[comment.end() :]
    at = block.find('<div class="history')
    at = at if at >= 0 else len(block) - len("</div></div>")  # the end of `.content`
    return block[:at] + _COMMENT_OPEN + link + "</div>" + block[at:]


def _history_time(timestamp: int) -> str:
    return datetime.fromtimestamp(timestamp, UTC).strftime("%d/%m/%y, %H:%M:%S")


def _history(qa: QuestionAttempt, ctx: RenderContext, attemptid: int) -> str:
    rows = []
    for index, step in enumerate(qa.steps):
        last = index + 1 == len(qa.steps)
        if last:
            number = str(index + 1)
            css = "current lastrow"
        else:
            link_id = ctx.action_link_id(str(index))
            href = f"{ctx.wwwroot}/mod/quiz/reviewquestion.php?attempt={attemptid}&amp;slot={ctx.slot}&amp;step={index}"
            number = f'<a href="{href}" id="{link_id}" class="" title="Review response">{index + 1}</a>'
            css = ""
        rows.append(
            f'<tr class="{css}">\n'
            f'<td class="cell c0" style="">{number}</td>\n'
            f'<td class="cell c1" style="">{_history_time(step.time)}</td>\n'
            f'<td class="cell c2" style="">{esc(step.action)}</td>\n'
            f'<td class="cell c3" style="">{esc(step.state)}</td>\n'
            f'<td class="cell c4 lastcol" style="">{step.marks}</td>\n'
            "</tr>\n"
        )
    return (
        '<div class="history clearfix border p-2"><h4 class="responsehistoryheader">Response history</h4>'
        '<div class="responsehistoryheader"><div class="table-responsive"><table class="generaltable">\n<thead>\n<tr>\n'
        '<th class="header c0" style="" scope="col">Step</th>\n'
        '<th class="header c1" style="" scope="col">Time</th>\n'
        '<th class="header c2" style="" scope="col">Action</th>\n'
        '<th class="header c3" style="" scope="col">State</th>\n'
        '<th class="header c4 lastcol" style="" scope="col">Marks</th>\n'
        "</tr>\n</thead>\n<tbody>" + "".join(rows) + "</tbody>\n</table>\n</div></div></div>"
    )


def _display_state(qa: QuestionAttempt, finished: bool) -> tuple[str, str]:
    """(css class, text) of the `.state` div; manually graded questions read "Complete" once finished."""
    if qa.question.manual and finished and qa.state not in ("todo", "gaveup", "mangaveup"):
        return "complete", "Complete"
    return qa.stateclass, qa.status


def render_question(qa: QuestionAttempt, ctx: RenderContext, *, attemptid: int, history: bool, decimals: int) -> str:
    """The `html` of one question in `mod_quiz_get_attempt_review` (without the end-code tail)."""
    question = qa.question
    recorded = question.recorded_html(ctx)
    if recorded is not None:
        return grader_view(recorded, ctx, info_item=question.info_item)
    behaviour = "manualgraded" if question.manual else "deferredfeedback"
    if question.info_item:
        state_css, state_text = "complete", ""
        info = '<h3 class="no">Information</h3><div class="state"></div>'
        classes = f"que {question.qtype} informationitem {state_css}"
        heading = "Information text"
    else:
        state_css, state_text = _display_state(qa, ctx.finished)
        if qa.graded and ctx.finished and qa.mark is not None:
            grade = f"Mark {format_number(qa.mark, decimals)} out of {format_number(qa.maxmark, decimals)}"
        else:
            grade = f"Marked out of {format_number(qa.maxmark, decimals)}"
        info = (
            f'<h3 class="no">Question <span class="qno">{esc(ctx.number)}</span></h3>'
            f'<div class="state">{state_text}</div><div class="grade">{grade}</div>'
        )
        classes = f"que {question.qtype} {behaviour} {state_css}"
        heading = "Question text"
    formulation = question.formulation(qa.variant, qa.response, qa.fraction if ctx.finished else None, ctx)
    parts = [
        f'<div id="{ctx.dom_id}" class="{classes}"><div class="info">{info}</div><div class="content">',
        f'<div class="formulation clearfix"><h4 class="accesshide">{heading}</h4>',
        f'<input type="hidden" name="{ctx.prefix}:sequencecheck" value="{qa.sequencecheck}" />',
        formulation,
        "</div>",
    ]
    if ctx.finished and not question.info_item:
        feedback = question.feedback(qa.variant, qa.response, qa.fraction, ctx)
        inner = ""
        if feedback.specific:
            inner += f'<div class="{ctx.markup.specificfeedback_class}">{feedback.specific}</div>'
        inner += feedback.parts_correct
        if feedback.general:
            inner += f'<div class="generalfeedback">{ctx.markup.wrap_text(feedback.general)}</div>'
        if feedback.right_answer is not None:
            inner += f'<div class="rightanswer">{feedback.right_answer}</div>'
        parts.append(
            '<div class="outcome clearfix"><h4 class="accesshide">Feedback</h4>'
            f'<div class="feedback">{inner}</div></div>'
        )
    link = comment_link(ctx) if ctx.grader and not question.info_item else ""
    if qa.comment or link:
        comment = f"Comment: {ctx.fmt(qa.comment)}" if qa.comment else ""
        parts.append(f"{_COMMENT_OPEN}{comment}{link}</div>")
    if history and qa.steps:
        parts.append(_history(qa, ctx, attemptid))
    parts.append("</div></div>")
    return "".join(parts)
