"""The real daemon with one more durable event consumer, a journal file, for tests of event delivery across
crashes: `python -m tests.support.journal_daemon CONFIG JOURNAL HOLD_FILE`.

The journal appends one JSON line per event (id, kind, job id) and syncs it to disk before it returns, so the
file is what the consumer received. While HOLD_FILE exists it takes nothing: events stay pending in the outbox.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from archived.cli.daemon import setup_logging
from archived.config import load_config
from archived.daemon.server import Daemon
from archived.store.events import StoredEvent

CONSUMER_NAME = "test-journal"


class JournalConsumer:
    """Appends every event it is given to a file."""

    name = CONSUMER_NAME

    def __init__(self, path: Path, hold: Path) -> None:
        self.path = path
        self.hold = hold

    async def deliver(self, events: Sequence[StoredEvent]) -> None:
        """Wait while the hold file exists, then append and sync the events."""
        while self.hold.exists():  # noqa: ASYNC110 - the test outside this process holds it with a file
            await asyncio.sleep(0.02)
        lines = "".join(json.dumps({"id": e.id, "kind": e.kind, "job_id": e.job_id}) + "\n" for e in events)
        with self.path.open("a") as journal:
            journal.write(lines)
            journal.flush()
            os.fsync(journal.fileno())


def read_journal(path: Path) -> list[dict[str, object]]:
    """The events a journal received, in order."""
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines()]


def main() -> None:
    """Run the daemon until it is signalled (or killed)."""
    config_path, journal, hold = sys.argv[1:4]
    config = load_config(Path(config_path))
    setup_logging(config.daemon.log_level)
    consumer = JournalConsumer(Path(journal), Path(hold))
    asyncio.run(Daemon(config, event_consumers=[consumer]).run())


if __name__ == "__main__":
    main()
