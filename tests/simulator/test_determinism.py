"""Same seed, same bytes: the seeded world and every answer are reproducible."""

from __future__ import annotations

import httpx

from archived.simulator import MoodleSimulator, SimulatorSize
from tests.simulator.rest import call

CALLS: list[tuple[str, dict[str, object]]] = [
    ("core_webservice_get_site_info", {}),
    ("core_enrol_get_enrolled_users", {"courseid": 2}),
    ("mod_quiz_get_user_attempts", {"quizid": 1, "userid": 5, "status": "all"}),
    ("mod_assign_get_submissions", {"assignmentids": [1]}),
    *[("mod_quiz_get_attempt_review", {"attemptid": attemptid}) for attemptid in range(1, 14)],
]


def _answers(seed: int, size: SimulatorSize | None = None, extra: list[int] | None = None) -> list[str]:
    with MoodleSimulator(seed=seed, size=size) as sim, httpx.Client(timeout=30) as client:
        calls = CALLS + [("mod_quiz_get_attempt_review", {"attemptid": a}) for a in (extra or [])]
        bodies = [call(sim, client, name, **params).text for name, params in calls]
        return [body.replace(sim.url.replace("/", "\\/"), "URL").replace(sim.token, "TOKEN") for body in bodies]


def test_same_seed_same_bytes() -> None:
    """Two simulators with the same seed answer byte for byte the same (ports and tokens aside)."""
    assert _answers(3) == _answers(3)


def test_other_seed_other_responses() -> None:
    """The seed drives the generated responses: reviews of seeded attempts differ."""
    first, second = _answers(3), _answers(4)
    review_of_attempt_3 = len(CALLS) - 13 + 2
    assert first[review_of_attempt_3] != second[review_of_attempt_3]


def test_generated_worlds_are_reproducible() -> None:
    """Generated courses, users and attempts are the same for the same seed and size."""
    size = SimulatorSize(courses=2, students=6, attempts_per_student=2)
    assert _answers(5, size, extra=[15, 20, 33]) == _answers(5, size, extra=[15, 20, 33])
