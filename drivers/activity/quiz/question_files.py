"""Files of a quiz's questions (images in question texts, feedback, hints) kept for the attempts of one job.

Moodle serves a question's file under a URL that names the attempt's question usage and slot —
`pluginfile.php/<context>/question/questiontext/<usage>/<slot>/<question>/<file>` — so every attempt asks
for the same picture under a new address. The usage and slot only decide who may see it; the file itself is
the one stored for (context, component, file area, question or answer id, path). Keyed on those, a job
downloads each picture once instead of once per attempt: hundreds of requests fewer for Moodle in exam time.

Only question files are kept this way (component `question` or a `qtype_…` plugin); students' own files
(`response_…` file areas) and anything else are fetched every time. The memory is bounded (least recently
used out first).
"""

from __future__ import annotations

from collections import OrderedDict
from urllib.parse import unquote, urlsplit

from archived.drivers.worker.render_task import Resource

DEFAULT_MAX_BYTES = 16 * 1024 * 1024

FileKey = tuple[str, str, str, str, str]


def question_file_key(url: str) -> FileKey | None:
    """(context, component, file area, item id, path) of a question file URL; None for anything else."""
    path = urlsplit(url).path
    marker = "pluginfile.php/"
    at = path.find(marker)
    if at < 0:
        return None
    parts = [unquote(p) for p in path[at + len(marker) :].split("/")]
    # context, component, file area, usage, slot, item id, file path (one or more parts)
    if len(parts) < 7 or not all(p.isdigit() for p in (parts[0], parts[3], parts[4], parts[5])):
        return None
    context, component, area = parts[0], parts[1], parts[2]
    if not (component == "question" or component.startswith("qtype_")) or area.startswith("response_"):
        return None
    return context, component, area, parts[5], "/".join(parts[6:])


class QuestionFiles:
    """Question files of one job by `question_file_key`, at most `max_bytes` of them."""

    def __init__(self, max_bytes: int = DEFAULT_MAX_BYTES) -> None:
        self.max_bytes = max_bytes
        self._items: OrderedDict[FileKey, Resource] = OrderedDict()
        self._bytes = 0
        self.hits = 0

    def get(self, url: str) -> Resource | None:
        """The file behind `url` if an earlier attempt fetched it."""
        key = question_file_key(url)
        found = self._items.get(key) if key is not None else None
        if found is not None and key is not None:
            self._items.move_to_end(key)
            self.hits += 1
        return found

    def put(self, url: str, resource: Resource) -> None:
        """Keep a fetched file if it is a question file and fits."""
        key = question_file_key(url)
        if key is None or key in self._items or len(resource.data) > self.max_bytes // 4:
            return
        self._items[key] = resource
        self._bytes += len(resource.data)
        while self._bytes > self.max_bytes:
            _, dropped = self._items.popitem(last=False)
            self._bytes -= len(dropped.data)
