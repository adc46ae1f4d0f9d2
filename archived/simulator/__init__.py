"""A Moodle web-service simulator: real HTTP on loopback, seeded data, release profiles and fault knobs.

    from archived.simulator import MoodleSimulator, SimulatorSize

    with MoodleSimulator(seed=1, release="4.5") as sim:       # also "4.1" and "5.0"
        client = ...(sim.url, sim.token)                       # siteurl and the archiver's token
        sim.faults.fail(503, function="mod_quiz_get_attempt_review", params={"attemptid": 7}, times=2)
        expected = sim.attempt_expectations(1)                 # texts a report of attempt 1 must show
        assert sim.request_count("mod_quiz_get_attempt_review") == ...

Endpoints: `/webservice/rest/server.php`, `/webservice/pluginfile.php`, `/login/token.php`,
`/webservice/upload.php`, `/theme/image.php/...` and the control API `/_simulator/...` (endpoints/control.py).

The default world is the recorded site of `shared/fixtures/moodle-4.5` (ids as recorded): courses 2 "Exam
WS2026" (A), 3 "Linear Algebra I" (B), 4 "Empty Course" (C); quiz 1 (cmid 2, course 2, 11 slots, attempts
1–10; 10 is in progress, 5 and 7 have an ungraded essay); quiz 2 (cmid 4, course 3, attempts 11–13; on 5.0 also
attempt 14 `notstarted`); assignment 1 (cmid 3); resource cmid 1; students 3–10, teacher 11, service user 12.
`SimulatorSize` adds generated courses (category 4) and optionally a quiz replayed from a real attempt page.
"""

from archived.simulator.data.expectations import AttemptExpectations, SlotExpectation
from archived.simulator.faults import FaultRule, Faults
from archived.simulator.simulator import MoodleSimulator, run_simulator
from archived.simulator.size import SimulatorSize

__all__ = [
    "AttemptExpectations",
    "FaultRule",
    "Faults",
    "MoodleSimulator",
    "SimulatorSize",
    "SlotExpectation",
    "run_simulator",
]
