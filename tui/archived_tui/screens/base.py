"""What the four main screens and the job detail share: navigation, the connection banner, the footer,
refetching after a (re)connect, live events, and turning refused calls into the daemon's message."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from typing import TypeVar

from pydantic import ValidationError
from textual.app import ComposeResult, SystemCommand
from textual.screen import Screen
from textual.worker import Worker

from archived.protocol.errors import ErrorCode, RpcError
from archived.rpc.client import DaemonUnreachable
from archived_tui.batching import EventBatch
from archived_tui.context import TuiContext
from archived_tui.link import ConnectionState
from archived_tui.widgets.banner import ConnectionBanner
from archived_tui.widgets.footer import LeanFooter
from archived_tui.widgets.nav_bar import NavBar

T = TypeVar("T")


class DaemonScreen(Screen[None]):
    """A screen that shows daemon state: reloads on (re)connect, applies event batches while it is fresh.

    A screen that is not showing when the connection changes only marks itself stale and reloads when it
    is shown again, so a reconnect costs one round of calls for the visible screen.
    """

    NAV_ID = ""  # which NavBar tab is highlighted

    def __init__(self, ctx: TuiContext) -> None:
        super().__init__()
        self.ctx = ctx
        self.link = ctx.link
        self._loaded_generation = -1
        self._stale = False

    def compose(self) -> ComposeResult:
        """Navigation, banner, the screen's body, footer."""
        yield NavBar(self.link, self.NAV_ID)
        yield ConnectionBanner(self.link)
        yield from self.compose_body()
        yield LeanFooter()

    def compose_body(self) -> ComposeResult:
        """The screen's own widgets."""
        yield from ()

    def on_mount(self) -> None:
        """Follow the connection and the event stream; load if connected."""
        self.link.connection.subscribe(self, self._connection_changed)
        self.link.events.subscribe(self, self._events_arrived)
        self.set_interval(1.0, self.tick)
        if self.link.state.connected:
            self.request_reload()

    def on_screen_resume(self) -> None:
        """A screen that went stale while hidden reloads when it is shown."""
        if self._stale and self.link.state.connected:
            self.request_reload()

    def request_reload(self) -> Worker[None] | None:
        """Refetch now if showing (returns the worker), else when shown next."""
        if not self.is_current:
            self._stale = True
            return None
        self._stale = False
        self._loaded_generation = self.link.state.generation
        worker: Worker[None] = self.run_worker(self._reload_guarded, group="reload", exclusive=True)
        return worker

    async def reload(self) -> None:
        """Fetch everything the screen shows."""

    def apply_events(self, batch: EventBatch) -> None:
        """Apply live changes (only called while the screen's data is fresh)."""

    def tick(self) -> None:
        """Once a second: advance clocks and durations."""

    def palette_commands(self) -> Iterable[SystemCommand]:
        """Context commands for the command palette (e.g. "job: retry 1a2b3c4d")."""
        yield from ()

    def background(self, work: Callable[[], Awaitable[object]], *, group: str, exclusive: bool = True) -> Worker[None]:
        """Run a call in a worker (exclusive: a newer one in the group cancels the older one).

        A daemon that went away is left to the banner; a refusal shows the daemon's message; anything else
        is a bug and surfaces as one.
        """

        async def run() -> None:
            try:
                await work()
            except DaemonUnreachable:
                pass
            except RpcError as exc:
                self.notify(exc.message, title="Refused by the daemon", severity="error", timeout=10)
            except ValidationError as exc:
                self.notify(_not_understood(exc), title="Unexpected answer", severity="error", timeout=10)

        worker: Worker[None] = self.run_worker(run, group=group, exclusive=exclusive)
        return worker

    async def attempt(self, what: str, call: Awaitable[T]) -> T | None:
        """Run a daemon call; if it is refused, tell the user the daemon's reason and return None."""
        try:
            return await call
        except RpcError as exc:
            title = "Not allowed" if exc.code == ErrorCode.PERMISSION_DENIED else "Refused by the daemon"
            self.notify(f"{what}: {exc.message}", title=title, severity="error", timeout=10)
        except DaemonUnreachable as exc:
            self.notify(f"{what}: {exc}", title="Daemon unreachable", severity="error", timeout=6)
        except ValidationError as exc:
            self.notify(f"{what}: {_not_understood(exc)}", title="Unexpected answer", severity="error", timeout=10)
        return None

    # -- internals ----------------------------------------------------------------------------------------

    def _connection_changed(self, state: ConnectionState) -> None:
        if state.connected and state.generation != self._loaded_generation:
            self.request_reload()

    def _events_arrived(self, batch: EventBatch) -> None:
        if not self.is_current:
            # Hidden (another mode, or a dialog on top): no work for rows nobody sees; one reload when shown.
            self._stale = True
            return
        if not self._stale and self._loaded_generation == self.link.state.generation:
            self.apply_events(batch)

    async def _reload_guarded(self) -> None:
        try:
            await self.reload()
        except DaemonUnreachable:
            self._stale = True  # the banner says why; the next connect reloads
        except RpcError as exc:
            self.notify(exc.message, title="The daemon could not answer", severity="error", timeout=10)
        except ValidationError as exc:
            self.notify(_not_understood(exc), title="Unexpected answer", severity="error", timeout=10)


def _not_understood(exc: ValidationError) -> str:
    """A daemon answer this TUI cannot read: say so (versions differ?) instead of crashing."""
    first = exc.errors()[0]
    where = ".".join(str(p) for p in first.get("loc", ()))
    return (
        f"this TUI could not read the daemon's answer ({exc.title}: {where}: {first.get('msg')}); "
        "are the TUI and the daemon the same version of archived?"
    )
