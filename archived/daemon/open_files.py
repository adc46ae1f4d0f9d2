"""The daemon's open-file budget: jobs and socket connections share one RLIMIT_NOFILE."""

from __future__ import annotations

import logging
import os
import resource

log = logging.getLogger("archived.daemon")

# When the hard limit is "unlimited", Linux still refuses more than fs.nr_open (1,048,576 by default).
_UNLIMITED_TARGET = 1_048_576


def raise_open_file_limit() -> int | None:
    """Raise the soft RLIMIT_NOFILE to the hard limit (systemd's default soft limit is only 1,024).

    Returns the soft limit in force afterwards, or None if it cannot be read.
    """
    try:
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    except (OSError, ValueError):
        return None
    target = _UNLIMITED_TARGET if hard == resource.RLIM_INFINITY else hard
    if soft != resource.RLIM_INFINITY and soft < target:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
            soft = target
        except (OSError, ValueError) as exc:
            log.warning("could not raise the open-file limit from %d to %d: %s", soft, target, exc)
    return None if soft == resource.RLIM_INFINITY else soft


def open_file_count() -> int:
    """File descriptors this process has open now (0 where the system does not tell)."""
    try:
        return len(os.listdir("/proc/self/fd"))
    except OSError:
        return 0
