"""Fault injection: the ways a real Moodle (or the network in front of it) misbehaves, on demand.

Rules are matched per request (endpoint, web-service function, parameter values) and either apply to the
next N matching requests (`times`) or to a share of them (`share`, drawn from a seeded generator, so a run
with the same request order is reproducible). Everything here may be changed while the server runs.

Kinds: `latency` (extra delay), `http_error` (5xx with a web-server error page), `hang` (no answer until
the client gives up or the server stops), `truncate` (the body is cut; Content-Length matches the cut body),
`disconnect` (headers promise the full body, the connection closes half-way), `malformed` (a PHP warning
printed before the JSON), `moodle_error` (HTTP 200 with a Moodle exception, e.g. `dmlreadexception`),
`slow_body` (the body trickles at `rate` bytes per second).
"""

from __future__ import annotations

import itertools
import random
import threading
from dataclasses import asdict, dataclass, field
from typing import Any, Protocol

KINDS = ("latency", "http_error", "hang", "truncate", "disconnect", "malformed", "moodle_error", "slow_body")


@dataclass
class FaultRule:
    """One fault and the requests it applies to."""

    kind: str
    endpoint: str | None = None
    function: str | None = None
    params: dict[str, str] = field(default_factory=dict)
    times: int | None = None
    share: float = 1.0
    status: int = 503
    seconds: float = 0.0
    rate: int = 0
    errorcode: str = "dmlreadexception"
    exception: str = "dml_read_exception"
    message: str | None = None
    id: int = 0
    hits: int = 0

    def matches(self, endpoint: str, function: str | None, params: dict[str, str]) -> bool:
        """Whether this rule targets the request (before counting and shares)."""
        if self.endpoint is not None and self.endpoint != endpoint:
            return False
        if self.function is not None and self.function != function:
            return False
        return all(params.get(key) == str(value) for key, value in self.params.items())


@dataclass
class FaultPlan:
    """What the server does to one request: the rules that fired, in the order they were added."""

    rules: list[FaultRule] = field(default_factory=list)

    @property
    def latency(self) -> float:
        """Total extra delay before answering."""
        return sum(rule.seconds for rule in self.rules if rule.kind == "latency")

    def first(self, *kinds: str) -> FaultRule | None:
        """The first fired rule of one of `kinds`."""
        return next((rule for rule in self.rules if rule.kind in kinds), None)


class TokenControl(Protocol):
    """What the fault knobs may do to the web-service token."""

    def expire(self) -> None:
        """Make the token expired: next call `accessexception` (and deletion), then `invalidtoken`."""

    def revoke(self) -> None:
        """Delete the token: every call `invalidtoken`."""

    def restore(self) -> None:
        """Make the token valid again."""


class Faults:
    """Thread-safe fault knobs of one simulator."""

    def __init__(self, seed: int, tokens: TokenControl | None = None) -> None:
        self._lock = threading.Lock()
        self._rules: list[FaultRule] = []
        self._random = random.Random(f"faults|{seed}")
        self._ids = itertools.count(1)
        self._latency = 0.0
        self._tokens = tokens

    # --- the token ------------------------------------------------------------------------------------
    def expire_token(self) -> None:
        """The token's `validuntil` passes: the next call gets `accessexception`, later ones `invalidtoken`."""
        if self._tokens is not None:
            self._tokens.expire()

    def revoke_token(self) -> None:
        """The token is deleted: every call gets `invalidtoken`."""
        if self._tokens is not None:
            self._tokens.revoke()

    def restore_token(self) -> None:
        """The token is valid again."""
        if self._tokens is not None:
            self._tokens.restore()

    # --- global knobs ---------------------------------------------------------------------------------
    @property
    def latency(self) -> float:
        """Seconds added to every request."""
        with self._lock:
            return self._latency

    @latency.setter
    def latency(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError("latency must not be negative")
        with self._lock:
            self._latency = float(seconds)

    # --- rules ----------------------------------------------------------------------------------------
    def add(self, rule: FaultRule) -> FaultRule:
        """Register a rule; returns it with its id."""
        if rule.kind not in KINDS:
            raise ValueError(f"unknown fault kind {rule.kind!r}; expected one of {', '.join(KINDS)}")
        if not 0.0 <= rule.share <= 1.0:
            raise ValueError("share must be between 0 and 1")
        with self._lock:
            rule.id = next(self._ids)
            self._rules.append(rule)
        return rule

    def _rule(self, kind: str, **kwargs: Any) -> FaultRule:
        params = {key: str(value) for key, value in (kwargs.pop("params", None) or {}).items()}
        return self.add(FaultRule(kind=kind, params=params, **kwargs))

    def fail(self, status: int = 503, **target: Any) -> FaultRule:
        """Answer with HTTP `status` (a 5xx error page). Target: times, share, endpoint, function, params."""
        return self._rule("http_error", status=status, **target)

    def delay(self, seconds: float, **target: Any) -> FaultRule:
        """Add `seconds` of latency to the targeted requests only."""
        return self._rule("latency", seconds=seconds, **target)

    def hang(self, seconds: float = 300.0, **target: Any) -> FaultRule:
        """Never answer (until the client gives up, `seconds` pass or the server stops)."""
        return self._rule("hang", seconds=seconds, **target)

    def truncate(self, **target: Any) -> FaultRule:
        """Cut the body in half (a complete HTTP response carrying invalid JSON)."""
        return self._rule("truncate", **target)

    def disconnect(self, **target: Any) -> FaultRule:
        """Promise the full body in Content-Length, send half of it and close the connection."""
        return self._rule("disconnect", **target)

    def malformed(self, **target: Any) -> FaultRule:
        """Print a PHP warning before the JSON body, as a misconfigured site does."""
        return self._rule("malformed", **target)

    def moodle_error(
        self,
        errorcode: str = "dmlreadexception",
        exception: str = "dml_read_exception",
        message: str | None = None,
        **target: Any,
    ) -> FaultRule:
        """Answer HTTP 200 with a Moodle exception (default: a transient database read error)."""
        return self._rule("moodle_error", errorcode=errorcode, exception=exception, message=message, **target)

    def slow_body(self, rate: int, **target: Any) -> FaultRule:
        """Send the body at `rate` bytes per second (slow downloads: `endpoint="pluginfile"`)."""
        if rate <= 0:
            raise ValueError("rate must be positive")
        return self._rule("slow_body", rate=rate, **target)

    def remove(self, rule_id: int) -> None:
        """Remove one rule."""
        with self._lock:
            self._rules = [rule for rule in self._rules if rule.id != rule_id]

    def clear(self) -> None:
        """Remove every rule and reset the latency."""
        with self._lock:
            self._rules.clear()
            self._latency = 0.0

    def rules(self) -> list[dict[str, Any]]:
        """A snapshot of the rules (for the control endpoint and for tests)."""
        with self._lock:
            return [asdict(rule) for rule in self._rules]

    def plan(self, endpoint: str, function: str | None, params: dict[str, str]) -> FaultPlan:
        """Decide, atomically, which rules fire for one request (consumes `times` and draws `share`)."""
        fired: list[FaultRule] = []
        with self._lock:
            for rule in self._rules:
                if rule.times is not None and rule.times <= 0:
                    continue
                if not rule.matches(endpoint, function, params):
                    continue
                if rule.share < 1.0 and self._random.random() >= rule.share:
                    continue
                if rule.times is not None:
                    rule.times -= 1
                rule.hits += 1
                fired.append(rule)
            if self._latency:
                fired.insert(0, FaultRule(kind="latency", seconds=self._latency))
            self._rules = [rule for rule in self._rules if rule.times is None or rule.times > 0]
        return FaultPlan(fired)
