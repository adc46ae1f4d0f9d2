"""Release profiles: what differs between the Moodle 4.1, 4.5 and 5.0 web services the simulator imitates.

Every version-dependent behaviour of the simulator reads one of these flags, so a difference between releases
lives in exactly one place (contract §1.4, §3, §5 and the 4.5 → 5.0 notes of the recorded fixtures).
"""

from __future__ import annotations

from dataclasses import dataclass

# Exception classes that moved into `core\exception\` with 4.5 (MDL-81919); the others keep their global names.
_NAMESPACED_IN_45 = frozenset(
    {
        "moodle_exception",
        "invalid_parameter_exception",
        "required_capability_exception",
        "require_login_exception",
        "coding_exception",
        "invalid_response_exception",
    }
)

# The functions of the recorded "Archiver service", in the order each site listed them in get_site_info.
_FUNCTIONS_4X = (
    "core_course_get_categories",
    "core_course_get_contents",
    "core_course_get_courses",
    "core_course_get_courses_by_field",
    "core_enrol_get_enrolled_users",
    "core_files_get_files",
    "core_user_get_users_by_field",
    "core_webservice_get_site_info",
    "mod_assign_get_grades",
    "mod_assign_get_assignments",
    "mod_assign_get_submissions",
    "mod_assign_get_submission_status",
    "mod_assign_list_participants",
    "mod_quiz_get_quizzes_by_courses",
    "mod_quiz_get_user_attempts",
    "mod_quiz_get_user_best_grade",
    "mod_quiz_get_attempt_review",
    "mod_quiz_get_quiz_feedback_for_grade",
)
_FUNCTIONS_50 = (
    "core_webservice_get_site_info",
    "core_course_get_categories",
    "core_course_get_courses",
    "core_course_get_courses_by_field",
    "core_course_get_contents",
    "core_enrol_get_enrolled_users",
    "core_user_get_users_by_field",
    "mod_quiz_get_quizzes_by_courses",
    "mod_quiz_get_user_attempts",
    "mod_quiz_get_user_quiz_attempts",
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


@dataclass(frozen=True)
class ReleaseProfile:
    """One Moodle release as seen through its web services."""

    name: str
    release: str
    version: str
    plugin_version: str
    site_suffix: str
    # The recorded sites were populated at these Unix times; every seeded timestamp is relative to it.
    population_time: int
    theme_revision: int
    service_functions: tuple[str, ...]

    @property
    def numeric(self) -> tuple[int, int]:
        """The release as a comparable (major, minor) tuple."""
        major, minor = self.name.split(".")
        return int(major), int(minor)

    def at_least(self, major: int, minor: int) -> bool:
        """True when this release is `major.minor` or newer."""
        return self.numeric >= (major, minor)

    # --- exceptions -------------------------------------------------------------------------------------
    def exception_class(self, base: str) -> str:
        """The `exception` value a base class name (e.g. `moodle_exception`) shows in this release."""
        if base == "moodle_quiz_exception":
            # Deprecated in 4.2: from then on the quiz code throws plain moodle_exception.
            if not self.at_least(4, 2):
                return base
            base = "moodle_exception"
        if base == "restricted_context_exception" and self.at_least(4, 2):
            return "core_external\\restricted_context_exception"
        if base in _NAMESPACED_IN_45 and self.at_least(4, 5):
            return "core\\exception\\" + base
        return base

    @property
    def missing_record_hides_table(self) -> bool:
        """5.0 drops the table name (errorcode `invalidrecordunknown`) unless debugging is on."""
        return self.at_least(5, 0)

    # --- functions and return structures ----------------------------------------------------------------
    @property
    def has_user_quiz_attempts(self) -> bool:
        """`mod_quiz_get_user_quiz_attempts` exists only from 5.0."""
        return self.at_least(5, 0)

    @property
    def has_question_number(self) -> bool:
        """Question structure has `questionnumber` (4.2+) and `stateclass` (4.4+)."""
        return self.at_least(4, 2)

    @property
    def has_grade_items(self) -> bool:
        """Attempts carry `gradeitemmarks` (4.4+)."""
        return self.at_least(4, 4)

    @property
    def has_gradepenalty(self) -> bool:
        """Assignments carry `gradepenalty` (5.0+)."""
        return self.at_least(5, 0)

    @property
    def modern_course_fields(self) -> bool:
        """Fields added between 4.2 and 4.5: courseimage, module purpose/branded/groupmode, section component."""
        return self.at_least(4, 5)

    @property
    def qbank_module_context(self) -> bool:
        """5.0 keeps questions in `mod_qbank` module contexts instead of the course context."""
        return self.at_least(5, 0)

    # --- question HTML ----------------------------------------------------------------------------------
    @property
    def bootstrap5(self) -> bool:
        """5.0 uses Bootstrap 5 class names (`visually-hidden`, `fw-normal`, `form-select`, `data-bs-*`)."""
        return self.at_least(5, 0)

    @property
    def fieldset_answers(self) -> bool:
        """4.5+ render choice answers in a `<fieldset>`/`<legend>`; 4.1 uses a `div.prompt`."""
        return self.at_least(4, 5)

    @property
    def qtext_clearfix(self) -> bool:
        """4.5 wraps texts in an inner `<div class="clearfix">`; 4.1 and 5.0 do not."""
        return self.at_least(4, 5) and not self.at_least(5, 0)

    @property
    def fontawesome6(self) -> bool:
        """4.4+ use FontAwesome 6 icon classes."""
        return self.at_least(4, 4)

    @property
    def mathjax3(self) -> bool:
        """5.0 loads MathJax 3 instead of MathJax 2."""
        return self.at_least(5, 0)

    @property
    def pluginfile_range_headers(self) -> bool:
        """pluginfile sends the CORS range headers (added after 4.1)."""
        return self.at_least(4, 5)


PROFILES: dict[str, ReleaseProfile] = {
    "4.1": ReleaseProfile(
        name="4.1",
        release="4.1.1+ (Build: 20230303)",
        version="2022112801.07",
        plugin_version="2022112800",
        site_suffix="41",
        population_time=1795848364,
        theme_revision=1795847822,
        service_functions=_FUNCTIONS_4X,
    ),
    "4.5": ReleaseProfile(
        name="4.5",
        release="4.5.5+ (Build: 20250613)",
        version="2024100705.01",
        plugin_version="2024100700",
        site_suffix="45",
        population_time=1795848364,
        theme_revision=1795847822,
        service_functions=_FUNCTIONS_4X,
    ),
    "5.0": ReleaseProfile(
        name="5.0",
        release="5.0 (Build: 20250414)",
        version="2025041400",
        plugin_version="2025041400",
        site_suffix="50",
        population_time=1795851067,
        theme_revision=1795851115,
        service_functions=_FUNCTIONS_50,
    ),
}


def get_profile(release: str) -> ReleaseProfile:
    """The profile for `release` ("4.1", "4.5" or "5.0"); raises ValueError naming the accepted values."""
    try:
        return PROFILES[release]
    except KeyError:
        raise ValueError(f"unknown Moodle release {release!r}; expected one of {', '.join(PROFILES)}") from None
