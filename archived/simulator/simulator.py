"""The public face of the simulator: `MoodleSimulator` (tests, demo, benchmarks) and `run_simulator` (CLI)."""

from __future__ import annotations

import signal
import sys
import threading
from types import TracebackType

from archived.simulator.app import SimulatorApp
from archived.simulator.data.build import build_world
from archived.simulator.data.expectations import AttemptExpectations
from archived.simulator.data.recorded import SERVICE_PASSWORD, token_for
from archived.simulator.data.world import World
from archived.simulator.faults import Faults
from archived.simulator.profiles import ReleaseProfile, get_profile
from archived.simulator.server import ServerThread, SimulatorServer
from archived.simulator.size import SimulatorSize
from archived.simulator.stats import RequestStats


class MoodleSimulator:
    """A Moodle site on loopback that answers the web services the archiver uses, on seeded data.

    Use as a context manager or call `start()`/`stop()`. `url` is the site URL (`siteurl`), `token` the
    archiver's web-service token, `world` the seeded data (ids, expectations), `faults` the fault knobs and
    `stats` the per-function request counters. `debug` may be flipped while running (adds `debuginfo`).
    """

    def __init__(
        self,
        *,
        seed: int = 1,
        release: str = "4.5",
        token: str | None = None,
        size: SimulatorSize | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        debug: bool = False,
    ) -> None:
        self.profile: ReleaseProfile = get_profile(release)
        self.seed = seed
        self.size = size or SimulatorSize()
        self._token = token or token_for(seed)
        self.world: World = build_world(self.profile, seed, self._token, self.size)
        self._app = SimulatorApp(self.world, self.profile, self._token, seed=seed, debug=debug)
        self._host = host
        self._port = port
        self._thread: ServerThread | None = None

    def __repr__(self) -> str:
        state = self.url if self._thread else "stopped"
        return f"MoodleSimulator(release={self.profile.name!r}, seed={self.seed}, {state})"

    # --- lifecycle ------------------------------------------------------------------------------------
    def start(self) -> MoodleSimulator:
        """Bind and serve in a background thread; returns self."""
        if self._thread is not None:
            return self
        self._app.stopping.clear()
        server = SimulatorServer(self._host, self._port, self._app)
        host, port = server.server_address[:2]
        host = host.decode() if isinstance(host, bytes) else str(host)
        shown = f"[{host}]" if ":" in host else host
        self._app.site.wwwroot = f"http://{shown}:{port}"
        self._port = int(port)
        self._thread = ServerThread(server)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving (hanging requests are released) and close the socket."""
        if self._thread is not None:
            self._thread.stop()
            self._thread = None

    def __enter__(self) -> MoodleSimulator:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    # --- what clients need ----------------------------------------------------------------------------
    @property
    def url(self) -> str:
        """The site URL (`siteurl` in site info), e.g. `http://127.0.0.1:40123`."""
        if self._thread is None:
            raise RuntimeError("the simulator is not running; call start() first")
        return self._app.site.wwwroot

    @property
    def port(self) -> int:
        """The bound TCP port (after `start()`)."""
        return self._port

    @property
    def token(self) -> str:
        """The archiver's web-service token (a 32-character hex string)."""
        return self._token

    @property
    def password(self) -> str:
        """The archiver user's password (for `/login/token.php`)."""
        return SERVICE_PASSWORD

    @property
    def release(self) -> str:
        """The simulated release profile ("4.1", "4.5" or "5.0")."""
        return self.profile.name

    @property
    def faults(self) -> Faults:
        """Fault knobs (thread-safe; may be changed while serving)."""
        return self._app.site.faults

    @property
    def stats(self) -> RequestStats:
        """Per-function and per-endpoint request counters."""
        return self._app.site.stats

    @property
    def debug(self) -> bool:
        """Whether errors carry `debuginfo` (site debugging at DEBUG_NORMAL)."""
        return self._app.site.debug

    @debug.setter
    def debug(self, enabled: bool) -> None:
        self._app.site.debug = enabled

    def request_count(self, function: str) -> int:
        """How many requests named `function` (or endpoint: `pluginfile`, `token`, `upload`) arrived."""
        return self._app.site.stats.count(function)

    def attempt_expectations(self, attemptid: int) -> AttemptExpectations:
        """What a faithful rendering of attempt `attemptid` must contain (see `data/expectations.py`)."""
        return self.world.attempt_expectations(attemptid)

    def grant(self, capability: str) -> None:
        """Give the service user a capability (e.g. `moodle/course:managefiles`)."""
        with self.world.lock:
            self.world.capabilities.add(capability)

    def revoke(self, capability: str) -> None:
        """Take a capability away from the service user (e.g. `mod/quiz:viewreports`)."""
        with self.world.lock:
            self.world.capabilities.discard(capability)

    def set_service_functions(self, names: list[str]) -> None:
        """Replace the functions of the archiver service (what site info lists and what calls may use)."""
        with self.world.lock:
            self.world.service.functions = list(names)


def _print_banner(sim: MoodleSimulator) -> None:
    world = sim.world
    quizzes = ", ".join(f"{q.id} (cmid {q.cmid}, course {q.course})" for q in list(world.quizzes.values())[:6])
    lines = [
        f"Moodle {sim.profile.release} simulator listening on {sim.url}",
        f"  web-service token: {sim.token}",
        f"  service: {world.service.shortname}; user archiver / {sim.password}",
        f"  courses: {len(world.courses) - 1}, users: {len(world.users)}, quiz attempts: {len(world.attempts)}",
        f"  quizzes: {quizzes}{' ...' if len(world.quizzes) > 6 else ''}",
        "Point a daemon at it: in archived.toml",
        f'  [moodle]\n  url = "{sim.url}"\n  token_env = "ARCHIVED_MOODLE_TOKEN"',
        "and in the daemon's environment",
        f"  export ARCHIVED_MOODLE_TOKEN={sim.token}",
        "Press Ctrl-C to stop.",
    ]
    print("\n".join(lines), flush=True)


def run_simulator(
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    token: str | None = None,
    seed: int = 1,
    size: SimulatorSize | str | None = None,
    release: str = "4.5",
) -> None:
    """Run the simulator in the foreground, print its URL and token, and serve until Ctrl-C or SIGTERM."""
    if isinstance(size, str):
        size = SimulatorSize.parse(size)
    stop = threading.Event()
    previous = signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with MoodleSimulator(seed=seed, release=release, token=token, size=size, host=host, port=port) as sim:
        _print_banner(sim)
        try:
            while not stop.wait(0.5):
                pass
        except KeyboardInterrupt:
            print("stopping", file=sys.stderr)
        finally:
            signal.signal(signal.SIGTERM, previous)
