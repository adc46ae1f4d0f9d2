"""Build the seeded world: the recorded site, plus generated courses when a size asks for them."""

from __future__ import annotations

from archived.simulator.data.assignments import add_assignment_showcase
from archived.simulator.data.generated import IdCounters, add_generated_courses
from archived.simulator.data.livequiz import add_live_quiz
from archived.simulator.data.realquiz import add_real_attempt_quiz
from archived.simulator.data.recorded import build_recorded_world
from archived.simulator.data.world import World
from archived.simulator.profiles import ReleaseProfile
from archived.simulator.size import SimulatorSize


def build_world(profile: ReleaseProfile, seed: int, token: str, size: SimulatorSize | None = None) -> World:
    """The world of one simulator: deterministic for (profile, seed, size)."""
    size = size or SimulatorSize()
    world = build_recorded_world(profile, seed, token)
    ids = IdCounters()
    add_generated_courses(world, size, ids)
    if size.realquiz:
        add_real_attempt_quiz(world, ids)
    if size.livequiz:
        add_live_quiz(world, ids)
    if size.assignments:
        add_assignment_showcase(world, ids)
    return world
