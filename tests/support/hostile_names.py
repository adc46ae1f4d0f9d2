"""Moodle names that try to be rich/Textual markup or terminal control sequences, on a simulated site.

`hostile_site(sim)` renames the seeded reference site (seed 1) before it serves: every name below reaches the
daemon's course overview, job records, logs and archives the way a real Moodle would deliver it. Course 3 with
its quiz (cmid 4, three attempts) keeps to names a quiz report can hold, so its job completes; course 2 carries
the control characters.
"""

from __future__ import annotations

import re

from archived.simulator.simulator import MoodleSimulator

LONG = "Very long name " * 100 + "[/b] end"

# The hostile part of each name and how an operator must see it (control characters as visible escapes).
SCIENCE = "[bold Science"
EXAMS = "Exams \x1b[2J\x1b]0;pwned\x07"
EXAMS_SHOWN = "Exams \\x1b[2J\\x1b]0;pwned\\x07"
ALGEBRA = "Algebra [/b] \x9b31m a\u202eb"
ALGEBRA_SHOWN = "Algebra [/b] \\x9b31m a\\u202eb"
ALGEBRA_SHORT = "[red]x[/red]"
MIDTERM = "Quiz [/red] [link=file:///etc/passwd]x"
EXAM = "Exam \x1b[2J\x1b]0;pwned\x07 nul\x00byte"
EXAM_SHOWN = "Exam \\x1b[2J\\x1b]0;pwned\\x07 nul\\x00byte"
EXAM_SHORT = "EX[bold"
RULES = "Rules [/b] \x9b31m"
RULES_SHOWN = "Rules [/b] \\x9b31m"
FINAL = "Final \x1b[31m[/red]"
FINAL_SHOWN = "Final \\x1b[31m[/red]"

COURSE_2, COURSE_3 = 2, 3
FINAL_CMID, RULES_CMID, LAB_CMID, MIDTERM_CMID = 2, 1, 3, 4

# What must never reach a terminal: C0 but tab and newline, DEL, C1 (U+009B is a one-character CSI), bidi controls.
UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]")


def hostile_site(sim: MoodleSimulator) -> MoodleSimulator:
    """Rename categories, courses and activities of the reference site (call before it serves)."""
    world = sim.world
    with world.lock:
        world.categories[2].name = SCIENCE
        world.categories[3].name = EXAMS
        course = world.courses[COURSE_3]
        course.fullname, course.shortname = ALGEBRA, ALGEBRA_SHORT
        world.modules[MIDTERM_CMID].name = world.quizzes[world.modules[MIDTERM_CMID].instance].name = MIDTERM
        course = world.courses[COURSE_2]
        course.fullname, course.shortname = EXAM, EXAM_SHORT
        world.modules[FINAL_CMID].name = world.quizzes[world.modules[FINAL_CMID].instance].name = FINAL
        world.modules[RULES_CMID].name = RULES
        world.modules[LAB_CMID].name = world.assigns[world.modules[LAB_CMID].instance].name = LONG
        world.courses[4].fullname = LONG
    return sim


def assert_terminal_safe(text: str) -> None:
    """No control character that a terminal would act on (escape sequences, C1, bidi overrides)."""
    found = sorted({f"U+{ord(c):04X}" for c in UNSAFE.findall(text)})
    assert not found, f"control characters reached the output: {found}"
