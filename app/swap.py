"""A cadastre file replaced under the running service: noticed, checked, swapped whole.

``cadastre build --out`` replaces its file by an atomic rename. The service checks the
path every ``CADASTRE_WATCH_INTERVAL_S`` seconds (and at once on SIGHUP): when the file
at the path is another one (device, inode, size or modification time differ), it opens
the new file in a worker thread, verifies its checksum and reads what it derives from it
(:meth:`app.dependencies.Services.open`), then replaces the current
:class:`~app.dependencies.Services` by the new one in one assignment on the event loop.

Each request takes the current services once, when it arrives (:class:`ServicesLease`),
and keeps them to its end: no answer mixes two files, and no request fails around the
switch. The old services are closed when their last request ends; their SQLite
connections, opened on the old file, read it until then even though the path names the
new one.

A replacement that is missing, damaged or not a cadastre is refused: the file opened
before keeps serving and the readiness (``/health``) says ``degraded`` with the reason,
until a good file takes its place.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Literal

import anyio.to_thread
from starlette.types import ASGIApp, Receive, Scope, Send

from app.dependencies import FileKey, Services
from app.settings import Settings
from solar.cadastre import checksum_path

logger = logging.getLogger("app.swap")


@dataclass(frozen=True)
class Readiness:
    """Whether the service serves the file at its path.

    Attributes
    ----------
    status : {"ok", "degraded"}
        ``degraded``: the file at the path is missing or was refused, and the file opened
        before is still served.
    reason : str or None
        Why it is degraded, in one sentence.
    """

    status: Literal["ok", "degraded"] = "ok"
    reason: str | None = None


def _keys(settings: Settings) -> tuple[FileKey, FileKey | None]:
    """The identities of the cadastre file and of its checksum file (None when absent)."""
    cadastre = FileKey.of(os.stat(settings.path))
    try:
        checksum: FileKey | None = FileKey.of(os.stat(checksum_path(settings.path)))
    except FileNotFoundError:
        checksum = None
    return cadastre, checksum


class ServicesHolder:
    """The services that new requests are given, replaced whole when the file changes.

    Its methods run on the event loop's thread only, so a plain attribute holds the
    current services and plain counters hold the leases.

    Parameters
    ----------
    settings : Settings
    services : Services
        The services opened at start-up.
    """

    def __init__(self, settings: Settings, services: Services):
        self.settings = settings
        self.current = services
        self.readiness = Readiness()
        self._leases: dict[int, int] = {}
        self._retired: dict[int, Services] = {}
        # the file (and checksum file) last refused: not opened again until one changes
        self._refused: tuple[FileKey, FileKey | None] | None = None
        self._refreshing = asyncio.Lock()
        self._wake = asyncio.Event()

    def acquire(self) -> Services:
        """The current services, leased until :meth:`release`."""
        services = self.current
        self._leases[id(services)] = self._leases.get(id(services), 0) + 1
        return services

    def release(self, services: Services) -> None:
        """End a lease; retired services are closed when their last lease ends."""
        left = self._leases[id(services)] - 1
        if left:
            self._leases[id(services)] = left
            return
        del self._leases[id(services)]
        retired = self._retired.pop(id(services), None)
        if retired is not None:
            retired.close()

    def wake(self) -> None:
        """Check the file now, and open it again even if it looks unchanged (SIGHUP)."""
        self._wake.set()

    async def refresh(self, *, force: bool = False) -> None:
        """Swap in the file at the path if it is another one and it is sound.

        Parameters
        ----------
        force : bool
            Open the file again even when it looks like the one served.
        """
        async with self._refreshing:
            try:
                keys = _keys(self.settings)
            except FileNotFoundError:
                self._degrade(
                    "the cadastre file is missing; the file opened before is still served"
                )
                return
            if not force and keys[0] == self.current.identity.key:
                self.readiness = Readiness()
                return
            if not force and keys == self._refused:
                return
            try:
                services = await anyio.to_thread.run_sync(Services.open, self.settings)
            except Exception as exc:
                self._refused = keys
                self._degrade(
                    f"the new cadastre file was refused ({exc}); the file opened before "
                    "is still served"
                )
                return
            old, self.current = self.current, services
            self._refused = None
            self.readiness = Readiness()
            logger.info(
                "cadastre swapped: %s, sha256 %s (was %s)",
                self.settings.path,
                services.identity.sha256[:16],
                old.identity.sha256[:16],
            )
            self._retire(old)

    def _degrade(self, reason: str) -> None:
        if self.readiness.reason != reason:
            logger.warning("%s", reason)
        self.readiness = Readiness("degraded", reason)

    def _retire(self, services: Services) -> None:
        if id(services) in self._leases:
            self._retired[id(services)] = services
        else:
            services.close()

    async def watch(self, interval: float) -> None:
        """Check the file every ``interval`` seconds, or at once when woken; never returns."""
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), interval)
            force = self._wake.is_set()
            self._wake.clear()
            try:
                await self.refresh(force=force)
            except Exception:
                # the watcher must outlive any surprise: the next check tries again
                logger.exception("checking the cadastre file failed")

    @contextlib.asynccontextmanager
    async def watching(self) -> AsyncIterator[None]:
        """Run :meth:`watch`, and :meth:`wake` on SIGHUP where the loop can take signals."""
        loop = asyncio.get_running_loop()
        task = asyncio.create_task(self.watch(self.settings.watch_interval_s))
        hangup = getattr(signal, "SIGHUP", None)
        try:
            if hangup is not None:
                loop.add_signal_handler(hangup, self.wake)
        except (RuntimeError, ValueError, NotImplementedError):
            # not the main thread (a test client's loop) or no Unix signals: polling only
            hangup = None
        try:
            yield
        finally:
            if hangup is not None:
                loop.remove_signal_handler(hangup)
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    def close(self) -> None:
        """Close every services still open, at shutdown."""
        for services in (self.current, *self._retired.values()):
            services.close()
        self._retired.clear()


class ServicesLease:
    """Give each HTTP request the current services, kept until its response is sent.

    The lifespan state holds the :class:`ServicesHolder` under ``holder``; the request's
    state gets ``services``, which :func:`app.dependencies.get_services` reads.
    """

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        holder: ServicesHolder | None = scope.get("state", {}).get("holder")
        if scope["type"] != "http" or holder is None:
            await self.app(scope, receive, send)
            return
        services = holder.acquire()
        scope["state"]["services"] = services
        try:
            await self.app(scope, receive, send)
        finally:
            holder.release(services)
