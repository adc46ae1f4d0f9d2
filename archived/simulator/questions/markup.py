"""Release-dependent markup snippets of Moodle's question renderers (Bootstrap 4 vs 5, FontAwesome 4 vs 6).

Every class name that differs between 4.1, 4.5 and 5.0 is produced here, so the qtype renderers stay
release-agnostic.
"""

from __future__ import annotations

import html
from dataclasses import dataclass

from archived.simulator.profiles import ReleaseProfile

_FA6 = {
    "correct": ("fa-regular fa-circle-check text-success", "Correct"),
    "incorrect": ("fa-regular fa-circle-xmark text-danger", "Incorrect"),
    "partiallycorrect": ("fa-circle-half-stroke text-warning", "Partially correct"),
}
_FA4 = {
    "correct": ("fa fa-check text-success", "Correct"),
    "incorrect": ("fa fa-remove text-danger", "Incorrect"),
    "partiallycorrect": ("fa fa-check-square", "Partially correct"),
}


def esc(text: str) -> str:
    """`s()`: HTML-escape a text for an attribute or text node."""
    return html.escape(text, quote=True)


@dataclass(frozen=True)
class Markup:
    """The markup dialect of one release."""

    profile: ReleaseProfile

    @property
    def sr_only(self) -> str:
        """Screen-reader-only class."""
        return "visually-hidden" if self.profile.bootstrap5 else "sr-only"

    @property
    def fw_normal(self) -> str:
        """Normal font weight class."""
        return "fw-normal" if self.profile.bootstrap5 else "font-weight-normal"

    @property
    def ms1(self) -> str:
        """Start margin 1 (`ms-1` from 4.2, `ml-1` before)."""
        return "ms-1" if self.profile.at_least(4, 2) else "ml-1"

    @property
    def select(self) -> str:
        """Class of a `<select>` control."""
        return "form-select" if self.profile.bootstrap5 else "custom-select"

    @property
    def data_bs(self) -> str:
        """Prefix of Bootstrap data attributes."""
        return "data-bs-" if self.profile.bootstrap5 else "data-"

    def icon(self, kind: str) -> str:
        """The grading icon `<i>` for `correct`, `incorrect` or `partiallycorrect`."""
        if self.profile.fontawesome6:
            classes, title = _FA6[kind]
            return f'<i class="icon {classes} fa-fw "  title="{title}" role="img" aria-label="{title}"></i>'
        classes, title = _FA4[kind]
        return f'<i class="icon {classes} fa-fw " title="{title}" role="img" aria-label="{title}"></i>'

    def wrap_text(self, content: str) -> str:
        """Inner wrapper of formatted texts (`.qtext`, `.generalfeedback`): a clearfix div on 4.5 only."""
        if self.profile.qtext_clearfix:
            return f'<div class="clearfix">{content}</div>'
        return content

    @property
    def specificfeedback_class(self) -> str:
        """Class of the outer specific feedback div (`clearfix` was dropped in 5.0)."""
        return "specificfeedback" if self.profile.bootstrap5 else "specificfeedback clearfix"


def grade_kind(fraction: float) -> str:
    """The feedback class of a fraction: correct, partiallycorrect or incorrect."""
    if fraction >= 0.9999999:
        return "correct"
    if fraction <= 0.0000001:
        return "incorrect"
    return "partiallycorrect"
