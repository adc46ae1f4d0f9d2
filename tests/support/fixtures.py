"""Where the recorded Moodle responses and the real attempt page live (copied from shared/fixtures so the
suite runs from a clean checkout)."""

from pathlib import Path

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
MOODLE_45 = FIXTURES / "moodle-4.5"
MOODLE_50 = FIXTURES / "moodle-5.0"
REAL_ATTEMPT = FIXTURES / "real-attempt" / "attempt-23.html"
