"""A Moodle web-service simulator: real HTTP on loopback, seeded data, release profiles and fault knobs.

from archived.simulator import MoodleSimulator

with MoodleSimulator(seed=1, release="4.5") as sim:
    client = ...(sim.url, sim.token)
    sim.faults.fail(503, function="mod_quiz_get_attempt_review", params={"attemptid": 7}, times=2)
    expected = sim.attempt_expectations(1)
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
