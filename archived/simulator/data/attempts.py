"""Generate the details of one quiz attempt from its plan: responses, marks, states and the step history.

Everything is drawn from `random.Random(f"{world seed}|{plan seed}|{slot}")`, so an attempt's details do not
depend on which other attempts were generated before it. The world caches the result (`World.detail`) and hands
in only what generation reads: this module sits below the world and does not import it.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from archived.simulator.data.documents import asset, make_pdf
from archived.simulator.data.model import Attempt, Quiz, User
from archived.simulator.profiles import ReleaseProfile
from archived.simulator.questions.attempt import QuestionAttempt, Step, graded_state
from archived.simulator.questions.base import BLANK, PARTIAL, RIGHT, WRONG, format_number
from archived.simulator.questions.catalog import ESSAY_COMMENTS
from archived.simulator.storedfile import StoredFile

_FINISHED = ("finished", "abandoned", "submitted")
# Sizes of the attachments on the recorded site.
RECORDED_SIZES = {"Induktion_Skizze.pdf": 695}
# Attachments recorded on the real 4.5 site of the replayed live quiz, by name. Only page 1's body was recorded:
# it stands in for page 2.
RECORDED_BODIES = {"proof-page1.png": "live-2026-12/proof-page1.png", "proof-page2.png": "live-2026-12/proof-page1.png"}


@dataclass
class AttemptDetail:
    """The generated content of an attempt."""

    questions: list[QuestionAttempt]
    sumgrades: float | None
    graded_time: int | None


def _draw_outcome(rng: random.Random, skill: float) -> str:
    roll = rng.random()
    if roll < skill:
        return RIGHT
    rest = (roll - skill) / max(1e-9, 1 - skill)
    if rest < 0.35:
        return PARTIAL
    if rest < 0.9:
        return WRONG
    return BLANK


def _mimetype(filename: str) -> str:
    lowered = filename.lower()
    if lowered.endswith(".pdf"):
        return "application/pdf"
    if lowered.endswith(".png"):
        return "image/png"
    if lowered.endswith((".jpg", ".jpeg")):
        return "image/jpeg"
    return "document/unknown"


def question_numbers(quiz: Quiz) -> list[str | None]:
    """Display numbers per slot: "1", "2", ... for questions, "i" for information items."""
    numbers: list[str | None] = []
    counter = 0
    for slot in quiz.slots:
        if slot.question.info_item:
            numbers.append("i")
        else:
            counter += 1
            numbers.append(str(counter))
    return numbers


def generate_detail(seed: int, profile: ReleaseProfile, quiz: Quiz, attempt: Attempt, user: User) -> AttemptDetail:
    """Build the question attempts of `attempt` by `user` in a world seeded with `seed`."""
    plan = attempt.plan
    finished = attempt.state in _FINISHED
    started = attempt.state != "notstarted"
    root = f"{seed}|{plan.seed}"
    numbers = question_numbers(quiz)
    count = len(quiz.slots)
    answered_limit = count if plan.answered_slots is None else plan.answered_slots
    seen_pages = plan.seen_pages
    duration = max(60, (attempt.timefinish or attempt.timemodified) - attempt.timestart)
    graded_time = plan.graded_time if plan.graded_time is not None else attempt.timefinish + 86400

    questions: list[QuestionAttempt] = []
    for index, slot in enumerate(quiz.slots):
        rng = random.Random(f"{root}|{slot.slot}")
        question = slot.question
        variant = question.make_variant(rng)
        outcome = plan.outcomes.get(slot.slot) or _draw_outcome(rng, plan.skill)
        response = None
        if started and not question.info_item and (finished or index < answered_limit):
            response = question.make_response(variant, outcome, rng)
            if slot.slot in plan.responses:
                response = plan.responses[slot.slot]
        seen = seen_pages is None or finished or slot.page < seen_pages
        qa = QuestionAttempt(
            slot=slot.slot,
            page=slot.page,
            maxmark=slot.maxmark,
            question=question,
            number=numbers[index],
            variant=variant,
            response=response,
            fraction=None,
            state="todo",
            flagged=rng.random() < plan.flag_rate,
            seen=seen,
        )
        qa_rng = rng
        fixed = question.fixed_outcome()
        if fixed is not None and finished:
            qa.state, qa.fraction = fixed
        elif finished:
            if question.info_item:
                qa.state = "finished"
            elif question.manual:
                if response is None:
                    qa.state = "gaveup"
                elif plan.essay_mark is not None or (plan.generated and plan.essay_graded):
                    mark = plan.essay_mark
                    if mark is None:
                        mark = round(qa_rng.uniform(0.3, 1.0) * slot.maxmark * 2) / 2
                    qa.fraction = round(mark / slot.maxmark, 7)
                    qa.state = graded_state(qa.fraction, manual=True)
                    qa.comment = plan.essay_comment or "<p>" + qa_rng.choice(ESSAY_COMMENTS) + "</p>"
                else:
                    qa.state = "needsgrading"
            elif response is None:
                qa.state = "gaveup"
            else:
                fraction = question.grade(variant, response)
                qa.fraction = fraction
                qa.state = graded_state(fraction or 0.0, manual=False)
        elif started and not question.info_item:
            qa.state = "complete" if response is not None else "todo"
        questions.append(qa)

    # Step ids are allocated like the question engine does: all first steps, then saves, finishes, gradings.
    next_id = attempt.step_base
    first_time = attempt.timestart if started else 0
    for qa in questions:
        next_id += 1
        qa.steps.append(Step(next_id, first_time, "Started", "Not yet answered"))
    for index, qa in enumerate(questions):
        if qa.response is None:
            continue
        next_id += 1
        # Finished attempts save answers spread over their duration; an open one saved them at timemodified.
        saved = attempt.timestart + int(duration * (index + 1) / (count + 1)) if finished else attempt.timemodified
        qa.response_stepid = next_id
        qa.steps.append(
            Step(next_id, saved, "Saved: " + qa.question.summarise(qa.variant, qa.response), "Answer saved")
        )
    if finished:
        for qa in questions:
            next_id += 1
            marks = ""
            if qa.fraction is not None and not qa.question.manual:
                marks = format_number(qa.mark or 0.0, quiz.decimalpoints)
            state = qa.status if not qa.question.manual else ("Complete" if qa.response is not None else "Not answered")
            if qa.question.info_item:
                state = ""
            qa.steps.append(Step(next_id, attempt.timefinish, "Attempt finished", state, marks))
        for qa in questions:
            if qa.question.manual and qa.fraction is not None and qa.mark is not None:
                next_id += 1
                comment = " ".join((qa.comment or "").replace("<p>", " ").replace("</p>", " ").split())
                shown = f"{qa.mark:g}"
                qa.steps.append(
                    Step(
                        next_id,
                        graded_time,
                        f"Manually graded {shown} with comment: {comment}",
                        "Complete",
                        format_number(qa.mark, quiz.decimalpoints),
                    )
                )

    for qa in questions:
        qa.lastactiontime = qa.steps[-1].time if qa.steps else 0
        names = plan.attachments.get(qa.slot, [])
        wants_scan = qa.question.manual and qa.response is not None and not names and plan.generated
        if wants_scan and random.Random(f"{root}|{qa.slot}|files").random() < 0.3:
            names = [f"scan-{user.username}.pdf"]
        saved_time = next((step.time for step in qa.steps if step.action.startswith("Saved")), attempt.timestart)
        for name in names:
            stored = StoredFile(
                contextid=quiz.contextid,
                component="question",
                filearea="response_attachments",
                itemid=qa.response_stepid,
                filepath="/",
                filename=name,
                mimetype=_mimetype(name),
                timecreated=saved_time,
                # The recorded site stored attachments while it was populated (shortly after its clock time).
                timemodified=saved_time if plan.generated else profile.population_time + 1,
                producer=_attachment_producer(
                    user.fullname,
                    user.idnumber,
                    attempt.id,
                    qa.slot,
                    name,
                    RECORDED_SIZES.get(name) if not plan.generated else None,
                ),
                userid=user.id,
                author=user.fullname,
                license="allrightsreserved",
            )
            qa.attachments.append(stored)

    sumgrades: float | None = None
    if finished:
        marked = [qa for qa in questions if not qa.question.info_item]
        if not any(qa.state == "needsgrading" for qa in marked):
            sumgrades = round(sum(qa.mark or 0.0 for qa in marked), 5)
    has_manual_grade = any(qa.question.manual and qa.fraction is not None for qa in questions)
    return AttemptDetail(questions, sumgrades, graded_time if has_manual_grade else None)


def _attachment_producer(
    fullname: str, idnumber: str, attemptid: int, slot: int, name: str, size: int | None
) -> object:
    recorded = RECORDED_BODIES.get(name)

    def produce() -> bytes:
        if recorded is not None:
            return asset(recorded)
        return make_pdf(
            [
                f"{name}",
                f"{fullname}, {idnumber}",
                f"Quiz attempt {attemptid}, question {slot}",
                "Handwritten notes (scan)",
            ],
            size,
        )

    return produce
