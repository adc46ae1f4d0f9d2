"""A socket method on the daemon's side: the protocol's `MethodSpec` with the handler that serves it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from pydantic import BaseModel

from archived.protocol.methods import MethodSpec
from archived.rpc.connection import Connection
from archived.rpc.peer import Peer
from archived.store.records import Initiator

P = TypeVar("P", bound=BaseModel)
R = TypeVar("R", bound=BaseModel)


@dataclass
class Call:
    """What a handler may know about the call it serves: who calls, on which connection, with which rights."""

    peer: Peer
    connection: Connection
    may_mutate: bool

    @property
    def initiator(self) -> Initiator:
        """The caller as the initiator of what it asks for."""
        return Initiator(kind="operator", name=self.peer.username, uid=self.peer.uid)


@dataclass(frozen=True)
class Method(Generic[P, R]):
    """One socket method: what the protocol says about it, and the coroutine that answers it."""

    spec: MethodSpec[P, R]
    handler: Callable[[P, Call], Awaitable[R]]

    @property
    def name(self) -> str:
        """The method's wire name."""
        return self.spec.name


def method(spec: MethodSpec[P, R], handler: Callable[[P], Awaitable[R]]) -> Method[P, R]:
    """A method whose handler needs only its parameters (its collaborators are bound already)."""

    async def serve(params: P, call: Call) -> R:
        return await handler(params)

    return Method(spec, serve)


def method_with_call(spec: MethodSpec[P, R], handler: Callable[[P, Call], Awaitable[R]]) -> Method[P, R]:
    """A method whose handler also needs to know about the call (the caller, its rights or its connection)."""
    return Method(spec, handler)


MethodTable = dict[str, Method[Any, Any]]


def table(*methods: Method[Any, Any]) -> MethodTable:
    """Methods by name."""
    return {m.name: m for m in methods}


def method_by_initiator(spec: MethodSpec[P, R], handler: Callable[[P, Initiator], Awaitable[R]]) -> Method[P, R]:
    """A method whose handler acts on behalf of the caller (recorded as the initiator of what it does)."""

    async def serve(params: P, call: Call) -> R:
        return await handler(params, call.initiator)

    return Method(spec, serve)
