"""The `connectors.*` methods: the event connectors' status, their dead letters, a redelivery, a test event."""

from __future__ import annotations

from functools import partial
from typing import Any, Protocol

from archived.protocol import connectors as wire
from archived.protocol.base import NoParams
from archived.protocol.methods import (
    CONNECTORS_DEAD_LETTERS,
    CONNECTORS_LIST,
    CONNECTORS_REDELIVER,
    CONNECTORS_TEST,
)
from archived.rpc.method import Method, method


class ConnectorService(Protocol):
    """What the methods ask of the daemon's connectors."""

    async def status(self) -> wire.ConnectorList: ...

    async def dead_letters(self, params: wire.DeadLettersParams) -> wire.DeadLetterPage: ...

    async def redeliver(self, params: wire.RedeliverParams) -> wire.DeliveryAttempt: ...

    async def test(self, params: wire.ConnectorTestParams) -> wire.DeliveryAttempt: ...


async def connectors_list(_: NoParams, *, connectors: ConnectorService) -> wire.ConnectorList:
    """Every connector with its lane and delivery counts."""
    return await connectors.status()


def connector_methods(*, connectors: ConnectorService) -> list[Method[Any, Any]]:
    """`connectors.list`, `connectors.dead_letters`; for operators `connectors.redeliver` and `connectors.test`."""
    return [
        method(CONNECTORS_LIST, partial(connectors_list, connectors=connectors)),
        method(CONNECTORS_DEAD_LETTERS, connectors.dead_letters),
        method(CONNECTORS_REDELIVER, connectors.redeliver),
        method(CONNECTORS_TEST, connectors.test),
    ]
