"""What the communes add to the service's lifespan: the store and the jobs runner."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from app.communes.jobs import JobRunner
from app.communes.store import Store
from app.settings import Settings
from solar.cadastre import Cadastre


@contextmanager
def open_communes(settings: Settings, cadastre: Callable[[], Cadastre]) -> Iterator[dict[str, Any]]:
    """Open the store and start the jobs runner; stop and close them on exit.

    Yields
    ------
    dict
        The lifespan state: ``store`` (:class:`app.communes.store.Store`, read by
        :data:`app.communes.auth.StoreDep`) and ``job_runner``
        (:class:`app.communes.jobs.JobRunner`).
    """
    store = Store(settings.store_db)
    runner = JobRunner(store, cadastre)
    runner.start()
    try:
        yield {"store": store, "job_runner": runner}
    finally:
        runner.stop()
        store.close()
