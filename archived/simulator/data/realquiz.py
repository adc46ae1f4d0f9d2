"""The optional "real attempt" quiz: 16 questions replayed from a recorded Moodle 4.4 review page.

It adds a course with three students, each with one finished attempt whose question HTML is the recorded
one (usage ids, URLs and contexts rewritten), so an archiving run meets description, calculated,
calculatedmulti, gapselect, ddimageortext and ddmarker questions and their images served via pluginfile.
"""

from __future__ import annotations

import random

from archived.simulator.data.generated import IdCounters, add_module, add_students, new_course
from archived.simulator.data.model import Attempt, AttemptPlan, Quiz, QuizSlot
from archived.simulator.data.world import World
from archived.simulator.questions.recorded import REAL_ATTEMPT, RecordedBlockQuestion

STUDENTS = 3
QUESTIONS_PER_PAGE = 4


def add_real_attempt_quiz(world: World, ids: IdCounters) -> Quiz:
    """Add the course, its question bank context, the 16-slot quiz and one attempt per student."""
    t0 = world.profile.population_time
    course = new_course(
        world,
        ids,
        "REAL-ATTEMPT",
        "Quiz Archiver reference attempt",
        "<p>Sixteen questions of fifteen core types, replayed from a real Moodle site.</p>",
        49999,
    )
    quizid = ids.take("quiz")
    if world.profile.qbank_module_context:
        bank = add_module(world, ids, course, "qbank", quizid, 0, "Reference questions", hidden=True)
        bank_context = bank.contextid
    else:
        bank_context = course.contextid
    module = add_module(world, ids, course, "quiz", quizid, 1, "Reference quiz (16 questions)")
    questions = [
        RecordedBlockQuestion.from_block(block, ids.take("question"), bank_context, REAL_ATTEMPT)
        for block in REAL_ATTEMPT.blocks()
    ]
    slots = [
        QuizSlot(q.slot, (q.slot - 1) // QUESTIONS_PER_PAGE, q.maxmark, q)
        for q in sorted(questions, key=lambda q: q.slot)
    ]
    quiz = Quiz(
        quizid,
        module.id,
        course.id,
        "Reference quiz (16 questions)",
        "<p>All core question types, as a real Moodle site rendered them.</p>",
        module.contextid,
        1,
        0,
        0,
        10.0,
        0,
        QUESTIONS_PER_PAGE,
        slots,
        [],
        t0,
        t0,
    )
    world.quizzes[quizid] = quiz
    rng = random.Random(f"{world.seed}|realquiz")
    for position, userid in enumerate(add_students(world, ids, rng, course, STUDENTS)):
        attemptid = ids.take("attempt")
        start = t0 - 7200 + 300 * position
        finish = start + 1554
        world.add_attempt(
            Attempt(
                attemptid,
                quizid,
                userid,
                1,
                attemptid,
                "finished",
                start,
                finish,
                finish,
                None,
                finish,
                AttemptPlan(seed=f"real-{attemptid}", generated=False),
                step_base=ids.take("step", 4 * len(slots)),
            )
        )
    return quiz
