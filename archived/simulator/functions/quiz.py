"""mod_quiz: quizzes, attempts, the attempt review with question HTML, grades and feedback (contract §3.8–3.13)."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from archived.simulator.data.model import Attempt, Quiz
from archived.simulator.exceptions import MissingRecord, MoodleError, invalid_parameter, missing_row
from archived.simulator.functions.base import Call, ExternalFunction
from archived.simulator.functions.structures import external_files, warning, warnings_desc
from archived.simulator.paramtypes import ALPHA, ALPHANUMEXT, BOOL, FLOAT, INT, RAW, TEXT
from archived.simulator.profiles import ReleaseProfile
from archived.simulator.questions.base import RenderContext, format_number
from archived.simulator.questions.endcode import EndCode
from archived.simulator.questions.filters import filter_text
from archived.simulator.questions.markup import Markup
from archived.simulator.questions.render import render_question
from archived.simulator.schema import Desc, Single, multiple, single, value

_FINISHED_STATES = ("finished", "abandoned", "submitted")
_REVIEW_ALL = 69904


def _quiz_or_fail(call: Call, quizid: int) -> Quiz:
    quiz = call.world.quizzes.get(quizid)
    if quiz is None:
        raise missing_row("quiz", quizid)
    return quiz


def _user_or_fail(call: Call, userid: int) -> int:
    if userid not in call.world.users:
        raise MissingRecord("user", "SELECT * FROM {user} WHERE id = ? AND deleted = ?", [userid, 0])
    return userid


# --- mod_quiz_get_quizzes_by_courses -----------------------------------------------------------------------
def _quizzes_params(profile: ReleaseProfile) -> Single:
    return single({"courseids": multiple(value(INT), default=[])})


def _quizzes_returns(profile: ReleaseProfile) -> Desc:
    int_keys_a = ["timeopen", "timeclose", "timelimit"]
    keys: dict[str, Desc] = {
        "id": value(INT),
        "coursemodule": value(INT),
        "course": value(INT),
        "name": value(RAW),
        "intro": value(RAW, opt=True),
        "introformat": value(INT, opt=True),
        "introfiles": external_files(profile),
        "section": value(INT, opt=True),
        "visible": value(BOOL, opt=True),
        "groupmode": value(INT, opt=True),
        "groupingid": value(INT, opt=True),
        "lang": value(RAW, opt=True),
    }
    for name in int_keys_a:
        keys[name] = value(INT, opt=True)
    keys["overduehandling"] = value(ALPHA, opt=True)
    keys["graceperiod"] = value(INT, opt=True)
    keys["preferredbehaviour"] = value(ALPHA, opt=True)
    for name in (
        "canredoquestions",
        "attempts",
        "attemptonlast",
        "grademethod",
        "decimalpoints",
        "questiondecimalpoints",
        "reviewattempt",
        "reviewcorrectness",
    ):
        keys[name] = value(INT, opt=True)
    if profile.at_least(4, 3):
        keys["reviewmaxmarks"] = value(INT, opt=True)
    for name in (
        "reviewmarks",
        "reviewspecificfeedback",
        "reviewgeneralfeedback",
        "reviewrightanswer",
        "reviewoverallfeedback",
        "questionsperpage",
    ):
        keys[name] = value(INT, opt=True)
    keys["navmethod"] = value(ALPHA, opt=True)
    keys["shuffleanswers"] = value(INT, opt=True)
    keys["sumgrades"] = value(FLOAT, opt=True)
    keys["grade"] = value(FLOAT, opt=True)
    keys["timecreated"] = value(INT, opt=True)
    keys["timemodified"] = value(INT, opt=True)
    keys["password"] = value(RAW, opt=True)
    keys["subnet"] = value(RAW, opt=True)
    keys["browsersecurity"] = value(ALPHANUMEXT, opt=True)
    for name in (
        "delay1",
        "delay2",
        "showuserpicture",
        "showblocks",
        "completionattemptsexhausted",
        "completionpass",
        "allowofflineattempts",
        "autosaveperiod",
        "hasfeedback",
        "hasquestions",
    ):
        keys[name] = value(INT, opt=True)
    if profile.at_least(5, 0):
        keys["precreateattempts"] = value(INT, opt=True)
    return single({"quizzes": multiple(single(keys)), "warnings": warnings_desc()})


def _quiz_entry(call: Call, quiz: Quiz) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "id": quiz.id,
        "coursemodule": quiz.cmid,
        "course": quiz.course,
        "name": quiz.name,
        "intro": call.format_text(quiz.intro, quiz.contextid, "mod_quiz", "intro", None),
        "introformat": 1,
        "introfiles": [],
        "section": quiz.section,
        "visible": True,
        "groupmode": 0,
        "groupingid": 0,
        "lang": "",
        "timeopen": quiz.timeopen,
        "timeclose": quiz.timeclose,
        "timelimit": 0,
        "overduehandling": "autosubmit",
        "graceperiod": quiz.graceperiod,
        "preferredbehaviour": "deferredfeedback",
        "canredoquestions": 0,
        "attempts": quiz.attempts_allowed,
        "attemptonlast": 0,
        "grademethod": 1,
        "decimalpoints": quiz.decimalpoints,
        "questiondecimalpoints": quiz.questiondecimalpoints,
        "reviewattempt": _REVIEW_ALL,
        "reviewcorrectness": _REVIEW_ALL,
        "reviewmaxmarks": _REVIEW_ALL,
        "reviewmarks": _REVIEW_ALL,
        "reviewspecificfeedback": _REVIEW_ALL,
        "reviewgeneralfeedback": _REVIEW_ALL,
        "reviewrightanswer": _REVIEW_ALL,
        "reviewoverallfeedback": quiz.reviewoverallfeedback,
        "questionsperpage": quiz.questionsperpage,
        "navmethod": quiz.navmethod,
        "sumgrades": quiz.sumgrades,
        "grade": quiz.grade,
        "browsersecurity": "",
        "delay1": 0,
        "delay2": 0,
        "showuserpicture": 0,
        "showblocks": 0,
        "completionattemptsexhausted": 0,
        "completionpass": 0,
        "allowofflineattempts": 0,
        "autosaveperiod": 60,
        "hasfeedback": 1 if any(band.text for band in quiz.feedback) else 0,
        "hasquestions": 1 if quiz.slots else 0,
    }
    if call.world.has_capability("moodle/course:manageactivities"):
        entry.update(
            shuffleanswers=1,
            timecreated=quiz.timecreated,
            timemodified=quiz.timemodified,
            password="",
            subnet="",
            precreateattempts=0,
        )
    return entry


def get_quizzes_by_courses(call: Call, params: dict[str, Any]) -> dict[str, Any]:
    """Quizzes of the given courses (none for a service user enrolled nowhere when no ids are given)."""
    world = call.world
    quizzes, warnings = [], []
    for courseid in params["courseids"]:
        if courseid not in world.courses:
            warnings.append(warning("course", courseid, "1", "No access rights in course context"))
            continue
        for quiz in sorted(world.quizzes.values(), key=lambda q: q.id):
            if quiz.course == courseid:
                quizzes.append(_quiz_entry(call, quiz))
    return {"quizzes": quizzes, "warnings": warnings}


# --- attempts ----------------------------------------------------------------------------------------------
def attempt_desc(profile: ReleaseProfile) -> Single:
    """The attempt structure (`mod_quiz_external::attempt_structure`)."""
    keys: dict[str, Desc] = {}
    for name in ("id", "quiz", "userid", "attempt", "uniqueid"):
        keys[name] = value(INT, opt=True)
    keys["layout"] = value(RAW, opt=True)
    keys["currentpage"] = value(INT, opt=True)
    keys["preview"] = value(INT, opt=True)
    keys["state"] = value(ALPHA, opt=True)
    for name in ("timestart", "timefinish", "timemodified", "timemodifiedoffline", "timecheckstate"):
        keys[name] = value(INT, opt=True)
    keys["sumgrades"] = value(FLOAT, opt=True)
    if profile.has_grade_items:
        keys["gradeitemmarks"] = multiple(
            single({"name": value(TEXT), "grade": value(FLOAT), "maxgrade": value(FLOAT)}), opt=True
        )
    keys["gradednotificationsenttime"] = value(INT, opt=True)
    return single(keys)


def attempt_entry(call: Call, quiz: Quiz, attempt: Attempt, *, legacy_states: bool) -> dict[str, Any]:
    """One attempt as the attempt structure prints it."""
    detail = call.world.detail(attempt)
    state = attempt.state
    sumgrades = detail.sumgrades
    if legacy_states and state == "submitted":
        # The deprecated 5.0 function reports submitted attempts as finished, without marks.
        state, sumgrades = "finished", None
    if detail.graded_time is not None:
        timemodified = detail.graded_time
    elif attempt.state in _FINISHED_STATES:
        timemodified = attempt.timefinish
    else:
        timemodified = attempt.timemodified
    return {
        "id": attempt.id,
        "quiz": attempt.quiz,
        "userid": attempt.userid,
        "attempt": attempt.attempt,
        "uniqueid": attempt.uniqueid,
        "layout": quiz.layout,
        "currentpage": attempt.currentpage,
        "preview": attempt.preview,
        "state": state,
        "timestart": attempt.timestart,
        "timefinish": attempt.timefinish,
        "timemodified": timemodified,
        "timemodifiedoffline": 0,
        "timecheckstate": attempt.timecheckstate,
        "sumgrades": sumgrades,
        "gradeitemmarks": [],
        "gradednotificationsenttime": attempt.gradednotificationsenttime,
    }


def _attempts_params(profile: ReleaseProfile) -> Single:
    return single(
        {
            "quizid": value(INT),
            "userid": value(INT, default=0),
            "status": value(ALPHA, default="finished"),
            "includepreviews": value(BOOL, default=False),
        }
    )


def _attempts_returns(profile: ReleaseProfile) -> Desc:
    return single({"attempts": multiple(attempt_desc(profile)), "warnings": warnings_desc()})


def _user_attempts(call: Call, params: dict[str, Any], *, legacy: bool) -> dict[str, Any]:
    world = call.world
    quiz = _quiz_or_fail(call, params["quizid"])
    userid = _user_or_fail(call, params["userid"] or call.userid)
    if userid != call.userid:
        call.require("mod/quiz:viewreports", "View quiz reports")
    status = params["status"]
    if status not in ("all", "finished", "unfinished"):
        raise invalid_parameter("Invalid status value")
    wanted = {
        "finished": {"finished", "abandoned", "submitted"},
        "unfinished": {"inprogress", "overdue"},
        "all": {"finished", "abandoned", "submitted", "inprogress", "overdue", "notstarted"},
    }[status]
    entries = []
    for attempt in world.user_attempts(quiz.id, userid):
        if attempt.preview and not params["includepreviews"]:
            continue
        if attempt.state not in wanted or (legacy and attempt.state == "notstarted"):
            continue
        entries.append(attempt_entry(call, quiz, attempt, legacy_states=legacy and call.profile.at_least(5, 0)))
    return {"attempts": entries, "warnings": []}


def get_user_attempts(call: Call, params: dict[str, Any]) -> dict[str, Any]:
    """A user's attempts (deprecated in 5.0: hides `notstarted`, maps `submitted` to `finished`)."""
    return _user_attempts(call, params, legacy=True)


def get_user_quiz_attempts(call: Call, params: dict[str, Any]) -> dict[str, Any]:
    """A user's attempts with their real states (5.0+)."""
    return _user_attempts(call, params, legacy=False)


# --- mod_quiz_get_attempt_review ---------------------------------------------------------------------------
def _question_desc(profile: ReleaseProfile) -> Single:
    files = external_files(profile)
    keys: dict[str, Desc] = {"slot": value(INT), "type": value(ALPHANUMEXT), "page": value(INT)}
    if profile.has_question_number:
        keys["questionnumber"] = value(RAW)
        keys["number"] = value(INT, opt=True)
    keys["html"] = value(RAW)
    keys["responsefileareas"] = multiple(single({"area": value(ALPHANUMEXT), "files": files}), opt=True)
    keys["sequencecheck"] = value(INT, opt=True)
    keys["lastactiontime"] = value(INT, opt=True)
    keys["hasautosavedstep"] = value(BOOL, opt=True)
    keys["flagged"] = value(BOOL)
    if not profile.has_question_number:
        keys["number"] = value(INT, opt=True)
    keys["state"] = value(ALPHA, opt=True)
    if profile.at_least(4, 4):
        keys["stateclass"] = value(ALPHANUMEXT, opt=True)
    keys["status"] = value(RAW, opt=True)
    keys["blockedbyprevious"] = value(BOOL, opt=True)
    keys["mark"] = value(RAW, opt=True)
    keys["maxmark"] = value(FLOAT, opt=True)
    keys["settings"] = value(RAW, opt=True)
    return single(keys)


def _review_params(profile: ReleaseProfile) -> Single:
    return single({"attemptid": value(INT), "page": value(INT, default=-1)})


def _review_returns(profile: ReleaseProfile) -> Desc:
    return single(
        {
            "grade": value(RAW),
            "attempt": attempt_desc(profile),
            "additionaldata": multiple(single({"id": value(ALPHANUMEXT), "title": value(TEXT), "content": value(RAW)})),
            "questions": multiple(_question_desc(profile)),
            "warnings": warnings_desc(),
        }
    )


def _feedback_band(quiz: Quiz, grade: float) -> str:
    for band in quiz.feedback:
        if band.mingrade <= grade < band.maxgrade:
            return band.text
    return ""


def get_attempt_review(call: Call, params: dict[str, Any]) -> dict[str, Any]:
    """The review of one attempt with every question's HTML (any state, given `mod/quiz:viewreports`)."""
    world, profile = call.world, call.profile
    attempt = world.attempts.get(params["attemptid"])
    if attempt is None:
        raise missing_row("quiz_attempts", params["attemptid"])
    quiz = world.quizzes[attempt.quiz]
    if attempt.userid != call.userid and not world.has_capability("mod/quiz:viewreports"):
        raise MoodleError("noreviewattempt", base="moodle_quiz_exception")
    detail = world.detail(attempt)
    finished = attempt.state in _FINISHED_STATES
    last_page = max((qa.page for qa in detail.questions), default=0)
    page = params["page"]
    if page != -1:
        page = max(0, min(page, last_page))
    decimals = quiz.questiondecimalpoints if quiz.questiondecimalpoints >= 0 else quiz.decimalpoints
    markup = Markup(profile)
    endcode = EndCode(profile, call.wwwroot, f"{world.seed}|review|{attempt.id}")
    question_context = world.question_contextid(quiz)
    # A user who may grade sees teacher links under each question of a finished attempt.
    grader = finished and world.has_capability("mod/quiz:grade")
    questions = []
    rendered_unseen = []
    for qa in detail.questions:
        if page != -1 and qa.page != page:
            continue
        hidden_by_navigation = quiz.navmethod == "seq" and qa.page > attempt.currentpage and not finished
        if hidden_by_navigation and not profile.at_least(4, 2):
            continue
        ctx = RenderContext(
            markup=markup,
            wwwroot=call.wwwroot,
            qubaid=attempt.uniqueid,
            slot=qa.slot,
            number=qa.number or "",
            question_contextid=question_context,
            endcode=endcode,
            finished=finished,
            quiz_contextid=quiz.contextid,
            theme_revision=profile.theme_revision,
            attachments=qa.attachments,
            question_id=qa.question.id,
            attemptid=attempt.id,
            grader=grader,
        )
        html = ""
        if not hidden_by_navigation:
            html = render_question(qa, ctx, attemptid=attempt.id, history=quiz.review_history, decimals=decimals)
            html += endcode.finish_question()
        lastactiontime = qa.lastactiontime
        if profile.at_least(5, 0) and not qa.seen:
            # 5.0 stores first-render times lazily: -1 until the question is rendered, which this call does.
            lastactiontime = world.first_render.get((attempt.id, qa.slot), -1)
            rendered_unseen.append(qa.slot)
        entry: dict[str, Any] = {
            "slot": qa.slot,
            "type": "" if hidden_by_navigation else qa.question.type_name,
            "page": qa.page,
            "html": html,
            "sequencecheck": qa.sequencecheck,
            "lastactiontime": lastactiontime,
            "hasautosavedstep": False,
            "flagged": qa.flagged,
        }
        if profile.has_question_number:
            entry["questionnumber"] = qa.number or ""
        if qa.number and qa.number.isdigit():
            entry["number"] = int(qa.number)
        if not hidden_by_navigation:
            files = [
                {
                    "filename": stored.filename,
                    "filepath": stored.filepath,
                    "filesize": stored.filesize,
                    "fileurl": (
                        f"{call.wwwroot}/pluginfile.php/{stored.contextid}/question/response_attachments/"
                        f"{attempt.uniqueid}/{qa.slot}/{stored.itemid}/{quote(stored.filename)}?forcedownload=1"
                    ),
                    "timemodified": stored.timemodified,
                    "mimetype": stored.mimetype,
                }
                for stored in qa.attachments
            ]
            entry["responsefileareas"] = [{"area": "attachments", "files": files}] if files else []
            entry["settings"] = qa.question.settings()
        if not qa.question.info_item:
            entry.update(state=qa.state, stateclass=qa.stateclass, status=qa.status, blockedbyprevious=False)
        # Marks come with every slot, an information item's too ("" out of 0, as the recorded 4.5.6 site shows).
        entry.update(
            mark=format_number(qa.mark, decimals) if qa.mark is not None and finished else "",
            maxmark=qa.maxmark,
        )
        questions.append(entry)
    if rendered_unseen:
        with world.lock:
            for slot in rendered_unseen:
                world.first_render.setdefault((attempt.id, slot), world.now)
    grade = None
    if detail.sumgrades is not None:
        grade = detail.sumgrades * quiz.grade / quiz.sumgrades
    additionaldata = []
    if finished and grade is not None:
        text = _feedback_band(quiz, grade)
        if text:
            additionaldata.append({"id": "feedback", "title": "Feedback", "content": filter_text(text)})
    return {
        "grade": grade,
        "attempt": attempt_entry(call, quiz, attempt, legacy_states=False),
        "additionaldata": additionaldata,
        "questions": questions,
        "warnings": [],
    }


# --- grades and feedback -----------------------------------------------------------------------------------
def _best_params(profile: ReleaseProfile) -> Single:
    return single({"quizid": value(INT), "userid": value(INT, default=0)})


def _best_returns(profile: ReleaseProfile) -> Desc:
    return single(
        {
            "hasgrade": value(BOOL),
            "grade": value(FLOAT, opt=True),
            "gradetopass": value(FLOAT, opt=True),
            "warnings": warnings_desc(),
        }
    )


def get_user_best_grade(call: Call, params: dict[str, Any]) -> dict[str, Any]:
    """The user's final quiz grade from `quiz_grades`."""
    quiz = _quiz_or_fail(call, params["quizid"])
    userid = _user_or_fail(call, params["userid"] or call.userid)
    if userid != call.userid:
        call.require("mod/quiz:viewreports", "View quiz reports")
    best = call.world.best_grade(quiz, userid)
    result: dict[str, Any] = {"hasgrade": best is not None, "warnings": []}
    if best is not None:
        result["grade"] = best
    if quiz.gradepass:
        result["gradetopass"] = quiz.gradepass
    return result


def _feedback_params(profile: ReleaseProfile) -> Single:
    return single({"quizid": value(INT), "grade": value(FLOAT)})


def _feedback_returns(profile: ReleaseProfile) -> Desc:
    return single(
        {
            "feedbacktext": value(RAW),
            "feedbacktextformat": value(INT, opt=True),
            "feedbackinlinefiles": external_files(profile),
            "warnings": warnings_desc(),
        }
    )


def get_quiz_feedback_for_grade(call: Call, params: dict[str, Any]) -> dict[str, Any]:
    """The overall feedback text for a scaled grade (unfiltered unless `moodlewssettingfilter=1`)."""
    quiz = _quiz_or_fail(call, params["quizid"])
    text = _feedback_band(quiz, params["grade"])
    if not text:
        return {"feedbacktext": "", "feedbacktextformat": 0, "warnings": []}
    return {
        "feedbacktext": call.format_text(text, quiz.contextid, "mod_quiz", "feedback", None),
        "feedbacktextformat": 1,
        "warnings": [],
    }


FUNCTIONS = (
    ExternalFunction(
        "mod_quiz_get_quizzes_by_courses", "mod_quiz", _quizzes_params, _quizzes_returns, get_quizzes_by_courses
    ),
    ExternalFunction("mod_quiz_get_user_attempts", "mod_quiz", _attempts_params, _attempts_returns, get_user_attempts),
    ExternalFunction(
        "mod_quiz_get_user_quiz_attempts",
        "mod_quiz",
        _attempts_params,
        _attempts_returns,
        get_user_quiz_attempts,
        since=(5, 0),
    ),
    ExternalFunction("mod_quiz_get_attempt_review", "mod_quiz", _review_params, _review_returns, get_attempt_review),
    ExternalFunction("mod_quiz_get_user_best_grade", "mod_quiz", _best_params, _best_returns, get_user_best_grade),
    ExternalFunction(
        "mod_quiz_get_quiz_feedback_for_grade",
        "mod_quiz",
        _feedback_params,
        _feedback_returns,
        get_quiz_feedback_for_grade,
    ),
)
