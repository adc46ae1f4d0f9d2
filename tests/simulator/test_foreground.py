"""`run_simulator`: the foreground server behind `archived moodle simulate`."""

from __future__ import annotations

import re
import signal
import subprocess
import sys

import httpx

SCRIPT = (
    "from archived.simulator import run_simulator; "
    "run_simulator(port=0, seed=9, size='courses=1,students=3,attempts=1', release='5.0')"
)


def test_run_simulator_prints_url_and_token_and_stops_on_sigterm() -> None:
    """It prints where it listens and the token, serves requests, and exits cleanly on SIGTERM."""
    process = subprocess.Popen(
        [sys.executable, "-c", SCRIPT], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        assert process.stdout is not None
        first = process.stdout.readline()
        match = re.search(r"Moodle 5\.0 \(Build: 20250414\) simulator listening on (http://\S+)", first)
        assert match, first
        url = match.group(1)
        banner = "".join(process.stdout.readline() for _ in range(11))
        token = re.search(r"web-service token: ([0-9a-f]{32})", banner)
        assert token, banner
        answer = httpx.post(
            f"{url}/webservice/rest/server.php",
            data={
                "wstoken": token.group(1),
                "wsfunction": "core_webservice_get_site_info",
                "moodlewsrestformat": "json",
            },
        ).json()
        assert answer["release"] == "5.0 (Build: 20250414)" and answer["siteurl"] == url
        assert "export ARCHIVED_MOODLE_TOKEN=" + token.group(1) in banner
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0
