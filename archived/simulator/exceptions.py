"""Moodle's exceptions as the web-service layer reports them (contract §1.4, §1.5, §2.1).

A `MoodleError` carries the *base* class name (e.g. `invalid_parameter_exception`); the release profile turns
it into the name that release prints (`core\\exception\\invalid_parameter_exception` on 4.5+).
"""

from __future__ import annotations

from typing import Any

# Localised messages (lang/en) of the error codes the simulator raises.
MESSAGES: dict[str, str] = {
    "invalidtoken": "Invalid token - token not found",
    "accessexception": "Access control exception",
    "invalidparameter": "Invalid parameter value detected",
    "invalidresponse": "Invalid response value detected",
    "invalidrecord": "Can't find data record in database table {a}.",
    "invalidrecordunknown": "Can't find data record in database.",
    "invaliduser": "Invalid user",
    "invalidcoursemodule": "Invalid course module ID",
    "invalidcourseid": "You are trying to use an invalid course ID",
    "codingerror": "Coding error detected, it must be fixed by a programmer: {a}",
    "nopermissions": "Sorry, but you do not currently have permissions to do that ({a}).",
    "nopermission": "error/nopermission",
    "requireloginerror": "Course or activity not accessible.",
    "sitemaintenance": "The site is undergoing maintenance and is currently not available",
    "invaliduserfield": "Invalid user field: {a}",
    "errorinvalidparam": 'The param "{a}" is invalid.',
    "criteriaerror": "Missing permissions to search on a criterion.",
    "noreviewattempt": "You are not allowed to review this attempt.",
    "attemptclosed": "Attempt has not closed yet",
    "filenotfound": "Sorry, the requested file could not be found",
    "invalidlogin": "Invalid login, please try again",
    "servicenotavailable": "Web service is not available (it doesn't exist or might be disabled)",
    "missingparam": "A required parameter ({a}) was missing",
    "dmlreadexception": "Error reading from database",
    "notingroup": "Sorry, but you need to be part of a group to see this page.",
}


def message_for(errorcode: str, a: str | None = None) -> str:
    """The English message of `errorcode`, with `{a}` filled in (Moodle's get_string fallback otherwise)."""
    template = MESSAGES.get(errorcode, "error/" + errorcode)
    return template.replace("{a}", a or "")


class MoodleError(Exception):
    """An exception a Moodle web-service call ends with; rendered as the REST or AJAX error shape."""

    def __init__(
        self,
        errorcode: str,
        *,
        base: str = "moodle_exception",
        message: str | None = None,
        a: str | None = None,
        debuginfo: str | None = None,
    ) -> None:
        self.errorcode = errorcode
        self.base = base
        self.message = message if message is not None else message_for(errorcode, a)
        self.debuginfo = debuginfo
        super().__init__(f"{errorcode}: {self.message}")


def invalid_parameter(debuginfo: str) -> MoodleError:
    """`invalid_parameter_exception` with its debug information (what exactly was wrong)."""
    return MoodleError("invalidparameter", base="invalid_parameter_exception", debuginfo=debuginfo)


def invalid_response(debuginfo: str) -> MoodleError:
    """`invalid_response_exception`: the simulator built a return value its description rejects (a bug)."""
    return MoodleError("invalidresponse", base="invalid_response_exception", debuginfo=debuginfo)


def access_exception(debuginfo: str) -> MoodleError:
    """`webservice_access_exception`; the reason is only in the debug information."""
    return MoodleError("accessexception", base="webservice_access_exception", debuginfo=debuginfo)


def php_var_export(params: list[Any]) -> str:
    """PHP `var_export()` of a list, as dml exceptions print their SQL parameters."""
    lines = ["array ("]
    for index, value in enumerate(params):
        rendered = "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'" if isinstance(value, str) else str(value)
        lines.append(f"  {index} => {rendered},")
    lines.append(")")
    return "\n".join(lines)


class MissingRecord(MoodleError):
    """`dml_missing_record_exception`; the error code depends on the table, the SQL and (5.0) debugging."""

    def __init__(self, table: str, sql: str, params: list[Any]) -> None:
        self.table = table
        self.sql = sql
        self.params = params
        debuginfo = f"{sql}\n[{php_var_export(params)}]"
        super().__init__(
            self.code_for(table),
            base="dml_missing_record_exception",
            a=table,
            debuginfo=debuginfo,
        )

    @staticmethod
    def code_for(table: str | None) -> str:
        """The errorcode Moodle picks for a missing row of `table` (None = table hidden)."""
        if table is None:
            return "invalidrecordunknown"
        return {"course_modules": "invalidcoursemodule", "user": "invaliduser"}.get(table, "invalidrecord")

    def hide_table(self) -> None:
        """Moodle 5.0 without debugging: the table name (and so the specific code) is not revealed."""
        self.errorcode = "invalidrecordunknown"
        self.message = message_for("invalidrecordunknown")


def missing_row(table: str, rowid: int | str, *, extra: str = "") -> MissingRecord:
    """The missing-record error of `SELECT * FROM {table} WHERE id = ?` (plus an optional condition)."""
    sql = f"SELECT * FROM {{{table}}} WHERE id = ?{extra}"
    params: list[Any] = [rowid]
    if extra:
        params.append(0)
    return MissingRecord(table, sql, params)
