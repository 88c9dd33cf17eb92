"""A build on an external Dask cluster survives a worker killed mid-run.

A real ``dask scheduler`` and two ``dask worker`` processes run on the loopback; once the
first tile is back, the worker holding a task is killed with SIGKILL. The scheduler gives
its task to the other worker, and the cadastre equals the one built in this process.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from solar import build
from solar.footprints import Footprint
from solar.surface import Surface
from tests.build.test_resume import SMALL_TILES, assert_same_cadastre, part_of_delft

distributed = pytest.importorskip("distributed")

REPOSITORY = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture()
def cluster() -> Iterator[str]:
    """A scheduler and two single-threaded workers, as separate processes."""
    address = f"tcp://127.0.0.1:{_free_port()}"
    processes = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "distributed.cli.dask_scheduler",
                "--host",
                "127.0.0.1",
                "--port",
                address.rsplit(":", 1)[1],
                "--no-dashboard",
            ],
            cwd=REPOSITORY,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
    ]
    processes += [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "distributed.cli.dask_worker",
                address,
                "--nthreads",
                "1",
                "--no-dashboard",
                "--no-nanny",
            ],
            cwd=REPOSITORY,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for _ in range(2)
    ]
    try:
        with distributed.Client(address, timeout=60) as client:
            client.wait_for_workers(2, timeout=120)
        yield address
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
            process.wait()


@pytest.mark.slow
def test_a_killed_worker_does_not_stop_the_build(
    tmp_path: Path,
    cluster: str,
    delft_surface: tuple[Surface, tuple[Footprint, ...]],
) -> None:
    territory = part_of_delft(delft_surface)
    here = build.build_from_surface(territory, out=tmp_path / "here.gpkg", options=SMALL_TILES)

    killed: list[int] = []
    with distributed.Client(cluster) as watcher:
        pids = watcher.run(os.getpid)

        def kill_a_busy_worker(stage: str, done: int, total: int) -> None:
            if stage != "tiles" or killed or done == 0:
                return
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                busy = [w for w, tasks in watcher.processing().items() if tasks]
                if busy:
                    os.kill(pids[busy[0]], signal.SIGKILL)
                    killed.append(pids[busy[0]])
                    return
                time.sleep(0.01)

        there = build.build_from_surface(
            territory,
            out=tmp_path / "there.gpkg",
            options=SMALL_TILES,
            execution=build.Execution(scheduler=cluster),
            progress=kill_a_busy_worker,
        )
        assert len(killed) == 1
        assert len(watcher.scheduler_info()["workers"]) == 1
    assert there.tiles == here.tiles
    assert_same_cadastre(here.path, there.path)
