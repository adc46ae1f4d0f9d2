"""The function registry: every simulated function, and real Moodle names the simulator does not implement.

A name in `OTHER_MOODLE_FUNCTIONS` exists in Moodle but is in no service the archiver token can use, so a
call gets `accessexception`; a name in neither table gets `invalidrecord` (`external_functions` row missing).
"""

from __future__ import annotations

from archived.simulator.functions import (
    assign,
    assign_flags,
    comments,
    course,
    files,
    grading,
    quiz,
    users,
    webservice,
)
from archived.simulator.functions.base import ExternalFunction

FUNCTIONS: dict[str, ExternalFunction] = {
    function.name: function
    for module in (webservice, course, users, quiz, assign, assign_flags, grading, comments, files)
    for function in module.FUNCTIONS
}

OTHER_MOODLE_FUNCTIONS = frozenset(
    {
        "core_user_create_users",
        "core_user_update_users",
        "core_user_delete_users",
        "core_user_get_users",
        "core_course_create_courses",
        "core_course_delete_courses",
        "core_course_get_course_module",
        "core_course_search_courses",
        "core_enrol_get_users_courses",
        "core_files_upload",
        "core_files_get_unused_draft_itemid",
        "core_backup_get_async_backup_progress",
        "core_backup_get_async_backup_links_backup",
        "core_backup_get_async_backup_links_restore",
        "core_backup_get_copy_progress",
        "core_backup_submit_copy_form",
        "core_grades_get_gradeitems",
        "core_group_get_course_groups",
        "core_webservice_get_site_info_deprecated",
        "gradereport_user_get_grade_items",
        "mod_quiz_get_attempt_summary",
        "mod_quiz_get_attempt_data",
        "mod_quiz_start_attempt",
        "mod_quiz_process_attempt",
        "mod_quiz_view_attempt_review",
        "mod_quiz_get_combined_review_options",
        "mod_quiz_get_quiz_access_information",
        "mod_quiz_get_quiz_required_qtypes",
        "mod_quiz_view_quiz",
        "mod_assign_save_grade",
        "mod_assign_save_submission",
        "mod_assign_submit_for_grading",
        "mod_assign_get_participant",
        "mod_assign_view_assign",
        "mod_resource_get_resources_by_courses",
        "tool_mobile_get_config",
    }
)


def function_exists(name: str, release: tuple[int, int]) -> bool:
    """Whether Moodle of this release has an `external_functions` row named `name`."""
    function = FUNCTIONS.get(name)
    if function is not None:
        return release >= function.since
    return name in OTHER_MOODLE_FUNCTIONS
