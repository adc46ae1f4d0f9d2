"""Rendering on a Dask cluster: a real `dask scheduler` and real `archived render-worker` hosts on loopback.

Two matching hosts (one worker process each) serve the module; tests that kill or restart a worker leave the
cluster with two matching workers again (their nannies start fresh processes).
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest

from archived.errors import ConfigError, RecoverableError
from archived_render.cluster_worker import FingerprintMismatch, render_on_worker
from archived_render.dask_pool import ClusterSettings, ClusterUnavailable, DaskRenderPool
from archived_render.fingerprint import local_fingerprint
from archived_render.render_pool import RenderPool, RenderTimeout
from archived_render.render_task import RenderOptions, RenderTask
from archived_render.service import RenderLimits, RenderService
from tests.support.render_cluster import RenderCluster, fontconfig_with_one_font, free_port, wait_for_workers
from tests.support.tls_certificates import TlsFiles, make_tls_files

# Not marked `render`: what these test is the orchestration, not WeasyPrint's rendering path (scripts/test runs `render`
# tests twice).
pytestmark = pytest.mark.timeout(240)

HTML = (
    "<!DOCTYPE html>\n<html><head><title>t</title></head><body><h1>Attempt 7</h1>"
    "<p>Zoë answered 2 × 3 = 6 <b>correctly</b>.</p></body></html>"
)
OPTIONS = RenderOptions(identifier="attempt-7", created="2024-05-01T10:00:00Z", title="Attempt 7")


def _task(task_id: str = "attempt 7", *, sleep: float = 0.0, output: Path | None = None) -> RenderTask:
    return RenderTask(task_id, HTML, options=OPTIONS, output_path=output, debug_sleep=sleep)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RenderCluster]:
    render_cluster = RenderCluster(tmp_path_factory.mktemp("cluster"))
    render_cluster.start_scheduler()
    render_cluster.start_host("alpha")
    render_cluster.start_host("beta")
    with render_cluster.joined(2):
        yield render_cluster


@pytest.fixture(scope="module")
def local_sha256() -> str:
    """The bytes the local pool renders for the test task: the cluster must give the same."""

    async def render() -> str:
        async with RenderPool(1) as pool:
            return (await pool.render(_task())).sha256

    return asyncio.run(render())


async def test_renders_on_the_cluster_and_the_daemon_writes_the_pdf(
    cluster: RenderCluster, local_sha256: str, tmp_path: Path
) -> None:
    pool = DaskRenderPool(ClusterSettings(cluster.address), timeout=60)
    try:
        assert await pool.ready() is None
        target = tmp_path / "payload" / "attempt-7.pdf"
        result = await pool.render(_task(output=target))
        assert result.path == target and result.pdf is None
        assert hashlib.sha256(target.read_bytes()).hexdigest() == result.sha256 == local_sha256
        assert not list(tmp_path.rglob("*.part"))
        names = sorted(h.name for h in pool.snapshot.hosts)
        assert names == ["alpha-1", "beta-1"] and all(h.matches for h in pool.snapshot.hosts)
        assert pool.processes == 2
        # Dask keeps no copies of the tasks it sent (its debugging log would hold 1,000 reports: ~0.4 MB each).
        assert not pool._client.scheduler_comm.recent_message_log
    finally:
        await pool.close()


async def test_either_worker_renders_the_same_bytes(cluster: RenderCluster, local_sha256: str) -> None:
    from distributed import Client

    digest = local_fingerprint().digest
    async with Client(cluster.address, asynchronous=True, set_as_default=False) as client:
        workers = sorted((await client.scheduler.identity())["workers"])
        assert len(workers) == 2
        results = [
            await client.submit(render_on_worker, _task(), digest, workers=[address], pure=False) for address in workers
        ]
    assert {r.sha256 for r in results} == {local_sha256}
    assert results[0].pdf == results[1].pdf


async def test_a_worker_killed_mid_render_changes_nothing(cluster: RenderCluster, local_sha256: str) -> None:
    from distributed import Client

    pool = DaskRenderPool(ClusterSettings(cluster.address), timeout=60)
    try:
        assert await pool.ready() is None
        rendering = asyncio.ensure_future(pool.render(_task(sleep=3.0)))
        async with Client(cluster.address, asynchronous=True, set_as_default=False) as client:
            busy: list[str] = []
            for _ in range(100):
                busy = [w for w, keys in (await client.processing()).items() if keys]
                if busy:
                    break
                await asyncio.sleep(0.1)
            assert busy, "the task never started"
            pids = await client.run(os.getpid, workers=busy)
            os.kill(pids[busy[0]], signal.SIGKILL)
        result = await rendering  # Dask ran it again on the other worker: the caller saw no error
        assert result.sha256 == local_sha256
        await wait_for_workers(cluster.address, 2)  # the nanny brought a fresh process
    finally:
        await pool.close()


async def test_a_stuck_render_restarts_its_worker_and_work_goes_on(cluster: RenderCluster) -> None:
    pool = DaskRenderPool(ClusterSettings(cluster.address), timeout=2, retries=0)
    try:
        assert await pool.ready() is None
        with pytest.raises(RenderTimeout) as caught:
            await pool.render(_task("attempt 8", sleep=600))
        assert isinstance(caught.value, RecoverableError) and "attempt 8" in str(caught.value)
        assert pool.stats.timeouts == 1
        await wait_for_workers(cluster.address, 2)
        for number in range(3):  # both workers serve again, the restarted one included
            assert (await pool.render(_task(f"attempt {number}"))).pages == 1
    finally:
        await pool.close()


async def test_a_worker_with_other_fonts_gets_no_work(cluster: RenderCluster, tmp_path: Path) -> None:
    from distributed import Client

    cluster.start_host("odd", env=fontconfig_with_one_font(tmp_path))
    await wait_for_workers(cluster.address, 3)
    pool = DaskRenderPool(ClusterSettings(cluster.address), timeout=60)
    try:
        assert await pool.ready() is None
        await asyncio.gather(*(pool.render(_task(f"attempt {n}")) for n in range(6)))
        await pool._refresh()
        by_name = {h.name: h for h in pool.snapshot.hosts}
        odd = by_name["odd-1"]
        assert not odd.matches and odd.tasks == 0
        assert any(d.startswith("fonts: 1 files") for d in odd.differences), odd.differences
        assert pool.processes == 2  # its slot is not counted
        # Even when asked directly, it refuses to render for this daemon.
        async with Client(cluster.address, asynchronous=True, set_as_default=False) as client:
            future = client.submit(
                render_on_worker, _task(), pool.fingerprint.digest, workers=[odd.address], pure=False
            )
            with pytest.raises(FingerprintMismatch, match="does not match"):
                await future
    finally:
        await pool.close()
        host = cluster.hosts.pop()
        os.killpg(host.pid, signal.SIGTERM)
        host.wait(30)


async def test_an_unreachable_scheduler_falls_back_or_fails_retryably(tmp_path: Path) -> None:
    nowhere = ClusterSettings(f"tcp://127.0.0.1:{free_port()}", connect_timeout_seconds=1)
    async with RenderService(RenderLimits(processes=1), cluster=nowhere) as service:
        with pytest.raises(ClusterUnavailable, match="cannot reach the render scheduler") as caught:
            await service.session("job 1").render(_task())
        assert isinstance(caught.value, RecoverableError)
        assert service.status().cluster is not None and not service.status().cluster["connected"]

    fallback = ClusterSettings(nowhere.scheduler, connect_timeout_seconds=1, fallback_local=True)
    async with RenderService(RenderLimits(processes=1), cluster=fallback) as service:
        result = await service.session("job 2").render(_task(output=tmp_path / "a.pdf"))
        assert result.path == tmp_path / "a.pdf" and service.pool.stats.tasks == 1


async def test_too_few_matching_workers_is_not_ready(cluster: RenderCluster) -> None:
    pool = DaskRenderPool(ClusterSettings(cluster.address, min_workers=5, connect_timeout_seconds=1))
    try:
        problem = await pool.ready()
        assert problem is not None and "2 matching render worker(s)" in problem and "5 required" in problem
    finally:
        await pool.close()


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"scheduler": "tcp://10.0.0.5:8786"}, "must be reached over tls://"),
        ({"scheduler": "tls://render.example:8786"}, "needs tls_ca_file"),
        ({"scheduler": "http://render.example:8786"}, "expected tls://"),
    ],
)
def test_cluster_settings_refuse_clear_text_over_the_network(settings: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        ClusterSettings(**settings)


@pytest.fixture(scope="module")
def tls_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[RenderCluster, TlsFiles]]:
    folder = tmp_path_factory.mktemp("tls-cluster")
    files = make_tls_files(folder / "pki", client_auth=True)
    tls = ("--tls-ca-file", str(files.ca_file), "--tls-cert", str(files.cert_file), "--tls-key", str(files.key_file))
    render_cluster = RenderCluster(folder, scheme="tls", tls_args=tls)
    render_cluster.start_scheduler()
    render_cluster.start_host("secure")
    settings = ClusterSettings(render_cluster.address, files.ca_file, files.cert_file, files.key_file)
    with render_cluster.joined(1, security=settings.security()):
        yield render_cluster, files


async def test_mutual_tls_renders_and_a_stranger_is_turned_away(
    tls_cluster: tuple[RenderCluster, TlsFiles], local_sha256: str, tmp_path: Path
) -> None:
    cluster, files = tls_cluster
    pool = DaskRenderPool(ClusterSettings(cluster.address, files.ca_file, files.cert_file, files.key_file), timeout=60)
    try:
        assert await pool.ready() is None
        assert (await pool.render(_task())).sha256 == local_sha256
    finally:
        await pool.close()
    # A client with a certificate from another CA does not get in.
    other = make_tls_files(tmp_path / "other", client_auth=True, ca_name="another CA")
    stranger = DaskRenderPool(
        ClusterSettings(cluster.address, other.ca_file, other.cert_file, other.key_file, connect_timeout_seconds=3)
    )
    try:
        problem = await stranger.ready()
        assert problem is not None and "cannot reach the render scheduler" in problem
    finally:
        await stranger.close()


async def test_a_worker_process_is_replaced_after_its_quota(tmp_path: Path, local_sha256: str) -> None:
    from distributed import Client

    cluster = RenderCluster(tmp_path)
    cluster.start_scheduler()
    cluster.start_host("quota", 1, "--max-tasks", "2")
    pool = DaskRenderPool(ClusterSettings(cluster.address), timeout=60)
    try:
        await wait_for_workers(cluster.address, 1)
        async with Client(cluster.address, asynchronous=True, set_as_default=False) as client:
            first = set((await client.run(os.getpid)).values())
            assert await pool.ready() is None
            results = [await pool.render(_task(f"attempt {n}")) for n in range(3)]  # the third on a new process
            assert {r.sha256 for r in results} == {local_sha256}
            await wait_for_workers(cluster.address, 1)
            later = set((await client.run(os.getpid)).values())
        assert first and later and not first & later, "the worker process was never replaced"
    except BaseException:
        print(cluster.log())
        raise
    finally:
        await pool.close()
        cluster.stop()


async def test_a_report_built_on_a_host_is_the_report_built_here(cluster: RenderCluster) -> None:
    """The whole step on a host (HTML and PDF) gives the bytes the daemon's own path gives, warnings included."""
    import json
    from datetime import UTC, datetime

    from archived_quiz.remote_report import ReportInputs, build_and_render, report_needs
    from archived_quiz.report import AttemptHeader, QuestionInput, finish_report, prepare_report
    from archived_quiz.settings import QuizSettings
    from archived_render.math import MathRenderer
    from archived_render.render_task import Resource

    fixtures = Path(__file__).resolve().parents[2] / "fixtures" / "moodle-4.5"
    review = json.loads((fixtures / "18-mod_quiz_get_attempt_review-1-jmueller-essay-graded.json").read_text())
    questions = [QuestionInput.from_ws(q) for q in review["response"]["questions"]]
    header = AttemptHeader(
        attempt_id=1, attempt_number=1, state="finished", timestart=1_700_000_000, timefinish=1_700_002_400,
        sumgrades=7.5, quiz_sumgrades=10.0, grade=75.0, quiz_grade=100.0, user_fullname="Jana Müller",
        username="jmueller", idnumber="M1", course="Mathematics I (MATH1)", quiz="Final exam",
        overall_feedback_html="", archived_at=datetime(2026, 1, 1, tzinfo=UTC), job_id="job",
    )  # fmt: skip
    inputs = ReportInputs(header, questions, QuizSettings(), "Final exam — attempt 1")
    png = Resource((fixtures / "53-pluginfile-question-image.png").read_bytes(), "image/png")
    task = RenderTask("attempt 1", "", options=OPTIONS)

    math = MathRenderer()
    try:
        prepared = prepare_report(inputs.header, inputs.questions, inputs.settings, title=inputs.title)
        formulas = await math.render_many(prepared.formulas)
    finally:
        await math.close()
    images = {url: png for url in prepared.image_urls}
    document = finish_report(prepared, formulas, images)
    async with RenderPool(1) as local:
        here = await local.render(RenderTask("attempt 1", document.html, document.resources, OPTIONS))

    pool = DaskRenderPool(ClusterSettings(cluster.address), timeout=60)
    try:
        assert await pool.ready() is None
        needs, _ = await pool.call("attempt 1", report_needs, inputs)
        assert needs.formulas == prepared.formulas and needs.image_urls == prepared.image_urls
        assert needs.formulas and needs.image_urls  # the fixture has TeX and an image: the test means something
        built, tries = await pool.call("attempt 1", build_and_render, inputs, formulas, images, task, True)
        there = await pool.keep(task, built.result, tries)
    finally:
        await pool.close()
    assert there.sha256 == here.sha256
    assert built.warnings == document.warnings and built.standalone_html == document.standalone_html()


def test_render_worker_follows_the_same_rule() -> None:
    import subprocess
    import sys

    archived = Path(sys.executable).parent / "archived"
    refused = subprocess.run([str(archived), "render-worker", "--scheduler", "tcp://10.0.0.5:8786"],
                             capture_output=True, text=True, timeout=60)  # fmt: skip
    assert refused.returncode == 2 and "must be reached over tls:// with --tls-ca-file" in refused.stdout
