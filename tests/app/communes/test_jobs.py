"""Report jobs: run by the service's background runner, and taken up again after a restart."""

from __future__ import annotations

import datetime as dt
import threading
import time
from pathlib import Path

from fastapi.testclient import TestClient

from app.communes.jobs import JobRunner, register_job_kind
from app.communes.store import Job, Store
from app.main import create_app
from app.settings import Settings
from solar.cadastre import Cadastre
from solar.errors import InputError


def _echo(store: Store, cadastre: Cadastre, job: Job, progress) -> tuple[bytes, str, str]:  # type: ignore[no-untyped-def]
    progress(0.5)
    text = f"{job.commune_insee};{job.params['word']};{len(cadastre.communes())}"
    return text.encode(), "text/csv", "echo.csv"


def _refuse(store: Store, cadastre: Cadastre, job: Job, progress) -> tuple[bytes, str, str]:  # type: ignore[no-untyped-def]
    raise InputError("nothing to report", source="scope")


def _crash(store: Store, cadastre: Cadastre, job: Job, progress) -> tuple[bytes, str, str]:  # type: ignore[no-untyped-def]
    raise RuntimeError("a bug, with internal details")


register_job_kind("test-echo", _echo)
register_job_kind("test-refuse", _refuse)
register_job_kind("test-crash", _crash)


def _wait_until_finished(store: Store, job_id: str, timeout: float = 20.0) -> Job:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = store.job(job_id)
        assert job is not None
        if job.state in ("done", "failed"):
            return job
        time.sleep(0.05)
    raise AssertionError(f"job {job_id} still {job.state}")


def test_a_job_queued_before_a_restart_runs_after_it(cadastre_path: Path, store_url: str) -> None:
    store = Store(store_url)
    job_id = store.create_job("test-echo", "62498", {"word": "école"}, None)
    with TestClient(create_app(Settings(path=cadastre_path, db=store_url))):
        job = _wait_until_finished(store, job_id)
    assert job.state == "done", job.error
    assert (job.media_type, job.filename) == ("text/csv", "echo.csv")
    communes = len(Cadastre(cadastre_path).communes())
    assert store.job_result(job_id) == f"62498;école;{communes}".encode()
    store.close()


def test_a_job_whose_runner_died_is_run_again(cadastre_path: Path, store_url: str) -> None:
    store = Store(store_url)
    job_id = store.create_job("test-echo", None, {"word": "mairie"}, None)
    taken = store.claim_job()  # by a process that stops before it finishes
    assert taken is not None and taken.id == job_id
    cadastre = Cadastre(cadastre_path)
    runner = JobRunner(
        store, lambda: cadastre, poll_interval=0.05, stale_after=dt.timedelta(seconds=0.5)
    )
    runner.start()
    try:
        job = _wait_until_finished(store, job_id)
    finally:
        runner.stop()
        store.close()
    assert job.state == "done"


def test_failures_are_recorded_without_internals(cadastre_path: Path, tmp_path: Path) -> None:
    store = Store(tmp_path / "communes.sqlite")
    refused = store.create_job("test-refuse", "62498", {}, None)
    crashed = store.create_job("test-crash", "62498", {}, None)
    unknown = store.create_job("test-unknown-kind", "62498", {}, None)
    cadastre = Cadastre(cadastre_path)
    runner = JobRunner(store, lambda: cadastre, poll_interval=0.05)
    runner.start()
    try:
        jobs = [_wait_until_finished(store, j) for j in (refused, crashed, unknown)]
    finally:
        runner.stop()
        store.close()
    assert [j.state for j in jobs] == ["failed"] * 3
    assert jobs[0].error == "scope: nothing to report"
    assert jobs[1].error == "internal error"
    assert "test-unknown-kind" in (jobs[2].error or "")


def test_a_long_job_keeps_its_heartbeat(cadastre_path: Path, tmp_path: Path) -> None:
    release = threading.Event()

    def slow(store: Store, cadastre: Cadastre, job: Job, progress) -> tuple[bytes, str, str]:  # type: ignore[no-untyped-def]
        release.wait(10)
        return b"ok", "text/plain", "ok.txt"

    register_job_kind("test-slow", slow)
    store = Store(tmp_path / "communes.sqlite")
    job_id = store.create_job("test-slow", None, {}, None)
    cadastre = Cadastre(cadastre_path)
    stale_after = dt.timedelta(seconds=0.4)
    runner = JobRunner(store, lambda: cadastre, poll_interval=0.05, stale_after=stale_after)
    runner.start()
    try:
        for _ in range(10):
            time.sleep(0.1)
            # another runner looking for dead jobs must leave this one alone
            store.requeue_stale(stale_after)
            job = store.job(job_id)
            assert job is not None
            assert job.state == "running"
        release.set()
        assert _wait_until_finished(store, job_id).state == "done"
    finally:
        release.set()
        runner.stop()
        store.close()
