"""pluginfile.php, token.php and upload.php."""

from __future__ import annotations

import re

import httpx
import pytest

from archived.simulator import MoodleSimulator
from tests.simulator.rest import call

PNG = b"\x89PNG\r\n\x1a\n"


def _pluginfile(sim: MoodleSimulator, path: str) -> str:
    return f"{sim.url}/webservice/pluginfile.php{path}"


def test_question_image_in_course_context_on_45(sim: MoodleSimulator, client: httpx.Client) -> None:
    """The image URL in the review HTML, rewritten to webservice/pluginfile with the token, downloads the PNG."""
    html = call(sim, client, "mod_quiz_get_attempt_review", attemptid=1).json()["questions"][5]["html"]
    url = re.search(r'<img src="([^"]+triangle%20diagram.png)"', html)
    assert url is not None
    assert "/pluginfile.php/13/question/questiontext/1/6/6/" in url.group(1)
    download = client.get(
        url.group(1).replace("/pluginfile.php/", "/webservice/pluginfile.php/"), params={"token": sim.token}
    )
    assert download.status_code == 200
    assert download.content.startswith(PNG)
    assert download.headers["content-disposition"] == 'inline; filename="triangle diagram.png"'


def test_question_image_in_qbank_context_on_50(client: httpx.Client) -> None:
    """5.0 keeps questions in the mod_qbank module context 29."""
    with MoodleSimulator(release="5.0") as sim:
        html = call(sim, client, "mod_quiz_get_attempt_review", attemptid=2).json()["questions"][5]["html"]
        assert "/pluginfile.php/29/question/questiontext/2/6/6/triangle%20diagram.png" in html
        response = client.get(
            _pluginfile(sim, "/29/question/questiontext/2/6/6/triangle%20diagram.png"), params={"token": sim.token}
        )
        assert response.content.startswith(PNG)
        assert (
            client.get(
                _pluginfile(sim, "/13/question/questiontext/2/6/6/triangle%20diagram.png"), params={"token": sim.token}
            ).status_code
            == 404
        )


def test_essay_attachment_from_review(sim: MoodleSimulator, client: httpx.Client) -> None:
    """`responsefileareas[].files[].fileurl` (web form) downloads after rewriting, same bytes as the list says."""
    essay = call(sim, client, "mod_quiz_get_attempt_review", attemptid=1).json()["questions"][10]
    file = essay["responsefileareas"][0]["files"][0]
    assert file["fileurl"].endswith(
        "/pluginfile.php/26/question/response_attachments/1/11/22/Induktion_Skizze.pdf?forcedownload=1"
    )
    url = file["fileurl"].replace("/pluginfile.php/", "/webservice/pluginfile.php/") + "&token=" + sim.token
    download = client.get(url)
    assert download.status_code == 200
    assert len(download.content) == file["filesize"] == 695


def test_file_argument_form_and_ranges(sim: MoodleSimulator, client: httpx.Client) -> None:
    """`?file=/ctx/...` works like slash arguments; Range requests get 206 with Content-Range."""
    path = "/27/assignsubmission_file/submission_files/1/Laborbericht_M%C3%BCller.pdf"
    whole = client.get(_pluginfile(sim, path), params={"token": sim.token})
    by_query = client.get(
        f"{sim.url}/webservice/pluginfile.php",
        params={"file": "/27/assignsubmission_file/submission_files/1/Laborbericht_Müller.pdf", "token": sim.token},
    )
    assert whole.content == by_query.content and len(whole.content) == 686
    raw = {name.lower(): value for name, value in whole.headers.raw}
    assert raw[b"content-disposition"] == 'attachment; filename="Laborbericht_Müller.pdf"'.encode()
    part = client.get(_pluginfile(sim, path), params={"token": sim.token}, headers={"Range": "bytes=0-7"})
    assert part.status_code == 206
    assert part.content == b"%PDF-1.4"
    assert part.headers["content-range"] == "bytes 0-7/686"


@pytest.mark.parametrize(
    ("params", "status", "errorcode"),
    [
        ({}, 200, "missingparam"),
        ({"token": "0" * 32}, 200, "invalidtoken"),
        ({"token": "TOKEN"}, 404, "filenotfound"),
    ],
)
def test_pluginfile_errors(
    sim: MoodleSimulator, client: httpx.Client, params: dict[str, str], status: int, errorcode: str
) -> None:
    """AJAX error shape; only a missing file is HTTP 404."""
    params = {k: (sim.token if v == "TOKEN" else v) for k, v in params.items()}
    response = client.get(_pluginfile(sim, "/25/mod_resource/content/0/nothing.pdf"), params=params)
    assert response.status_code == status
    body = response.json()
    assert list(body) == ["error", "errorcode", "stacktrace", "debuginfo", "reproductionlink"]
    assert body["errorcode"] == errorcode


def test_downloads_disabled_in_service(sim: MoodleSimulator, client: httpx.Client) -> None:
    """A service without "Can download files" refuses every download with accessexception."""
    sim.world.service.downloadfiles = False
    response = client.get(
        _pluginfile(sim, "/25/mod_resource/content/0/Exam%20regulations%20WS2026.pdf"), params={"token": sim.token}
    )
    assert response.json()["errorcode"] == "accessexception"
    assert call(sim, client, "core_webservice_get_site_info").json()["downloadfiles"] == 0


def test_pluginfile_headers_on_41(client: httpx.Client) -> None:
    """4.1 sends only Access-Control-Allow-Origin (no range headers)."""
    with MoodleSimulator(release="4.1") as sim:
        response = client.get(
            _pluginfile(sim, "/25/mod_resource/content/0/Exam%20regulations%20WS2026.pdf"), params={"token": sim.token}
        )
        assert response.headers["access-control-allow-origin"] == "*"
        assert "access-control-allow-headers" not in response.headers


def test_token_endpoint(sim: MoodleSimulator, client: httpx.Client) -> None:
    """The archiver's existing token for the right password and service; AJAX errors otherwise."""
    url = f"{sim.url}/login/token.php"
    ok = client.post(url, data={"username": "Archiver ", "password": sim.password, "service": "archiver_service"})
    assert ok.json() == {"token": sim.token, "privatetoken": None}
    wrong = client.post(url, data={"username": "archiver", "password": "nope", "service": "archiver_service"})
    assert wrong.json()["errorcode"] == "invalidlogin"
    other = client.post(url, data={"username": "archiver", "password": sim.password, "service": "moodle_mobile_app"})
    assert other.json()["errorcode"] == "servicenotavailable"
    assert client.get(url, params={"appsitecheck": 1}).json() == {"appsitecheck": "ok"}


def test_token_endpoint_creates_a_new_token_after_revocation(sim: MoodleSimulator, client: httpx.Client) -> None:
    """With the old token gone, token.php creates a working new one."""
    sim.faults.revoke_token()
    fresh = client.post(
        f"{sim.url}/login/token.php",
        data={"username": "archiver", "password": sim.password, "service": "archiver_service"},
    ).json()
    assert re.fullmatch(r"[0-9a-f]{32}", fresh["token"]) and fresh["token"] != sim.token
    assert call(sim, client, "core_webservice_get_site_info", token=fresh["token"]).json()["userid"] == 12


def test_upload_into_draft_area(sim: MoodleSimulator, client: httpx.Client) -> None:
    """Files land in the user's draft area; the answer lists them; a second identical name is an error item."""
    url = f"{sim.url}/webservice/upload.php"
    first = client.post(
        url, data={"token": sim.token}, files={"file_1": ("report.pdf", b"%PDF-1.4 x", "application/pdf")}
    )
    [record] = first.json()
    assert record["component"] == "user" and record["filearea"] == "draft" and record["userid"] == "12"
    assert record["filesize"] == 10
    again = client.post(
        url,
        data={"token": sim.token, "itemid": str(record["itemid"])},
        files={"file_1": ("report.pdf", b"other", "application/pdf")},
    )
    assert again.json()[0]["errortype"] == "filenameexist"
    download = client.get(
        _pluginfile(sim, f"/{record['contextid']}/user/draft/{record['itemid']}/report.pdf"),
        params={"token": sim.token},
    )
    assert download.content == b"%PDF-1.4 x"
    refused = client.post(url, data={"token": "0" * 32}, files={"f": ("a.txt", b"a", "text/plain")})
    assert refused.json()["errorcode"] == "invalidtoken"


def test_unknown_paths_are_404(sim: MoodleSimulator, client: httpx.Client) -> None:
    """Anything that is not a simulated Moodle script."""
    assert client.get(f"{sim.url}/admin/index.php").status_code == 404


def test_theme_images_are_public(sim: MoodleSimulator, client: httpx.Client) -> None:
    """Icons referenced by question HTML (file types, user pictures) resolve without a token."""
    html = call(sim, client, "mod_quiz_get_attempt_review", attemptid=1).json()["questions"][10]["html"]
    icon = re.search(r'src="([^"]+/theme/image\.php/boost/core/\d+/f/pdf)"', html)
    assert icon is not None
    response = client.get(icon.group(1))
    assert response.status_code == 200
    assert response.headers["content-type"] == "image/svg+xml"
    assert client.get(f"{sim.url}/theme/image.php/boost").status_code == 404
