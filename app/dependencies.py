"""The app's shared state as one typed object, and request parameters as dependencies.

:class:`Services` is opened by the app's lifespan, and again for each new cadastre file
(:mod:`app.swap`); endpoints take the one their request was given as
``services: ServicesDep``.
"""

from __future__ import annotations

import asyncio
import math
import multiprocessing
import os
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from typing import Annotated, Any, TypeVar

import anyio.to_thread
from anyio import CapacityLimiter
from fastapi import Depends, Query, Request

import solar
from app import views
from app.geo import Projector
from app.models import Address, Coverage
from app.settings import Settings
from solar.addresses import AddressIndex
from solar.cadastre import Cadastre, verify_checksum
from solar.errors import InputError, NoBuildingAtAddress, NotFound
from solar.household.project import Site
from solar.household.uncertainty import orientation_factors

#: SQLite connections each opened cadastre holds: queries wait for a free one. Lookups
#: take about a millisecond each, so a few connections keep the thread pool busy.
CADASTRE_CONNECTIONS = 8


@dataclass(frozen=True)
class FileKey:
    """What tells one file at a path from another: a replaced file changes at least one."""

    device: int
    inode: int
    size: int
    mtime_ns: int

    @classmethod
    def of(cls, stat: os.stat_result) -> FileKey:
        return cls(stat.st_dev, stat.st_ino, stat.st_size, stat.st_mtime_ns)


@dataclass(frozen=True)
class CadastreIdentity:
    """Which cadastre file is served.

    Attributes
    ----------
    sha256 : str
        The file's SHA-256, in hex.
    verified : bool
        Whether the checksum its build wrote beside it matched.
    built_at : str or None
        When it was built (its provenance), ISO 8601.
    key : FileKey
        The file's identity on disk when it was opened.
    """

    sha256: str
    verified: bool
    built_at: str | None
    key: FileKey


def _built_at(provenance: dict[str, Any]) -> str | None:
    """When the cadastre was built: its own date, or the latest of its merged parts'."""
    dates = [provenance.get("built_at")]
    parts = provenance.get("parts")
    if isinstance(parts, list):
        dates += [p.get("built_at") for p in parts if isinstance(p, dict)]
    known = [d for d in dates if isinstance(d, str)]
    return max(known) if known else None


@dataclass(frozen=True)
class Services:
    """What every request reads: the cadastre and what is derived from it at start-up.

    Attributes
    ----------
    settings : Settings
        The settings the app was created with.
    cadastre : solar.cadastre.Cadastre
        Read-only, one SQLite connection per thread.
    projector : app.geo.Projector
        Between the cadastre's CRS and WGS84.
    address_index : solar.addresses.AddressIndex
        Every address, in memory, for the search.
    coverage : app.models.Coverage
        The coverage summary.
    site : solar.household.project.Site
        Tariffs and climate of the cadastre, for the simulations.
    documents : app.views.BuildingDocuments
        The cache of rendered building documents.
    identity : CadastreIdentity
        Which file was opened; the API's ETag derives from it.
    """

    settings: Settings
    cadastre: Cadastre
    projector: Projector
    address_index: AddressIndex
    coverage: Coverage
    site: Site
    documents: views.BuildingDocuments
    identity: CadastreIdentity

    @classmethod
    def open(cls, settings: Settings) -> Services:
        """Open the cadastre of ``settings``, check it, and derive the rest from it.

        The file is held open while its checksum is computed and its connections are
        opened; if the path names another file by then (replaced meanwhile), it is
        refused, to be opened again at the next check.

        Raises
        ------
        solar.errors.InputError
            When the file is missing, is not a cadastre, is damaged (its checksum
            differs), or was replaced while it was being opened.
        """
        path = settings.path
        try:
            fd = os.open(path, os.O_RDONLY)
        except FileNotFoundError:
            raise InputError("no cadastre at this path", source=str(path)) from None
        try:
            key = FileKey.of(os.fstat(fd))
            sha256, verified = verify_checksum(path, fd=fd)
            cadastre = Cadastre(path, connections=CADASTRE_CONNECTIONS)
        finally:
            os.close(fd)
        try:
            if FileKey.of(os.stat(path)) != key:
                raise InputError("replaced while it was being opened", source=str(path))
            projector = Projector(cadastre.crs)
            # Computed on first use (about 0.3 s): at start-up, not in a resident's request.
            orientation_factors()
            built_at = _built_at(cadastre.provenance())
            return cls(
                settings=settings,
                cadastre=cadastre,
                projector=projector,
                address_index=AddressIndex(views.address_records(cadastre, projector)),
                coverage=views.coverage(cadastre, projector),
                site=Site.for_cadastre(cadastre),
                documents=views.BuildingDocuments(cadastre, projector),
                identity=CadastreIdentity(sha256, verified, built_at, key),
            )
        except BaseException:
            cadastre.close()
            raise

    @property
    def etag(self) -> str:
        """The API's ETag: the file's content and the code's version."""
        return f'W/"{self.identity.sha256[:16]}-{solar.__version__}"'

    def close(self) -> None:
        """Close every connection to the cadastre; call it once no request uses it."""
        self.cadastre.close()

    def address(self, address_id: str) -> tuple[Address, str]:
        """The address of ``address_id`` and the id of the building under it.

        Raises
        ------
        solar.errors.NotFound
            When no address has this id.
        solar.errors.NoBuildingAtAddress
            When the address has no building under it.
        """
        record = self.address_index.get(address_id)
        if record is None:
            raise NotFound(f"no address with id {address_id!r}")
        if record["building_id"] is None:
            raise NoBuildingAtAddress("no building at this address")
        return Address.model_validate(record), str(record["building_id"])


async def get_services(request: Request) -> Services:
    """The services this request was given when it arrived (:class:`app.swap.ServicesLease`).

    ``async`` on purpose: it only reads the request's state, so running it on the event
    loop avoids a thread-pool round trip.
    """
    services: Services = request.state.services
    return services


ServicesDep = Annotated[Services, Depends(get_services)]


T = TypeVar("T")


@dataclass(frozen=True)
class HeavyWork:
    """The bounded pools of heavy work of one worker process.

    Heavy requests wait their turn here, so that they cannot take the thread pool, the
    CPU or the interpreter from the look-ups.

    Attributes
    ----------
    threads : anyio.CapacityLimiter
        Simulations running at once (``CADASTRE_HEAVY_WORKERS``). Their numpy work
        mostly releases the interpreter lock.
    processes : concurrent.futures.ProcessPoolExecutor
        Processes that parse uploaded Linky files (``CADASTRE_PARSE_PROCESSES``). Parsing
        is pure Python: in a thread it would hold the interpreter lock, and the look-ups
        of the same process would wait for it at every step (eight 5 MB uploads cut
        them by 93%; in a process, ``scripts/bench_contention.py``).
    """

    threads: CapacityLimiter
    processes: ProcessPoolExecutor

    @classmethod
    def open(cls, settings: Settings) -> HeavyWork:
        # spawn, not fork: the worker runs threads, whose locks a fork would copy held
        context = multiprocessing.get_context("spawn")
        return cls(
            CapacityLimiter(settings.heavy_workers),
            ProcessPoolExecutor(settings.parse_processes, mp_context=context),
        )

    async def in_thread(self, function: Callable[..., T], *args: Any) -> T:
        """``function(*args)`` in a thread, once one of ``threads`` is free."""
        return await anyio.to_thread.run_sync(function, *args, limiter=self.threads)

    async def in_process(self, function: Callable[..., T], *args: Any) -> T:
        """``function(*args)`` in one of ``processes``; arguments and result are pickled."""
        return await asyncio.get_running_loop().run_in_executor(self.processes, function, *args)

    def close(self) -> None:
        """Stop the processes; work not started is cancelled."""
        self.processes.shutdown(wait=True, cancel_futures=True)


async def get_heavy_work(request: Request) -> HeavyWork:
    """The pools of heavy work of this process (the lifespan's ``heavy``)."""
    heavy: HeavyWork = request.state.heavy
    return heavy


HeavyDep = Annotated[HeavyWork, Depends(get_heavy_work)]


@dataclass(frozen=True)
class BBox:
    """A WGS84 box. [°]"""

    minlon: float
    minlat: float
    maxlon: float
    maxlat: float

    def as_tuple(self) -> tuple[float, float, float, float]:
        return (self.minlon, self.minlat, self.maxlon, self.maxlat)


BBOX_DESCRIPTION = (
    "minlon,minlat,maxlon,maxlat in WGS84 degrees, min ≤ max, at most CADASTRE_MAX_BBOX_DEG "
    "(0.05° by default) on a side."
)


async def bbox_query(
    bbox: Annotated[
        str,
        Query(
            description=BBOX_DESCRIPTION,
            max_length=200,
            examples=["2.8200,50.4250,2.8350,50.4350"],
        ),
    ],
    services: ServicesDep,
) -> BBox:
    """Parse and check the ``bbox`` query parameter; every failure names ``bbox``."""
    parts = bbox.split(",")
    if len(parts) != 4:
        raise InputError(
            f"expected 4 comma-separated numbers minlon,minlat,maxlon,maxlat, got {len(parts)}",
            source="bbox",
        )
    try:
        values = [float(p) for p in parts]
    except ValueError:
        raise InputError(
            "expected 4 comma-separated numbers minlon,minlat,maxlon,maxlat", source="bbox"
        ) from None
    if not all(math.isfinite(v) for v in values):
        raise InputError("coordinates must be finite numbers", source="bbox")
    box = BBox(*values)
    if not (-180 <= box.minlon <= 180 and -180 <= box.maxlon <= 180):
        raise InputError("longitudes must lie in [-180, 180]", source="bbox")
    if not (-90 <= box.minlat <= 90 and -90 <= box.maxlat <= 90):
        raise InputError("latitudes must lie in [-90, 90]", source="bbox")
    if box.minlon > box.maxlon or box.minlat > box.maxlat:
        raise InputError("min must not exceed max (minlon,minlat,maxlon,maxlat)", source="bbox")
    side = max(box.maxlon - box.minlon, box.maxlat - box.minlat)
    largest = services.settings.max_bbox_deg
    if side > largest:
        raise InputError(
            f"too large: {side:.4g}° on a side, at most {largest:g}°; zoom in",
            source="bbox",
        )
    return box


BBoxDep = Annotated[BBox, Depends(bbox_query)]
