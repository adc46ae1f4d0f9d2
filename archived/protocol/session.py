"""The methods about the connection itself: `hello` (first, always) and the event subscriptions."""

from __future__ import annotations

from pydantic import Field

from archived.protocol.base import Answer, Params


class HelloParams(Params):
    """The protocol version the client speaks, and its name for the daemon's log."""

    protocol: int
    client: str = Field(default="", description='e.g. "archived-cli/0.1.0"')


class PeerInfo(Answer):
    """Who the daemon sees on the other end (SO_PEERCRED) and whether it may change things."""

    uid: int
    user: str
    operator: bool


class HelloResult(Answer):
    """The daemon's side of the negotiation."""

    protocol: int
    server: str = "archived"
    version: str
    pid: int
    peer: PeerInfo


class SubscribeParams(Params):
    """Which events: kinds are exact (`job.state`) or families (`job`); no filter means every event."""

    kinds: list[str] | None = None
    job_ids: list[str] | None = None


class SubscribeResult(Answer):
    """A subscription; its events arrive as `event` notifications on this connection."""

    subscribed: bool = True
    subscription_id: int
    kinds: list[str] | None = None
    job_ids: list[str] | None = None


class UnsubscribeParams(Params):
    """One subscription (by the id `events.subscribe` returned), or all of them."""

    subscription_id: int | None = None


class UnsubscribeResult(Answer):
    """How many subscriptions ended."""

    unsubscribed: int
