"""`archived doctor` with `[workers] backend = "dask"`: the scheduler and its workers, as the daemon sees them."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.cli.test_cli import run
from tests.cli.test_doctor import findings
from tests.support.daemon import DaemonProcess, write_config
from tests.support.render_cluster import RenderCluster, fontconfig_with_one_font, free_port, wait_for_workers


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RenderCluster]:
    render_cluster = RenderCluster(tmp_path_factory.mktemp("doctor-cluster"))
    render_cluster.start_scheduler()
    render_cluster.start_host("good")
    with render_cluster.joined(1):
        yield render_cluster


def _doctor(folder: Path, scheduler: str, **dask: object) -> dict[str, dict]:  # type: ignore[type-arg]
    folder.mkdir(parents=True, exist_ok=True)
    overrides = {f"workers.dask.{key}": value for key, value in dask.items()}
    config = write_config(folder, **{"workers.backend": "dask", "workers.dask.scheduler": scheduler,
                                     "workers.dask.connect_timeout_seconds": 2, **overrides})  # fmt: skip
    result = run("doctor", "--no-sample", "--json", env={"ARCHIVED_CONFIG": str(config)})
    found = findings(result)
    found["exit"] = {"code": result.returncode}
    return found


def test_matching_workers_are_ok(cluster: RenderCluster, tmp_path: Path) -> None:
    found = _doctor(tmp_path, cluster.address)
    assert found["render cluster"]["severity"] == "ok", found["render cluster"]
    assert "1 matching render worker(s)" in found["render cluster"]["detail"] and found["exit"]["code"] == 0


def test_a_worker_that_does_not_match_is_a_warning_naming_it(cluster: RenderCluster, tmp_path: Path) -> None:
    cluster.start_host("odd", env=fontconfig_with_one_font(tmp_path / "fonts"))
    asyncio.run(wait_for_workers(cluster.address, 2))
    found = _doctor(tmp_path, cluster.address)
    assert found["render cluster"]["severity"] == "warning", found["render cluster"]
    assert "not matching: odd-1: fonts: 1 files" in found["render cluster"]["detail"]


def test_an_unreachable_scheduler_is_an_error_or_a_warning_with_fallback(tmp_path: Path) -> None:
    nowhere = f"tcp://127.0.0.1:{free_port()}"
    found = _doctor(tmp_path / "a", nowhere)
    assert found["render cluster"]["severity"] == "error" and found["exit"]["code"] == 1
    assert "cannot reach the render scheduler" in found["render cluster"]["detail"]
    assert "archived render-worker" in found["render cluster"]["fix"]
    found = _doctor(tmp_path / "b", nowhere, fallback_local=True)
    assert found["render cluster"]["severity"] == "warning" and found["exit"]["code"] == 0
    assert "jobs render locally meanwhile" in found["render cluster"]["detail"]


def test_a_clear_text_scheduler_on_another_host_is_refused(tmp_path: Path) -> None:
    """The rule render-worker's options follow holds for `[workers.dask]` too: doctor names it, the daemon will not
    start with it."""
    found = _doctor(tmp_path / "doctor", "tcp://10.0.0.5:8786")
    assert found["render cluster"]["severity"] == "error" and found["exit"]["code"] == 1
    assert (
        "workers.dask.scheduler 'tcp://10.0.0.5:8786': a scheduler on another host must be reached over tls://"
        in (found["render cluster"]["detail"])
    )
    root = tmp_path / "daemon"
    root.mkdir()
    config = write_config(root, **{"workers.backend": "dask", "workers.dask.scheduler": "tcp://10.0.0.5:8786"})
    daemon = DaemonProcess(config, root)
    with pytest.raises(RuntimeError, match="must be reached over tls://"):
        daemon.start(timeout=30)
