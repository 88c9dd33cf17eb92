"""Report jobs: persisted in the store, run by a background thread of each service process.

A job is a row of the store's ``jobs`` table, so it outlives the process that queued it. Each
process runs one :class:`JobRunner`: it takes the oldest queued job (a conditional update
lets one runner only take it, whatever the number of workers and servers), calls the
renderer registered for its kind, and stores the file. While a job runs, its runner writes
a heartbeat every few seconds; a running job whose heartbeat stops (its process was
restarted or died) is queued again by any runner after ``stale_after``, and run from the
start.

Renderers are registered by kind with :func:`register_job_kind`::

    def render(store, cadastre, job, progress) -> tuple[bytes, str, str]:
        ...                      # progress(0.5) now and then
        return data, "application/pdf", "rapport.pdf"
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Callable

from app.communes.store import Job, Store
from solar.cadastre import Cadastre
from solar.errors import CadastreError

logger = logging.getLogger("app.communes.jobs")

ProgressCallback = Callable[[float], None]
#: ``fn(store, cadastre, job, progress) -> (data, media_type, filename)``.
Renderer = Callable[[Store, Cadastre, Job, ProgressCallback], tuple[bytes, str, str]]

_RENDERERS: dict[str, Renderer] = {}


def register_job_kind(kind: str, renderer: Renderer) -> None:
    """Make jobs of ``kind`` run with ``renderer`` (registering a kind again replaces it)."""
    _RENDERERS[kind] = renderer


def job_kinds() -> frozenset[str]:
    """The kinds registered in this process."""
    return frozenset(_RENDERERS)


class JobRunner:
    """One background thread that runs the store's queued jobs, one at a time.

    Parameters
    ----------
    store : Store
    cadastre : callable
        Returns the cadastre to render from, asked again for each job (the service may
        have opened a newer one since).
    poll_interval : float
        Pause between two looks at the queue when it is empty. [s]
    stale_after : datetime.timedelta
        A running job without a heartbeat for this long is queued again.
    """

    def __init__(
        self,
        store: Store,
        cadastre: Callable[[], Cadastre],
        *,
        poll_interval: float = 0.5,
        stale_after: dt.timedelta = dt.timedelta(seconds=30),
    ):
        self.store = store
        self.cadastre = cadastre
        self.poll_interval = poll_interval
        self.stale_after = stale_after
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Start the thread (jobs left running by a stopped process come back after
        ``stale_after``)."""
        self._thread = threading.Thread(target=self._loop, name="report-jobs", daemon=True)
        self._thread.start()

    def wake(self) -> None:
        """Look at the queue now (a job was just queued)."""
        self._wake.set()

    def stop(self, timeout: float = 5.0) -> None:
        """Stop taking jobs; a job still running stays ``running`` and is taken up again
        after ``stale_after`` by the next runner."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.store.requeue_stale(self.stale_after)
                job = self.store.claim_job()
            except Exception:
                logger.exception("cannot read the job queue")
                job = None
            if job is None:
                self._wake.wait(self.poll_interval)
                self._wake.clear()
                continue
            self.run(job)

    def run(self, job: Job) -> None:
        """Run one claimed job to its end, with a heartbeat while it runs."""
        # a daemon: a stopping service does not wait for a long render, which the next
        # runner takes up again once its heartbeat has stopped
        worker = threading.Thread(
            target=self._render, args=(job,), name=f"job-{job.id}", daemon=True
        )
        worker.start()
        beat = self.stale_after.total_seconds() / 4
        while worker.is_alive():
            worker.join(beat)
            if worker.is_alive():
                try:
                    self.store.update_job(job.id)
                except Exception:
                    logger.exception("cannot record the heartbeat of job %s", job.id)

    def _render(self, job: Job) -> None:
        renderer = _RENDERERS.get(job.kind)
        if renderer is None:
            self.store.update_job(job.id, state="failed", error=f"unknown job kind {job.kind!r}")
            return
        cadastre = self.cadastre()

        def progress(share: float) -> None:
            self.store.update_job(job.id, progress=share)

        try:
            data, media_type, filename = renderer(self.store, cadastre, job, progress)
        except CadastreError as exc:
            self.store.update_job(job.id, state="failed", error=str(exc))
        except Exception:
            logger.exception("job %s (%s) failed", job.id, job.kind)
            self.store.update_job(job.id, state="failed", error="internal error")
        else:
            self.store.update_job(
                job.id, state="done", result=data, media_type=media_type, filename=filename
            )
