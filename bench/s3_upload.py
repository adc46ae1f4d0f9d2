"""Benchmark: memory and speed of the S3 driver storing a 2 GiB archive (multipart upload, then verification).

Method: moto's S3 server runs in its own process on loopback (an Object Lock bucket, lock_mode COMPLIANCE). A
second process — the one measured, standing in for the daemon — imports the S3 driver, creates it as the daemon
does and warms it up with a 1 MiB store (client created, botocore's models loaded, the checksum probe done); its
RSS then is the idle baseline. It then stores a sparse file of the given size (zeros: the driver reads and hashes
every byte like any other) under the configured part size. The benchmark samples the measured process's RSS every
50 ms from outside (/proc/<pid>/status) and reports the peak above the baseline, and the kernel's own high-water
mark (VmHWM) at the end. moto keeps whatever checksum a client sends without checking it, so the driver also reads
every archive back and hashes it (as it would on any such server): the time is split into upload and read-back.
Usage: python bench/s3_upload.py [--size-mib 2048] [--part-size-mib 16]
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import importlib.metadata
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
for folder in (REPO, REPO / "drivers" / "storage"):
    sys.path.insert(0, str(folder))

MIB = 1024 * 1024


def rss_kib(pid: int, field: str = "VmRSS") -> int | None:
    """A memory figure of a process from /proc (None when it is gone)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


def free_port() -> int:
    """A free loopback port."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def child(endpoint: str, bucket: str, source: Path, sha256: str, part_size_mib: int, credentials: Path) -> None:
    """The measured process: warm up, report READY, wait for GO, store, report the times."""
    # Imported here, in the measured process only.
    from archived.interfaces.storage import Tier
    from archived_s3.config import S3Config
    from archived_s3.storage import S3Storage

    config = S3Config(endpoint_url=endpoint, bucket=bucket, prefix="bench/", addressing_style="path",
                      credentials_file=credentials, part_size_mib=part_size_mib, lock_mode="COMPLIANCE")  # fmt: skip
    driver = S3Storage("bench", config, Tier.REMOTE_SLOW)
    retain = datetime.now(UTC) + timedelta(days=1)
    warm = source.with_name("warm.zip")
    warm.write_bytes(os.urandom(MIB))
    await driver.store(warm, "warm.zip", sha256=hashlib.sha256(warm.read_bytes()).hexdigest(), size=MIB,
                       retain_until=retain)  # fmt: skip
    print("READY", flush=True)
    sys.stdin.readline()
    reads: list[float] = []
    client = await driver.conn._get()
    client.meta.events.register("before-send.s3.GetObject", lambda **_: reads.append(time.perf_counter()))
    started = time.perf_counter()
    stored = await driver.store(source, "archive.zip", sha256=sha256, size=source.stat().st_size, retain_until=retain)
    ended = time.perf_counter()
    await driver.close()
    read_back_at = reads[0] if reads else ended
    times = {"upload_s": read_back_at - started, "read_back_s": ended - read_back_at, "read_back": bool(reads)}
    print(json.dumps({"location": stored.location, **times}), flush=True)


def main() -> None:
    """Run the benchmark (see the module docstring)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mib", type=int, default=2048)
    parser.add_argument("--part-size-mib", type=int, default=16)
    parser.add_argument("--child", nargs=6, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        endpoint, bucket, source, sha256, part, credentials = args.child
        asyncio.run(child(endpoint, bucket, Path(source), sha256, int(part), Path(credentials)))
        return

    import boto3  # the parent's own view of the server; the measured process never loads boto3

    with tempfile.TemporaryDirectory(prefix="s3-bench-") as folder:
        root = Path(folder)
        port = free_port()
        moto = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        try:
            endpoint = f"http://127.0.0.1:{port}"
            s3 = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="bench",
                              aws_secret_access_key="bench-secret")  # fmt: skip
            for _ in range(100):
                try:
                    s3.list_buckets()
                    break
                except Exception:
                    time.sleep(0.1)
            s3.create_bucket(Bucket="bench-archive", ObjectLockEnabledForBucket=True)
            credentials = root / "credentials"
            credentials.write_text("[default]\naws_access_key_id = bench\naws_secret_access_key = bench-secret\n")
            credentials.chmod(0o600)
            source = root / "archive.zip"
            with source.open("wb") as handle:
                handle.truncate(args.size_mib * MIB)  # sparse: no disk, no page cache to speak of
            digest = hashlib.sha256()
            with source.open("rb") as handle:
                while chunk := handle.read(16 * MIB):
                    digest.update(chunk)
            measured = subprocess.Popen(
                [sys.executable, __file__, "--child", endpoint, "bench-archive", str(source), digest.hexdigest(),
                 str(args.part_size_mib), str(credentials)],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=REPO,
            )  # fmt: skip
            assert measured.stdin is not None and measured.stdout is not None
            assert measured.stdout.readline().strip() == "READY"
            time.sleep(1.0)
            baseline = rss_kib(measured.pid) or 0
            measured.stdin.write("GO\n")
            measured.stdin.flush()
            peak = baseline
            result_line: list[str] = []

            def read_result() -> None:
                assert measured.stdout is not None
                result_line.append(measured.stdout.readline())

            reader = threading.Thread(target=read_result)
            reader.start()
            hwm = 0
            while reader.is_alive():
                peak = max(peak, rss_kib(measured.pid) or 0)
                hwm = max(hwm, rss_kib(measured.pid, "VmHWM") or 0)
                time.sleep(0.05)
            measured.wait(60)
            result = json.loads(result_line[0])
            head = s3.head_object(Bucket="bench-archive", Key=result["location"])
            assert head["ContentLength"] == args.size_mib * MIB and head["Metadata"]["sha256"] == digest.hexdigest()
        finally:
            moto.terminate()
            moto.wait(30)
    size = args.size_mib * MIB
    print(f"S3 upload benchmark: {args.size_mib} MiB sparse file, part size {args.part_size_mib} MiB, "
          f"moto {_version('moto')} on loopback, load {os.getloadavg()[0]:.1f}")  # fmt: skip
    print(f"  idle baseline RSS      {baseline / 1024:8.1f} MiB (after a 1 MiB warm-up store)")
    print(f"  peak RSS while storing {peak / 1024:8.1f} MiB  (+{(peak - baseline) / 1024:.1f} MiB over the baseline)")
    print(f"  VmHWM at the end       {hwm / 1024:8.1f} MiB")
    print(f"  upload                 {result['upload_s']:8.1f} s   ({size / MIB / result['upload_s']:.0f} MiB/s)")
    if result["read_back"]:
        rate = size / MIB / result["read_back_s"]
        print(f"  read back and hashed   {result['read_back_s']:8.1f} s   ({rate:.0f} MiB/s)")


def _version(package: str) -> str:
    return importlib.metadata.version(package)


if __name__ == "__main__":
    main()
