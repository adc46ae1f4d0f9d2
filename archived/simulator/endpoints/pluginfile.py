"""`/webservice/pluginfile.php`: token-authenticated file downloads (contract §2.2).

The path comes from slash arguments or `?file=`; the token from `token`. Errors use the AJAX shape with HTTP
200, except a missing or refused file: HTTP 404 with errorcode `filenotfound`.
"""

from __future__ import annotations

import hashlib
import re
from urllib.parse import unquote

from archived.simulator.data.backups import AREAS as BACKUP_AREAS
from archived.simulator.data.backups import DOWNLOAD_CAPABILITY
from archived.simulator.data.documents import asset
from archived.simulator.data.world import CONTEXT_MODULE, World
from archived.simulator.endpoints.responses import EPOCH, NO_CACHE, ajax_error, cors_headers
from archived.simulator.exceptions import message_for
from archived.simulator.exchange import HttpRequest, HttpResponse, http_date
from archived.simulator.paramtypes import php_string
from archived.simulator.site import Site
from archived.simulator.storedfile import StoredFile

PREFIX = "/webservice/pluginfile.php"
BACKUP_COMPONENT = "backup"
# File areas that have no item id in their URLs.
_NO_ITEMID = {
    ("mod_quiz", "intro"),
    ("mod_assign", "intro"),
    ("mod_resource", "intro"),
    ("course", "overviewfiles"),
    ("course", "summary"),
    ("coursecat", "description"),
    ("mod_quiz", "feedback"),
    *((BACKUP_COMPONENT, area) for area in BACKUP_AREAS),
}
_ATTACHMENT_COMPONENTS = {"assignsubmission_file", "assignfeedback_file"}


def _course_image(world: World, contextid: int) -> StoredFile | None:
    info = world.contexts.get(contextid)
    if info is None or info.level != 50:
        return None
    svg = (
        '<svg xmlns="http://www.w3.org/2000/svg" width="400" height="200"><rect width="400" height="200" '
        f'fill="#{hashlib.sha1(str(contextid).encode()).hexdigest()[:6]}"/></svg>'
    ).encode()
    return StoredFile(contextid, "course", "generated", 0, "/", "course.svg", "image/svg+xml", 0, 0, source=svg)


def _question_file(world: World, contextid: int, component: str, filearea: str, args: list[str]) -> StoredFile | None:
    if len(args) < 4 or not all(part.isdigit() for part in args[:3]):
        return None
    qubaid, slot, itemid = (int(part) for part in args[:3])
    filename = args[-1]
    attempt = world.attempt_by_uniqueid(qubaid)
    if attempt is None:
        return None
    detail = world.detail(attempt)
    qa = next((q for q in detail.questions if q.slot == slot), None)
    if qa is None:
        return None
    if filearea == "response_attachments":
        for stored in qa.attachments:
            if stored.itemid == itemid and stored.filename == filename and stored.contextid == contextid:
                return stored
        return None
    question = qa.question
    assetname = question.file_for(component, filearea, itemid, filename)
    if assetname is None or question.contextid != contextid:
        return None
    quiz = world.quizzes[attempt.quiz]
    mimetype = "image/svg+xml" if filename.endswith(".svg") else "image/png"
    return StoredFile(
        contextid,
        component,
        filearea,
        itemid,
        "/",
        filename,
        mimetype,
        quiz.timecreated,
        quiz.timecreated,
        producer=lambda: asset(assetname),
    )


def resolve(world: World, relativepath: str) -> StoredFile | None:
    """The stored file a pluginfile path names, or None (`send_file_not_found`)."""
    parts = [unquote(part) for part in relativepath.strip("/").split("/")]
    if len(parts) < 4 or not parts[0].isdigit():
        return None
    contextid, component, filearea, args = int(parts[0]), parts[1], parts[2], parts[3:]
    if component == "question" or component.startswith("qtype_"):
        return _question_file(world, contextid, component, filearea, args)
    if (component, filearea) == ("course", "generated"):
        return _course_image(world, contextid) if args == ["course.svg"] else None
    if (component, filearea) in _NO_ITEMID:
        itemid, rest = 0, args
    else:
        if not args[0].isdigit() or len(args) < 2:
            return None
        itemid, rest = int(args[0]), args[1:]
        if component == "mod_resource" and filearea == "content":
            itemid = 0  # the number in resource URLs is a cache-busting revision
    filepath = "/" + "/".join(rest[:-1]) + ("/" if len(rest) > 1 else "")
    with world.lock:
        return world.files.get((contextid, component, filearea, itemid, filepath, rest[-1]))


def _range(header: str | None, size: int) -> tuple[int, int] | None:
    if not header:
        return None
    match = re.fullmatch(r"bytes=(\d*)-(\d*)", header.strip())
    if not match or (not match.group(1) and not match.group(2)):
        return None
    if match.group(1):
        start = int(match.group(1))
        end = int(match.group(2)) if match.group(2) else size - 1
    else:
        start, end = max(0, size - int(match.group(2))), size - 1
    if start >= size or end < start:
        return None
    return start, min(end, size - 1)


def _owner_departed(world: World, stored: StoredFile) -> bool:
    """A submitted file of a user no longer enrolled in the course: `can_view_submission` fails, Moodle sends 404."""
    if not stored.component.startswith("assignsubmission_") or stored.userid is None:
        return False
    with world.lock:
        context = world.contexts.get(stored.contextid)
        in_module = context is not None and context.level == CONTEXT_MODULE
        module = world.modules.get(context.instanceid) if in_module and context is not None else None
        return module is not None and stored.userid not in world.enrolments.get(module.course, {})


def handle_pluginfile(site: Site, request: HttpRequest) -> HttpResponse:
    """Serve one download."""
    profile, world = site.profile, site.world
    variables = request.form.merged()
    token = variables.get("token")
    if token is None:
        return ajax_error(profile, "missingparam", message_for("missingparam", "token"))
    token = re.sub(r"[^A-Za-z0-9]", "", php_string(token))
    with world.lock:
        record = world.tokens.get(token)
        expired = record is not None and bool(record.validuntil) and record.validuntil < world.now
        if expired:
            del world.tokens[token]
        downloads = world.service.downloadfiles
    if record is None:
        return ajax_error(profile, "invalidtoken", message_for("invalidtoken"))
    if expired or not downloads:
        return ajax_error(profile, "accessexception", message_for("accessexception"))
    relativepath = request.path[len(PREFIX) :] if request.path.startswith(PREFIX + "/") else ""
    if not relativepath and isinstance(variables.get("file"), str):
        relativepath = variables["file"]
    stored = resolve(world, relativepath) if relativepath else None
    if (
        stored is None
        or (stored.component == BACKUP_COMPONENT and not world.has_capability(DOWNLOAD_CAPABILITY))
        or _owner_departed(world, stored)
    ):
        return ajax_error(profile, "filenotfound", message_for("filenotfound"), status=404)
    content = stored.content
    disposition = "attachment" if stored.component in _ATTACHMENT_COMPONENTS else "inline"
    filename_header = f'{disposition}; filename="{stored.filename}"'
    headers = [
        *cors_headers(profile),
        ("Content-Disposition", filename_header),
        ("Cache-Control", NO_CACHE + ", no-transform"),
        ("Expires", EPOCH),
        ("Pragma", "no-cache"),
        ("Last-Modified", http_date(stored.timemodified)),
        ("Etag", '"' + hashlib.sha1(content).hexdigest() + '"'),
        ("Accept-Ranges", "bytes"),
    ]
    span = _range(request.headers.get("range"), len(content))
    if span is not None:
        start, end = span
        headers.append(("Content-Range", f"bytes {start}-{end}/{len(content)}"))
        headers.append(("Content-Type", stored.mimetype))
        return HttpResponse(206, content[start : end + 1], headers)
    headers.append(("Content-Type", stored.mimetype))
    return HttpResponse(200, content, headers)
