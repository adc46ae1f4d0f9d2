"""Shared pieces for tests that run the quiz driver against the Moodle simulator.

Changing the seeded world (`add_attempt`, user names, attachments) is only safe before the simulator starts
serving and before the attempt's details are first generated.
"""

from __future__ import annotations

import dataclasses
import re
import subprocess
import zipfile
from pathlib import Path
from typing import Any

from archived.simulator.data.model import Attempt
from archived.simulator.simulator import MoodleSimulator

# A formula typeset by MathJax keeps its TeX only in the invisible text layer, without delimiters: a raw
# delimiter in the extracted text means a formula was not rendered.
RAW_TEX = re.compile(r"\\\(|\\\)|\\\[|\\\]|\$\$")


def pdf_text(path: Path) -> str:
    """The text layer of a PDF as `pdftotext -raw` (poppler) extracts it: in content order, table cells whole."""
    return subprocess.run(
        ["pdftotext", "-raw", "-enc", "UTF-8", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout


def squash(text: str) -> str:
    """Text reduced for phrase search in extracted PDF text.

    Whitespace goes (the layout breaks lines anywhere), and so do hyphens: pdftotext joins a word that wrapped
    at its hyphen ("Pussy-" / "cat" → "Pussycat").
    """
    return re.sub(r"[\s\-\u00ad]+", "", text)


def add_attempt(sim: MoodleSimulator, like: int, attempt_id: int, **changes: Any) -> Attempt:
    """Add a copy of attempt `like` under a new id (and question usage), with `changes` applied."""
    template = sim.world.attempts[like]
    plan = dataclasses.replace(template.plan, seed=f"{template.plan.seed}-copy-{attempt_id}")
    attempt = dataclasses.replace(
        template,
        id=attempt_id,
        uniqueid=attempt_id,
        step_base=10_000 + 100 * attempt_id,  # keep step ids apart from the seeded attempts'
        plan=plan,
        **changes,
    )
    with sim.world.lock:
        sim.world.add_attempt(attempt)
    return attempt


def write_token_file(folder: Path, sim: MoodleSimulator) -> Path:
    """The simulator's token in a file only the owner may read, as the daemon demands."""
    path = folder / "moodle-token"
    path.write_text(sim.token + "\n")
    path.chmod(0o600)
    return path


def moodle_overrides(folder: Path, sim: MoodleSimulator) -> dict[str, Any]:
    """`write_config` overrides that point a daemon at `sim` without request pacing."""
    return {
        "moodle.url": sim.url,
        "moodle.token_file": str(write_token_file(folder, sim)),
        "moodle.requests_per_second": 0,
        "moodle.max_concurrent_requests": 8,
    }


def archive_payload(archive: Path, target: Path) -> Path:
    """Unpack a stored archive into `target` and return its `data/` folder."""
    with zipfile.ZipFile(archive) as bag:
        bag.extractall(target)
        top = bag.namelist()[0].split("/")[0]
    return target / top / "data"
