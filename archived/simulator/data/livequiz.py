"""The optional "live" quiz: 13 questions replayed from the review recorded on real Moodle 4.5.6 and 5.0 sites.

The recordings (December 2026) show attempt 2 of "Final exam Mathematics I" as a user who may grade sees it:
"Make comment or override mark" under every question, cloze feedback in hover popovers, ddwtos and gapselect,
units, an image, an essay with two attachments and a grading comment. This adds a course "Mathematics I" with
three students, each with one finished attempt whose question HTML is the recorded one of the simulated release
(4.1 replays the 4.5 page); the teacher links appear only while the service user holds `mod/quiz:grade`. On 5.0
the questions live in a `qbank` module that `core_course_get_contents` lists, as the recorded 5.0 site does.
"""

from __future__ import annotations

import random

from archived.simulator.data.generated import IdCounters, add_module, add_students, new_course
from archived.simulator.data.model import Attempt, AttemptPlan, FeedbackBand, Quiz, QuizSlot
from archived.simulator.data.world import World
from archived.simulator.questions.recorded import LIVE_45, LIVE_50, RecordedBlockQuestion

STUDENTS = 3
QUIZ_NAME = "Final exam Mathematics I"
# The recorded attempt's layout "1,2,3,4,0,5,6,7,8,0,9,10,11,12,0,13,0": slot → page.
PAGE_STARTS = (1, 5, 9, 13)
ESSAY_SLOT = 13
ATTACHMENTS = ["proof-page1.png", "proof-page2.png"]
# The recorded 5.0 site's question bank, made by the upgrade to 5.0 and listed among the course's modules.
BANK_NAME = "System shared question bank"
BANK_DESCRIPTION = (
    '<div class="no-overflow">This question bank was created automatically when the site was upgraded.</div>'
)


def _page(slot: int) -> int:
    return sum(1 for start in PAGE_STARTS if slot >= start) - 1


def add_live_quiz(world: World, ids: IdCounters) -> Quiz:
    """Add the course, its question bank on 5.0, the 13-slot quiz and one finished attempt per student."""
    t0 = world.profile.population_time
    course = new_course(
        world, ids, "MATH1-WS2026", "Mathematics I",
        "<p>Thirteen questions replayed from the review a grader saw on a real Moodle site.</p>", 49998,
    )  # fmt: skip
    quizid = ids.take("quiz")
    module = add_module(world, ids, course, "quiz", quizid, 0, QUIZ_NAME)
    if world.profile.qbank_module_context:
        bank = add_module(world, ids, course, "qbank", quizid, 0, BANK_NAME, hidden=True)
        bank.hidden_from_contents = False
        bank.description = BANK_DESCRIPTION
        bank_context = bank.contextid
    else:
        bank_context = course.contextid
    page = LIVE_50 if world.profile.at_least(5, 0) else LIVE_45
    questions = [
        RecordedBlockQuestion.from_block(block, ids.take("question"), bank_context, page) for block in page.blocks()
    ]
    slots = [QuizSlot(q.slot, _page(q.slot), q.maxmark, q) for q in sorted(questions, key=lambda q: q.slot)]
    quiz = Quiz(
        quizid,
        module.id,
        course.id,
        QUIZ_NAME,
        "<p>Calculators are not allowed.</p>",
        module.contextid,
        0,
        0,
        0,
        100.0,
        0,
        4,
        slots,
        [FeedbackBand(1000 + 3 * quizid, "<p>Excellent! You passed with distinction.</p>", 80.0, 101.0)],
        t0,
        t0,
    )
    world.quizzes[quizid] = quiz
    rng = random.Random(f"{world.seed}|livequiz")
    for position, userid in enumerate(add_students(world, ids, rng, course, STUDENTS)):
        attemptid = ids.take("attempt")
        start = t0 - 7200 + 300 * position
        finish = start + 2885  # as long as the recorded attempt took
        plan = AttemptPlan(seed=f"live-{attemptid}", generated=False, attachments={ESSAY_SLOT: list(ATTACHMENTS)})
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
                plan,
                step_base=ids.take("step", 4 * len(slots)),
            )
        )
    return quiz
