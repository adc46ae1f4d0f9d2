"""Body, subject and mail templates: Jinja2 in its sandbox.

Jinja2 rather than `string.Template`: a JSON body needs its values escaped (`| tojson`), a mail reads better with a
condition or a loop over the people of an archive, and the sandbox refuses attribute tricks that would reach Python
internals, so a template in the configuration can say only what the event and the job hold. A template that does
not compile is a configuration error at start; one that fails on an event is a permanent failure of that event.
"""

from __future__ import annotations

from typing import Any

from jinja2 import StrictUndefined, TemplateError, meta
from jinja2.sandbox import ImmutableSandboxedEnvironment

from archived.connectors.transport import DeliveryFailed
from archived.errors import ConfigError

# StrictUndefined: a misspelt field is an error naming it, not an empty string in a campus system's record.
_ENVIRONMENT = ImmutableSandboxedEnvironment(undefined=StrictUndefined, autoescape=False, keep_trailing_newline=True)


class EventTemplate:
    """A compiled template with the configuration key it came from."""

    def __init__(self, source: str, key: str) -> None:
        self.key = key
        try:
            self._template = _ENVIRONMENT.from_string(source)
            self.names = frozenset(meta.find_undeclared_variables(_ENVIRONMENT.parse(source)))
        except TemplateError as exc:
            raise ConfigError(f"{key}: the template does not compile: {exc}") from None

    def render(self, values: dict[str, Any]) -> str:
        """The text for one event; a failure is permanent (the same event fails the same way every time)."""
        try:
            return self._template.render(values)
        except Exception as exc:  # a filter meeting a value it cannot take (tojson on a missing field) raises its own
            problem = str(exc) if isinstance(exc, TemplateError) else f"{type(exc).__name__}: {exc}"
            raise DeliveryFailed(f"{self.key}: the template failed on this event: {problem}", permanent=True) from None
