"""Exit codes of the `archived` command, documented in README.md."""

from enum import IntEnum


class ExitCode(IntEnum):
    """Stable process exit codes; scripts may rely on them."""

    OK = 0
    FAILURE = 1  # the operation ran and failed (a verify found defects, a job ended failed, …)
    USAGE = 2  # bad command line or configuration
    UNREACHABLE = 3  # the daemon (or Moodle) could not be reached
    NOT_FOUND = 4  # no such job, course, target
    PERMISSION_DENIED = 5  # the daemon refused a mutating call for this user
    REFUSED = 6  # the daemon refused the request (invalid state, invalid setting, shutting down)
    INCOMPATIBLE = 7  # protocol version mismatch between client and daemon
