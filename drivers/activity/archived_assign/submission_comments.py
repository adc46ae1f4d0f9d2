"""Submission comments of one assignment submission (`core_comment_get_comments`, comment area
`assignsubmission_comments`/`submission_comments` of the assignment's module context, item = the submission id),
read page by page, oldest first.

Moodle pages by `$CFG->commentsperpage` (`perpage` in the answer) and reports the total (`count`); reading stops
at a page with fewer comments than a page holds, at the total, or at a page that brings no comment not seen
before (a site that repeats itself). A site that never stops fails the job instead of leaving comments out.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import Field

from archived.errors import FatalError
from archived.moodle.api import MoodleApi, parse_answer
from archived.moodle.models import Items, MoodleModel, MoodleWarning

FUNCTION = "core_comment_get_comments"
COMPONENT = "assignsubmission_comments"
AREA = "submission_comments"
PER_PAGE_DEFAULT = 15  # Moodle's default commentsperpage, for answers that do not say
MAX_PAGES = 500


class SubmissionComment(MoodleModel):
    """One comment: its HTML (formatted by Moodle), author and time."""

    id: int
    content: str = ""
    format: int | None = None
    timecreated: int | None = None
    fullname: str = ""
    userid: int | None = None


class CommentPage(MoodleModel):
    """The answer of `core_comment_get_comments`: one page and the total."""

    comments: Items[SubmissionComment] = Field(default_factory=list)
    count: int | None = None
    perpage: int | None = None
    warnings: Items[MoodleWarning] = Field(default_factory=list)


class EndlessCommentsError(FatalError):
    """The site kept sending full pages of new comments beyond any sensible number."""

    code = "assign_comments_endless"


@dataclass(frozen=True)
class SubmissionComments:
    """Every comment of one submission (oldest first) and Moodle's answers as they came."""

    submission_id: int
    comments: list[SubmissionComment]
    answers: list[Any]


def comment_params(cmid: int, submission_id: int, page: int) -> dict[str, Any]:
    """The parameters of one page of a submission's comments."""
    return {
        "contextlevel": "module",
        "instanceid": cmid,
        "component": COMPONENT,
        "itemid": submission_id,
        "area": AREA,
        "page": page,
        "sortdirection": "ASC",
    }


async def read_submission_comments(api: MoodleApi, cmid: int, submission_id: int) -> SubmissionComments:
    """Every page of one submission's comments (see the module docstring for when reading stops)."""
    comments: dict[int, SubmissionComment] = {}
    answers: list[Any] = []
    for page in range(MAX_PAGES):
        answer = await api.client.call(FUNCTION, comment_params(cmid, submission_id, page))
        answers.append(answer)
        parsed: CommentPage = parse_answer(FUNCTION, CommentPage, answer)
        new = [c for c in parsed.comments if c.id not in comments]
        comments.update((c.id, c) for c in new)
        perpage = parsed.perpage if parsed.perpage and parsed.perpage > 0 else PER_PAGE_DEFAULT
        if len(parsed.comments) < perpage or not new:
            break
        if parsed.count is not None and len(comments) >= parsed.count:
            break
    else:
        raise EndlessCommentsError(
            f"submission {submission_id}: Moodle sent {MAX_PAGES} full pages of submission comments and more; the "
            "archive would be incomplete — check the site's comments of this submission"
        )
    ordered = sorted(comments.values(), key=lambda c: (c.timecreated or 0, c.id))
    return SubmissionComments(submission_id, ordered, answers)
