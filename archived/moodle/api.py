"""Typed Moodle web-service functions on top of `MoodleClient`.

Each method sends exactly the parameters Moodle expects (defaults spelled out where the recordings show that
real clients send them) and returns the pydantic model of the answer. An answer that does not fit its model
raises `MalformedResponseError` naming the function and the first offending field. Version differences are
handled here: on Moodle 5.0+ attempts are listed with `mod_quiz_get_user_quiz_attempts` (the old function hides
`notstarted` attempts and is deprecated), detected from the cached site info.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, TypeVar

from pydantic import TypeAdapter, ValidationError

from archived.moodle.client import MoodleClient
from archived.moodle.errors import MalformedResponseError
from archived.moodle.models import (
    AssignmentList,
    AttemptList,
    AttemptReview,
    BestGrade,
    Category,
    Course,
    CourseList,
    CourseSection,
    EnrolledUser,
    FileListing,
    GradeList,
    Participant,
    QuizFeedback,
    QuizList,
    SiteInfo,
    SubmissionList,
    SubmissionStatus,
    User,
)
from archived.moodle.urls import normalise_base_url

log = logging.getLogger("archived.moodle")

M = TypeVar("M")

USER_QUIZ_ATTEMPTS = "mod_quiz_get_user_quiz_attempts"
USER_ATTEMPTS_LEGACY = "mod_quiz_get_user_attempts"

_ADAPTERS: dict[Any, TypeAdapter[Any]] = {}


def _adapter(model: Any) -> TypeAdapter[Any]:
    adapter = _ADAPTERS.get(model)
    if adapter is None:
        adapter = _ADAPTERS[model] = TypeAdapter(model)
    return adapter


def _field_path(location: Sequence[int | str]) -> str:
    path = ""
    for part in location:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    return path or "(the whole answer)"


def parse_answer(function: str, model: Any, data: Any) -> Any:
    """Validate `data` (a decoded answer of `function`) against `model`; MalformedResponseError if it does not fit."""
    try:
        return _adapter(model).validate_python(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = _field_path(first.get("loc", ()))
        got = first.get("input")
        shown = "missing" if first.get("type") == "missing" else f"{type(got).__name__} {str(got)[:60]!r}"
        raise MalformedResponseError(
            f"Moodle's answer to {function} does not have the expected shape: {field}: {first.get('msg')} "
            f"(got {shown}; {exc.error_count()} problem(s) in total). This Moodle version may be unsupported or "
            "something between archived and Moodle altered the answer; run `archived moodle check` and report "
            "this message with the Moodle release.",
            function=function,
            field=field,
        ) from None


def _ids(values: Iterable[int]) -> list[int]:
    return [int(value) for value in values]


class MoodleApi:
    """The web-service functions archived uses, typed. Caches the site info (call `site_info(refresh=True)`)."""

    def __init__(self, client: MoodleClient) -> None:
        self.client = client
        self._site_info: SiteInfo | None = None
        self._site_info_lock = asyncio.Lock()

    def __repr__(self) -> str:
        return f"MoodleApi({self.client!r})"

    async def _call(self, function: str, model: Any, params: Mapping[str, Any] | None = None) -> Any:
        data = await self.client.call(function, params)
        return parse_answer(function, model, data)

    # -- site -----------------------------------------------------------------------------------------------

    async def site_info(self, *, refresh: bool = False) -> SiteInfo:
        """`core_webservice_get_site_info`, cached. Registers Moodle's wwwroot as a site alias of the client."""
        async with self._site_info_lock:
            if self._site_info is None or refresh:
                info: SiteInfo = await self._call("core_webservice_get_site_info", SiteInfo)
                self._site_info = info
                self._learn_site_url(info.siteurl)
            return self._site_info

    def _learn_site_url(self, siteurl: str) -> None:
        try:
            root = normalise_base_url(siteurl)
        except ValueError:
            log.warning("Moodle reports an unusable siteurl %r; file URLs must use the configured URL", siteurl)
            return
        if root != self.client.base_url and root not in self.client.site_aliases:
            # Safe: URLs under the alias are moved onto the configured base URL, so the token stays there.
            log.info("Moodle calls itself %s; its file URLs will be fetched from %s", root, self.client.base_url)
            self.client.add_site_alias(root)

    async def categories(self, *, parent: int | None = None, addsubcategories: bool | None = None) -> list[Category]:
        """`core_course_get_categories`: all categories, or those below `parent`."""
        params: dict[str, Any] = {}
        if parent is not None:
            params["criteria"] = [{"key": "parent", "value": parent}]
        params["addsubcategories"] = addsubcategories
        result: list[Category] = await self._call("core_course_get_categories", list[Category], params)
        return result

    async def courses_by_field(
        self, field: str | None = None, value: str | int | Sequence[int] | None = None
    ) -> CourseList:
        """`core_course_get_courses_by_field`: all visible courses, or by `id`, `ids`, `shortname`, `category`…"""
        params: dict[str, Any] = {}
        if field is not None:
            params["field"] = field
            if isinstance(value, Sequence) and not isinstance(value, str):
                value = ",".join(str(int(item)) for item in value)
            params["value"] = value
        result: CourseList = await self._call("core_course_get_courses_by_field", CourseList, params)
        return result

    async def courses(self, ids: Iterable[int] | None = None) -> list[Course]:
        """`core_course_get_courses` (includes the front page; fails as a whole on one inaccessible course)."""
        params = {"options": {"ids": _ids(ids)}} if ids is not None else None
        result: list[Course] = await self._call("core_course_get_courses", list[Course], params)
        return result

    async def course_contents(self, course_id: int) -> list[CourseSection]:
        """`core_course_get_contents`: the sections and modules of a course."""
        result: list[CourseSection] = await self._call(
            "core_course_get_contents", list[CourseSection], {"courseid": course_id}
        )
        return result

    async def enrolled_users(
        self,
        course_id: int,
        *,
        withcapability: str | None = None,
        userfields: str | Sequence[str] | None = None,
        limitfrom: int = 0,
        limitnumber: int = 0,
    ) -> list[EnrolledUser]:
        """`core_enrol_get_enrolled_users`; `limitfrom`/`limitnumber` page (0/0 = everyone)."""
        options: list[dict[str, Any]] = []
        if withcapability:
            options.append({"name": "withcapability", "value": withcapability})
        if userfields:
            fields = userfields if isinstance(userfields, str) else ",".join(userfields)
            options.append({"name": "userfields", "value": fields})
        if limitfrom or limitnumber:
            options.append({"name": "limitfrom", "value": limitfrom})
            options.append({"name": "limitnumber", "value": limitnumber})
        params: dict[str, Any] = {"courseid": course_id}
        if options:
            params["options"] = options
        result: list[EnrolledUser] = await self._call("core_enrol_get_enrolled_users", list[EnrolledUser], params)
        return result

    async def users_by_field(self, field: str, values: Sequence[str | int]) -> list[User]:
        """`core_user_get_users_by_field` (`id`, `idnumber`, `username`, `email`); unknown values are skipped."""
        result: list[User] = await self._call(
            "core_user_get_users_by_field", list[User], {"field": field, "values": [str(v) for v in values]}
        )
        return result

    async def files(
        self,
        contextid: int,
        component: str,
        filearea: str,
        itemid: int,
        filepath: str,
        filename: str,
        *,
        contextlevel: str | None = None,
        instanceid: int | None = None,
    ) -> FileListing:
        """`core_files_get_files`: browse a file area (contextid -1 = use contextlevel + instanceid)."""
        result: FileListing = await self._call(
            "core_files_get_files",
            FileListing,
            {
                "contextid": contextid,
                "component": component,
                "filearea": filearea,
                "itemid": itemid,
                "filepath": filepath,
                "filename": filename,
                "contextlevel": contextlevel,
                "instanceid": instanceid,
            },
        )
        return result

    # -- quiz -----------------------------------------------------------------------------------------------

    async def quizzes_by_courses(self, course_ids: Iterable[int]) -> QuizList:
        """`mod_quiz_get_quizzes_by_courses` for explicit courses (a non-enrolled token must name them)."""
        result: QuizList = await self._call(
            "mod_quiz_get_quizzes_by_courses", QuizList, {"courseids": _ids(course_ids)}
        )
        return result

    async def attempts_function(self) -> str:
        """The function that lists a user's attempts on this site (5.0+: the one that shows every state)."""
        info = await self.site_info()
        return USER_QUIZ_ATTEMPTS if info.has_function(USER_QUIZ_ATTEMPTS) else USER_ATTEMPTS_LEGACY

    async def user_attempts(
        self, quiz_id: int, user_id: int, *, status: str = "all", include_previews: bool = False
    ) -> AttemptList:
        """A user's attempts at a quiz (`status`: all, finished, unfinished), ordered by attempt number."""
        function = await self.attempts_function()
        result: AttemptList = await self._call(
            function,
            AttemptList,
            {"quizid": quiz_id, "userid": user_id, "status": status, "includepreviews": include_previews},
        )
        return result

    async def attempt_review(self, attempt_id: int, page: int = -1) -> AttemptReview:
        """`mod_quiz_get_attempt_review`: every question's HTML (page -1 = all pages), marks and feedback."""
        result: AttemptReview = await self._call(
            "mod_quiz_get_attempt_review", AttemptReview, {"attemptid": attempt_id, "page": page}
        )
        return result

    async def user_best_grade(self, quiz_id: int, user_id: int) -> BestGrade:
        """`mod_quiz_get_user_best_grade` for another user (needs mod/quiz:viewreports)."""
        result: BestGrade = await self._call(
            "mod_quiz_get_user_best_grade", BestGrade, {"quizid": quiz_id, "userid": user_id}
        )
        return result

    async def quiz_feedback_for_grade(self, quiz_id: int, grade: float) -> QuizFeedback:
        """`mod_quiz_get_quiz_feedback_for_grade` for a grade scaled to the quiz's maximum grade."""
        result: QuizFeedback = await self._call(
            "mod_quiz_get_quiz_feedback_for_grade", QuizFeedback, {"quizid": quiz_id, "grade": grade}
        )
        return result

    # -- assignments ----------------------------------------------------------------------------------------

    async def assignments(self, course_ids: Iterable[int]) -> AssignmentList:
        """`mod_assign_get_assignments` with includenotenrolledcourses=1 (the service user is not enrolled)."""
        result: AssignmentList = await self._call(
            "mod_assign_get_assignments",
            AssignmentList,
            {"courseids": _ids(course_ids), "includenotenrolledcourses": True},
        )
        return result

    async def submissions(self, assign_ids: Iterable[int]) -> SubmissionList:
        """`mod_assign_get_submissions`: the latest submission attempt per user or group."""
        result: SubmissionList = await self._call(
            "mod_assign_get_submissions", SubmissionList, {"assignmentids": _ids(assign_ids)}
        )
        return result

    async def grades(self, assign_ids: Iterable[int]) -> GradeList:
        """`mod_assign_get_grades`: grades of the latest attempts."""
        result: GradeList = await self._call("mod_assign_get_grades", GradeList, {"assignmentids": _ids(assign_ids)})
        return result

    async def submission_status(self, assign_id: int, user_id: int) -> SubmissionStatus:
        """`mod_assign_get_submission_status` for one user: submission, feedback and previous attempts."""
        result: SubmissionStatus = await self._call(
            "mod_assign_get_submission_status", SubmissionStatus, {"assignid": assign_id, "userid": user_id}
        )
        return result

    async def list_participants(
        self,
        assign_id: int,
        *,
        groupid: int = 0,
        filter: str = "",
        skip: int = 0,
        limit: int = 0,
        onlyids: bool = False,
        includeenrolments: bool = True,
        tablesort: bool = False,
    ) -> list[Participant]:
        """`mod_assign_list_participants` (groupid and filter are required by Moodle; 0 and "" mean all)."""
        result: list[Participant] = await self._call(
            "mod_assign_list_participants",
            list[Participant],
            {
                "assignid": assign_id,
                "groupid": groupid,
                "filter": filter,
                "skip": skip,
                "limit": limit,
                "onlyids": onlyids,
                "includeenrolments": includeenrolments,
                "tablesort": tablesort,
            },
        )
        return result
