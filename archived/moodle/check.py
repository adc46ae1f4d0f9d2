"""`archived moodle check`: what the configured token can do on the Moodle site, and how to fix what it cannot.

Reads `core_webservice_get_site_info` (site, release, service user, the service's functions, file downloads)
and probes a course to see whether matriculation numbers (`idnumber`) are visible. Every problem comes with its
fix in plain words. Probing only reads. A plain http:// site (allowed explicitly) is reported as a warning.
"""

from __future__ import annotations

import enum
from dataclasses import asdict, dataclass, field
from decimal import Decimal
from typing import Any

from archived.errors import ArchivedError
from archived.moodle.api import USER_ATTEMPTS_LEGACY, USER_QUIZ_ATTEMPTS, MoodleApi
from archived.moodle.errors import LoginRequiredError, NoPermissionError
from archived.moodle.models import MOODLE_BRANCHES, SiteInfo
from archived.moodle.urls import normalise_base_url

NEEDED_FUNCTIONS: tuple[str, ...] = (
    "core_webservice_get_site_info",
    "core_course_get_categories",
    "core_course_get_courses",
    "core_course_get_courses_by_field",
    "core_course_get_contents",
    "core_enrol_get_enrolled_users",
    "core_user_get_users_by_field",
    "mod_quiz_get_quizzes_by_courses",
    "mod_quiz_get_user_attempts",
    "mod_quiz_get_attempt_review",
    "mod_quiz_get_user_best_grade",
    "mod_quiz_get_quiz_feedback_for_grade",
    "mod_assign_get_assignments",
    "mod_assign_get_submissions",
    "mod_assign_get_grades",
    "mod_assign_get_submission_status",
    "mod_assign_list_participants",
    "core_files_get_files",
)
"""The functions the external service must offer (Moodle 4.1+)."""

OPTIONAL_FOR_ASSIGNMENTS: dict[str, str] = {
    "mod_assign_get_user_flags": "extensions, locked submissions and marking-workflow state",
    "mod_assign_get_user_mappings": "with blind marking: the participant numbers Moodle shows graders",
    "gradereport_user_get_grade_items": "the gradebook's view of the grade (overrides, hidden and locked grades)",
    "core_grading_get_definitions": "the assignment's rubric or marking guide (its criteria and levels)",
    "core_grading_get_gradingform_instances": "filled rubrics and marking guides per grade "
    "(needs moodle/grade:managegradingforms)",
    "core_comment_get_comments": "submission comments (needs moodle/comment:view)",
}
"""Functions the assignment driver uses when the token has them, with what each adds to an assignment archive."""

RECOMMENDED_FROM_5_0: tuple[str, ...] = (USER_QUIZ_ATTEMPTS,)
"""Functions to add on Moodle 5.0+, where they exist."""

_FIVE_ZERO = Decimal(dict(MOODLE_BRANCHES)["5.0"])
_OLDEST = Decimal(MOODLE_BRANCHES[0][1])
_NEWEST_TESTED = "5.0"
_FIRST_UNTESTED = Decimal(2025100600)  # Moodle 5.1
_PROBE_COURSES = 3


class Severity(enum.StrEnum):
    """How much a finding matters: errors stop archiving, warnings lose data or will break, info is advice."""

    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


@dataclass(frozen=True)
class CheckProblem:
    """One finding of the site check: what is wrong and how to fix it."""

    severity: Severity
    code: str
    message: str
    fix: str


@dataclass
class SiteCheck:
    """The result of `check_site`: site facts plus the problems found, each with its fix."""

    base_url: str
    reachable: bool = False
    site_name: str | None = None
    site_url: str | None = None
    release: str | None = None
    version: str | None = None
    branch: str | None = None
    username: str | None = None
    userid: int | None = None
    user_fullname: str | None = None
    site_admin: bool | None = None
    functions_available: int = 0
    missing_functions: list[str] = field(default_factory=list)
    missing_recommended: list[str] = field(default_factory=list)
    optional_present: list[str] = field(default_factory=list)  # of OPTIONAL_FOR_ASSIGNMENTS
    optional_missing: list[str] = field(default_factory=list)
    download_files: bool | None = None
    idnumber_visible: bool | None = None
    problems: list[CheckProblem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when nothing stops archiving (no error-level problem)."""
        return self.reachable and not any(p.severity is Severity.ERROR for p in self.problems)

    def add(self, severity: Severity, code: str, message: str, fix: str) -> None:
        """Record a problem."""
        self.problems.append(CheckProblem(severity, code, message, fix))

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (for `--json`)."""
        data = asdict(self)
        data["ok"] = self.ok
        data["problems"] = [{**asdict(p), "severity": p.severity.value} for p in self.problems]
        return data


async def check_site(api: MoodleApi) -> SiteCheck:
    """Check what the configured token can do on the site; never raises for Moodle or network errors."""
    check = SiteCheck(base_url=api.client.base_url)
    _check_transport(check, api)
    try:
        info = await api.site_info(refresh=True)
    except ArchivedError as exc:
        check.add(
            Severity.ERROR,
            exc.code,
            f"core_webservice_get_site_info failed: {exc}",
            "Fix this first; nothing else can be checked until the token works.",
        )
        return check
    check.reachable = True
    _describe_site(check, info)
    _check_version(check, info)
    _check_functions(check, info)
    _check_files(check, info)
    _check_account(check, api, info)
    await _check_identity(check, api, info)
    return check


def _check_transport(check: SiteCheck, api: MoodleApi) -> None:
    if api.client.insecure:
        check.add(
            Severity.WARNING,
            "insecure_http",
            f"The Moodle URL {api.client.base_url} is plain http://: the web-service token and every archived "
            "answer travel unencrypted (allowed by allow_insecure_http = true in [moodle]).",
            "Give the site (or a reverse proxy in front of it) a TLS certificate, set moodle.url to its https:// "
            "address and remove allow_insecure_http.",
        )


def _describe_site(check: SiteCheck, info: SiteInfo) -> None:
    check.site_name = info.sitename
    check.site_url = info.siteurl
    check.release = info.release
    check.version = info.version
    check.branch = info.branch
    check.username = info.username
    check.userid = info.userid
    check.user_fullname = info.fullname
    check.site_admin = info.userissiteadmin
    check.functions_available = len(info.function_names)
    check.download_files = None if info.downloadfiles is None else bool(info.downloadfiles)


def _check_version(check: SiteCheck, info: SiteInfo) -> None:
    number = info.version_number
    if number is None:
        check.add(
            Severity.WARNING,
            "version_unknown",
            "Moodle did not report its version.",
            "Nothing to do if archiving works; archived assumes Moodle 4.1 behaviour.",
        )
    elif number < _OLDEST:
        check.add(
            Severity.ERROR,
            "version_unsupported",
            f"Moodle {info.release or info.version} is older than 4.1, the oldest version archived supports.",
            "Upgrade Moodle to 4.1 LTS or newer.",
        )
    elif number >= _FIRST_UNTESTED:
        check.add(
            Severity.INFO,
            "version_untested",
            f"Moodle {info.release or info.version} is newer than the versions archived was tested with "
            f"(up to {_NEWEST_TESTED}).",
            "It will probably work; run a test archive and report any problem.",
        )


def _check_functions(check: SiteCheck, info: SiteInfo) -> None:
    names = info.function_names
    five = (info.version_number or Decimal(0)) >= _FIVE_ZERO
    needed = list(NEEDED_FUNCTIONS)
    if five and USER_QUIZ_ATTEMPTS in names:
        needed.remove(USER_ATTEMPTS_LEGACY)  # the 5.0 function replaces it
    check.missing_functions = [name for name in needed if name not in names]
    if five:
        check.missing_recommended = [name for name in RECOMMENDED_FROM_5_0 if name not in names]
    # Optional: not a problem when missing, only less in assignment archives (format_check lists them).
    check.optional_present = [name for name in OPTIONAL_FOR_ASSIGNMENTS if name in names]
    check.optional_missing = [name for name in OPTIONAL_FOR_ASSIGNMENTS if name not in names]
    for name in check.missing_functions:
        check.add(
            Severity.ERROR,
            "function_missing",
            f"The token's external service does not offer {name}.",
            f"Add {name} in Site administration › Server › Web services › External services › (the archiver's "
            "service) › Functions.",
        )
    for name in check.missing_recommended:
        check.add(
            Severity.WARNING,
            "function_recommended",
            f"Moodle 5.0+ offers {name}, but the token's service does not include it. Without it archived uses "
            f"the deprecated {USER_ATTEMPTS_LEGACY}, which hides attempts that are not started yet and will be "
            "removed in Moodle 6.0.",
            f"Add {name} to the archiver's external service (Site administration › Server › Web services › "
            "External services › Functions).",
        )


def _check_files(check: SiteCheck, info: SiteInfo) -> None:
    if check.download_files is False:
        check.add(
            Severity.ERROR,
            "downloadfiles_off",
            "The token's external service may not download files, so images and attachments cannot be archived.",
            "Tick 'Can download files' in Site administration › Server › Web services › External services › "
            "(the archiver's service) › Edit.",
        )
    elif check.download_files is None:
        check.add(
            Severity.WARNING,
            "downloadfiles_unknown",
            "Moodle did not say whether the token's service may download files.",
            "Make sure 'Can download files' is ticked for the archiver's external service.",
        )


def _check_account(check: SiteCheck, api: MoodleApi, info: SiteInfo) -> None:
    if info.userissiteadmin:
        check.add(
            Severity.WARNING,
            "token_is_site_admin",
            f"The token belongs to a site administrator ({info.username}).",
            "Create a dedicated service user with only the capabilities archived needs and a token for it; a "
            "leaked administrator token gives full control of the site.",
        )
    try:
        reported = normalise_base_url(info.siteurl)
    except ValueError:
        reported = info.siteurl
    if reported != api.client.base_url:
        check.add(
            Severity.INFO,
            "site_url_differs",
            f"Moodle calls itself {info.siteurl}, but archived reaches it at {api.client.base_url}.",
            "Nothing to do if this is intended (internal address, reverse proxy): file URLs under the site's own "
            "address are fetched from the configured one.",
        )


async def _check_identity(check: SiteCheck, api: MoodleApi, info: SiteInfo) -> None:
    """Probe courses to see whether the service user sees courses, participants and their idnumbers."""
    try:
        courses = (await api.courses_by_field()).courses
    except ArchivedError as exc:
        check.add(Severity.ERROR, "courses_failed", f"Listing courses failed: {exc}", _CAPABILITY_FIX)
        return
    candidates = [course for course in courses if course.id != (info.siteid or 1)]
    if not candidates:
        check.add(
            Severity.WARNING,
            "no_courses",
            "The service user sees no courses.",
            "Give the service user's role moodle/course:view and moodle/course:viewhiddencourses at system level "
            "(or there are no courses yet).",
        )
        return
    for course in candidates[:_PROBE_COURSES]:
        try:
            users = await api.enrolled_users(course.id, userfields="id,idnumber", limitnumber=50)
        except (NoPermissionError, LoginRequiredError) as exc:
            check.add(
                Severity.ERROR,
                "participants_hidden",
                f"The service user may not list the participants of course {course.id} ({course.shortname}): "
                f"{exc.moodle_message or exc}",
                "Give the service user's role moodle/course:viewparticipants, moodle/course:view, "
                "moodle/user:viewdetails and moodle/site:accessallgroups at system level.",
            )
            return
        except ArchivedError as exc:
            check.add(Severity.WARNING, "participants_failed", f"Listing participants failed: {exc}", _CAPABILITY_FIX)
            return
        if not users:
            continue
        check.idnumber_visible = any(user.idnumber for user in users)
        if not check.idnumber_visible:
            check.add(
                Severity.WARNING,
                "idnumber_hidden",
                f"idnumber not visible: none of the {len(users)} participants of course {course.id} "
                f"({course.shortname}) shows an ID number (matriculation number). Either they have none, or the "
                "service user may not see it.",
                "Add 'ID number' to Site administration › Users › Permissions › User policies › Show user identity "
                "and give the service user's role moodle/site:viewuseridentity (or moodle/user:viewalldetails) at "
                "system level.",
            )
        return
    check.add(
        Severity.INFO,
        "idnumber_unknown",
        f"No participants in the first {min(len(candidates), _PROBE_COURSES)} course(s), so the visibility of ID "
        "numbers could not be checked.",
        "Run the check again once courses have participants.",
    )


_CAPABILITY_FIX = (
    "Check the service user's role against the capability list in archived's Moodle setup guide, and run the "
    "check again."
)


def format_check(check: SiteCheck) -> str:
    """The check result as plain text lines for the terminal."""
    lines: list[str] = []
    if check.reachable:
        lines.append(f"Moodle site:    {check.site_name} ({check.site_url})")
        version = f"{check.release or '?'} (version {check.version or '?'}"
        version += f", branch {check.branch})" if check.branch else ")"
        lines.append(f"Release:        {version}")
        admin = ", site administrator" if check.site_admin else ""
        lines.append(f"Service user:   {check.username} (id {check.userid}, {check.user_fullname}{admin})")
        missing = len(check.missing_functions)
        lines.append(
            f"Functions:      {check.functions_available} offered, "
            + ("all needed ones present" if not missing else f"{missing} needed one(s) missing")
        )
        lines += _optional_lines(check)
        downloads = {True: "allowed", False: "NOT allowed", None: "unknown"}[check.download_files]
        lines.append(f"File download:  {downloads}")
        idnumbers = {True: "visible", False: "not visible", None: "not checked"}[check.idnumber_visible]
        lines.append(f"ID numbers:     {idnumbers}")
    else:
        lines.append(f"Moodle site:    {check.base_url} (not usable)")
    if check.problems:
        lines.append("")
        lines.append("Problems:")
        for problem in check.problems:
            lines.append(f"  {problem.severity.value.upper():7} {problem.message}")
            lines.append(f"          fix: {problem.fix}")
    lines.append("")
    errors = sum(1 for p in check.problems if p.severity is Severity.ERROR)
    warnings = sum(1 for p in check.problems if p.severity is Severity.WARNING)
    verdict = "OK" if check.ok else "NOT READY"
    lines.append(f"Result: {verdict} ({errors} error(s), {warnings} warning(s))")
    return "\n".join(lines)


def _optional_lines(check: SiteCheck) -> list[str]:
    """The optional assignment functions: which the token has, which it lacks, and what each adds."""
    present = len(check.optional_present)
    lines = [f"Assignments:    {present} of {len(OPTIONAL_FOR_ASSIGNMENTS)} optional functions present"]
    for name in OPTIONAL_FOR_ASSIGNMENTS:
        mark = "present" if name in check.optional_present else "missing"
        lines.append(f"  {mark:7} {name}: {OPTIONAL_FOR_ASSIGNMENTS[name]}")
    if check.optional_missing:
        lines.append(
            "  (optional: add a missing one to the archiver's external service to have what it adds in assignment "
            "archives)"
        )
    return lines
