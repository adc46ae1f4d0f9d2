"""What the dashboard and the Render hosts screen say about a cluster, from `daemon.status`'s `render` part: nothing
with the local backend, green when every worker matches, red naming what differs or why the daemon is not
connected, and host-provided strings (names, versions, differences, the problem) literally, never as markup."""

from __future__ import annotations

from rich.text import Text

from archived.protocol.daemon import RenderCluster, RenderHost, RenderStatus
from archived_tui.screens.render_hosts import gets_work, render_hosts_line

HOSTILE = "[b]x[/b]\x1b[2J"


def status(cluster: RenderCluster | None, backend: str = "dask") -> RenderStatus:
    return RenderStatus(processes=2, backend=backend, cluster=cluster)


def host(name: str, *, matches: bool = True, busy: int = 0, differences: list[str] | None = None) -> RenderHost:
    return RenderHost(address=f"tls://10.0.0.1:{len(name)}", name=name, host="10.0.0.1", slots=2, busy=busy,
                      matches=matches, differences=differences or [])  # fmt: skip


def styles(text: Text) -> dict[str, str]:
    """Each span's text → its style."""
    return {text.plain[span.start : span.end]: str(span.style) for span in text.spans}


def test_the_local_backend_adds_no_line() -> None:
    assert render_hosts_line(status(None, backend="local")) is None
    assert render_hosts_line(None) is None


def test_every_worker_matching_is_green_with_the_load_and_the_scheduler() -> None:
    cluster = RenderCluster(scheduler="tls://render:8786", connected=True,
                            hosts=[host("a-1", busy=2), host("a-2", busy=1)])  # fmt: skip
    line = render_hosts_line(status(cluster))
    assert line is not None
    assert line.plain == "Render hosts 2/2 matching · 3/4 slots busy · tls://render:8786"
    assert styles(line)["2/2 matching"] == "bold green"
    without = render_hosts_line(status(cluster), scheduler=False)
    assert without is not None and without.plain == "Render hosts 2/2 matching · 3/4 slots busy"


def test_a_worker_that_does_not_match_is_red_naming_what_differs() -> None:
    odd = host("b-1", matches=False, busy=1, differences=["fonts: 1 files (71ab2c88) ≠ 22 files (8d058154)",
                                                          "weasyprint 66.0 ≠ 65.1"])  # fmt: skip
    stranger = host("c-1", matches=False, differences=["not an archived render worker (no fingerprint resource)"])
    cluster = RenderCluster(scheduler="tls://render:8786", connected=True, hosts=[host("a-1"), odd, stranger])
    line = render_hosts_line(status(cluster))
    assert line is not None
    assert line.plain == (
        "Render hosts 1/3 matching · 2 workers do not match: fonts, weasyprint, not an archived render worker "
        "(no fingerprint resource) · 0/2 slots busy · tls://render:8786"
    )  # the busy slots are those of the matching workers: the others work for other daemons, if any
    assert styles(line)["1/3 matching"] == "bold red"
    verdict = gets_work(odd)
    assert verdict.plain == "no: fonts: 1 files (71ab2c88) ≠ 22 files (8d058154); weasyprint 66.0 ≠ 65.1"
    assert verdict.style == "bold red"
    assert gets_work(host("a-1")).plain == "yes"


def test_not_connected_is_red_with_the_problem_or_yellow_while_connecting() -> None:
    problem = RenderCluster(scheduler="tls://render:8786", problem="cannot reach the render scheduler: refused")
    line = render_hosts_line(status(problem))
    assert line is not None
    assert line.plain == "Render hosts not connected: cannot reach the render scheduler: refused · tls://render:8786"
    assert styles(line)["not connected: cannot reach the render scheduler: refused"] == "bold red"
    line = render_hosts_line(status(RenderCluster(scheduler="tls://render:8786")))
    assert line is not None and "connecting…" in line.plain
    assert "red" not in str(line.spans)


def test_no_worker_joined_is_red() -> None:
    line = render_hosts_line(status(RenderCluster(scheduler="tls://render:8786", connected=True)))
    assert line is not None and line.plain == "Render hosts none joined · tls://render:8786"
    assert styles(line)["none joined"] == "bold red"


def test_strings_from_hosts_are_shown_literally() -> None:
    odd = host(HOSTILE, matches=False, differences=[HOSTILE])
    cluster = RenderCluster(scheduler=HOSTILE, connected=True, hosts=[odd])
    line = render_hosts_line(status(cluster))
    assert line is not None
    assert "\x1b" not in line.plain and "[b]x[/b]\\x1b[2J" in line.plain
    assert "[b]x[/b]\\x1b[2J" in gets_work(odd).plain
    problem = render_hosts_line(status(RenderCluster(scheduler="tls://render:8786", problem=HOSTILE)))
    assert problem is not None and "\x1b" not in problem.plain and "[b]x[/b]" in problem.plain
