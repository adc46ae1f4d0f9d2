"""`/webservice/upload.php`: multipart uploads into the token user's draft area (contract §2.3)."""

from __future__ import annotations

import re
from typing import Any

from archived.simulator.endpoints.responses import ajax_error, json_response
from archived.simulator.exceptions import message_for
from archived.simulator.exchange import HttpRequest, HttpResponse
from archived.simulator.paramtypes import php_string
from archived.simulator.site import Site
from archived.simulator.storedfile import StoredFile


def handle_upload(site: Site, request: HttpRequest) -> HttpResponse:
    """Store each uploaded file and answer with one record (or error item) per file, in `$_FILES` order."""
    profile, world = site.profile, site.world
    form = request.form
    variables = form.merged()
    if "token" not in variables:
        return ajax_error(profile, "missingparam", message_for("missingparam", "token"), cors=False)
    token = re.sub(r"[^A-Za-z0-9]", "", php_string(variables["token"]))
    with world.lock:
        record = world.tokens.get(token)
        uploads = world.service.uploadfiles
    if record is None:
        return ajax_error(profile, "invalidtoken", message_for("invalidtoken"), cors=False)
    if not uploads:
        return ajax_error(profile, "accessexception", message_for("accessexception"), cors=False)
    if not form.files:
        return ajax_error(profile, "nofile", "No file uploaded", cors=False)
    filepath = php_string(variables.get("filepath", "/")) or "/"
    itemid_raw = php_string(variables.get("itemid", "0"))
    itemid = int(itemid_raw) if itemid_raw.isdigit() and int(itemid_raw) > 0 else world.next_draft_itemid()
    user = world.users[record.userid]
    answers: list[dict[str, Any]] = []
    for upload in form.files:
        key = (user.contextid, "user", "draft", itemid, filepath, upload.filename)
        with world.lock:
            exists = key in world.files
            if not exists:
                world.files[key] = StoredFile(
                    user.contextid,
                    "user",
                    "draft",
                    itemid,
                    filepath,
                    upload.filename,
                    upload.content_type or "application/octet-stream",
                    world.now,
                    world.now,
                    source=upload.content,
                    author=user.fullname,
                    license="unknown",
                    userid=user.id,
                )
        if exists:
            answers.append(
                {
                    "filename": upload.filename,
                    "filepath": filepath,
                    "size": len(upload.content),
                    "errortype": "filenameexist",
                    "error": f"A file with that name has already been attached: {upload.filename}",
                }
            )
            continue
        entry: dict[str, Any] = {
            "component": "user",
            "contextid": user.contextid,
            "userid": str(user.id),
            "filearea": "draft",
            "filename": upload.filename,
            "filepath": filepath,
            "itemid": itemid,
            "license": "unknown",
            "author": user.fullname,
            "source": f'O:8:"stdClass":1:{{s:6:"source";s:{len(upload.filename.encode())}:"{upload.filename}";}}',
        }
        if profile.at_least(4, 2):
            entry["filesize"] = len(upload.content)
        answers.append(entry)
    return json_response(answers)
