"""The size knob: how much generated data the simulator adds to the recorded site.

`--size` accepts a preset name (`default`, `small`, `medium`, `bench`) or comma-separated `key=value` pairs:
`courses=3,students=40,attempts=2` (keys: courses, students, attempts / attempts_per_student, inprogress,
ungraded, realquiz=1, livequiz=1, assignments=1). `courses=1,students=2000,attempts=1` makes one quiz with 2,000
attempts.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace


@dataclass(frozen=True)
class SimulatorSize:
    """Generated data on top of the recorded site (which is always present).

    Each generated course has `students` new students, a quiz shaped like the recorded exam (11 mixed
    questions with TeX and an image) with `attempts_per_student` finished attempts per student, and an
    assignment with submissions. `inprogress` and `ungraded` are the shares of students with an extra
    in-progress attempt and of finished attempts whose essay is not graded yet. `realquiz` adds a course
    whose quiz replays the 16 questions of a real Moodle 4.4 review page (three attempts). `livequiz` adds a
    course whose quiz replays the 13 questions reviewed on real Moodle 4.5.6 and 5.0 sites by a user who may
    grade (three attempts; on 5.0 the course lists its question bank as a `qbank` module).
    """

    courses: int = 0
    students: int = 20
    attempts_per_student: int = 1
    inprogress: float = 0.05
    ungraded: float = 0.1
    realquiz: bool = False
    livequiz: bool = False
    assignments: bool = False  # a course whose assignment shows every case of the assignment driver

    def __post_init__(self) -> None:
        if self.courses < 0 or self.students < 0 or self.attempts_per_student < 0:
            raise ValueError("courses, students and attempts must not be negative")
        if self.attempts_per_student > 10:
            raise ValueError("attempts must be at most 10 per student")
        if not (0.0 <= self.inprogress <= 1.0 and 0.0 <= self.ungraded <= 1.0):
            raise ValueError("inprogress and ungraded are shares between 0 and 1")

    @property
    def attempts_per_quiz(self) -> int:
        """Finished attempts on each generated quiz."""
        return self.students * self.attempts_per_student

    @classmethod
    def parse(cls, text: str) -> SimulatorSize:
        """Parse a preset name or `key=value,...`; raises ValueError with the accepted syntax."""
        text = text.strip()
        if text in PRESETS:
            return PRESETS[text]
        aliases = {"attempts": "attempts_per_student"}
        known = {f.name: f for f in fields(cls)}
        values: dict[str, object] = {}
        for part in filter(None, (p.strip() for p in text.split(","))):
            key, sep, raw = part.partition("=")
            key = aliases.get(key.strip(), key.strip())
            if not sep or key not in known:
                raise ValueError(
                    f"invalid size {text!r}: use a preset ({', '.join(PRESETS)}) or key=value pairs such as "
                    "courses=3,students=40,attempts=2 (keys: courses, students, attempts, inprogress, ungraded, "
                    "realquiz, livequiz, assignments)"
                )
            if key in ("realquiz", "livequiz", "assignments"):
                values[key] = raw.strip().lower() in ("1", "true", "yes", "on")
            elif key in ("inprogress", "ungraded"):
                values[key] = float(raw)
            else:
                values[key] = int(raw)
        return replace(PRESETS["default"], **values)  # type: ignore[arg-type]


PRESETS: dict[str, SimulatorSize] = {
    "default": SimulatorSize(),
    "small": SimulatorSize(courses=2, students=20, attempts_per_student=1),
    "medium": SimulatorSize(courses=5, students=60, attempts_per_student=2),
    "bench": SimulatorSize(courses=1, students=2000, attempts_per_student=1, inprogress=0.0),
}
