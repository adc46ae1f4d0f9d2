"""The methods about the connection itself: `hello`, `events.subscribe`, `events.unsubscribe`."""

from __future__ import annotations

from functools import partial
from typing import Any, Protocol

from archived.events.bus import EventBus, Subscription
from archived.protocol import wire
from archived.protocol.errors import ErrorCode, RpcError
from archived.protocol.methods import EVENTS_SUBSCRIBE, EVENTS_UNSUBSCRIBE, HELLO
from archived.protocol.session import (
    HelloParams,
    HelloResult,
    PeerInfo,
    SubscribeParams,
    SubscribeResult,
    UnsubscribeParams,
    UnsubscribeResult,
)
from archived.rpc.connection import Connection
from archived.rpc.identity import DaemonIdentity
from archived.rpc.method import Call, Method, method_with_call


class SubscriptionHost(Protocol):
    """What pushes a subscription's events down its connection (the socket server)."""

    def subscribe(self, connection: Connection, subscription: Subscription) -> None: ...

    def unsubscribe(self, connection: Connection, subscription_id: int | None) -> int: ...


async def hello(params: HelloParams, call: Call, *, identity: DaemonIdentity) -> HelloResult:
    """Agree on the protocol version (or refuse, naming both sides' versions); greets the connection."""
    if params.protocol not in wire.SUPPORTED_VERSIONS:
        raise RpcError(
            ErrorCode.UNSUPPORTED_PROTOCOL,
            f"this daemon (archived {identity.version}) speaks protocol {sorted(wire.SUPPORTED_VERSIONS)}, "
            f"the client speaks {params.protocol}; use matching versions of archived",
        )
    call.connection.greeted = True
    call.connection.client_name = params.client
    return HelloResult(
        protocol=wire.PROTOCOL_VERSION,
        server="archived",
        version=identity.version,
        pid=identity.pid,
        peer=PeerInfo(uid=call.peer.uid, user=call.peer.username, operator=call.may_mutate),
    )


async def events_subscribe(
    params: SubscribeParams, call: Call, *, bus: EventBus, host: SubscriptionHost
) -> SubscribeResult:
    """Start sending the matching events to the caller's connection."""
    subscription = bus.subscribe(kinds=params.kinds, job_ids=params.job_ids)
    host.subscribe(call.connection, subscription)
    return SubscribeResult(subscribed=True, subscription_id=subscription.id, kinds=params.kinds, job_ids=params.job_ids)


async def events_unsubscribe(params: UnsubscribeParams, call: Call, *, host: SubscriptionHost) -> UnsubscribeResult:
    """End one subscription of the caller's connection, or all of them."""
    return UnsubscribeResult(unsubscribed=host.unsubscribe(call.connection, params.subscription_id))


def session_methods(*, identity: DaemonIdentity, bus: EventBus, host: SubscriptionHost) -> list[Method[Any, Any]]:
    """`hello` and the subscription methods, bound to the daemon's identity, its event bus and the server."""
    return [
        method_with_call(HELLO, partial(hello, identity=identity)),
        method_with_call(EVENTS_SUBSCRIBE, partial(events_subscribe, bus=bus, host=host)),
        method_with_call(EVENTS_UNSUBSCRIBE, partial(events_unsubscribe, host=host)),
    ]
