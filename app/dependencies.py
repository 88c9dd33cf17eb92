"""The app's shared state as one typed object, and request parameters as dependencies.

:class:`Services` is opened by the app's lifespan, and again for each new cadastre file
(:mod:`app.swap`); endpoints take the one their request was given as
``services: ServicesDep``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import math
import multiprocessing
import os
import tempfile
import threading
from collections.abc import Callable, Mapping
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, TypeVar

import anyio.to_thread
import numpy as np
from anyio import CapacityLimiter
from fastapi import Depends, Query, Request

import solar
from app import views
from app.documents import BuildingDocuments
from app.geo import Projector
from app.models import Address, Coverage
from app.pagecache import read_ahead
from app.settings import Settings
from solar.addresses import AddressIndex
from solar.cadastre import (
    ADDRESS_FIELDS,
    AddressRecord,
    Cadastre,
    recorded_checksum,
    verify_checksum,
)
from solar.errors import InputError, NoBuildingAtAddress, NotFound
from solar.household.project import Site
from solar.household.uncertainty import orientation_factors

#: SQLite connections each opened cadastre holds: queries wait for a free one. Lookups
#: take about a millisecond each, so a few connections keep the thread pool busy.
CADASTRE_CONNECTIONS = 8
#: Suffix of the note a service leaves beside a cadastre it verified (``X.gpkg.verified``).
VERIFIED_SUFFIX = ".verified"

logger = logging.getLogger("app")


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


def verified_path(path: str | os.PathLike[str]) -> Path:
    """Where the note of a verified cadastre is kept: beside it."""
    path = Path(path)
    return path.with_name(path.name + VERIFIED_SUFFIX)


def verify_once(path: Path, fd: int, key: FileKey) -> tuple[str, bool]:
    """:func:`solar.cadastre.verify_checksum`, done once per file.

    Hashing a territory's cadastre (about 2 GB) takes seconds, at every start of every
    worker. Once a file is verified, a note beside it records its SHA-256 with its
    :class:`FileKey`; a later opening of the same file (same device, inode, size and
    modification time, and the same recorded checksum) takes the SHA-256 from the note.
    A copy, a replaced or a rewritten file changes its key, and is hashed again. Where
    the folder cannot be written, nothing is noted and every opening hashes.

    Returns
    -------
    tuple of (str, bool)
        As :func:`solar.cadastre.verify_checksum`.
    """
    recorded = recorded_checksum(path)
    note = verified_path(path)
    with contextlib.suppress(OSError, ValueError, KeyError, TypeError):
        noted = json.loads(note.read_text(encoding="utf-8"))
        if FileKey(**noted["key"]) == key and recorded in (None, noted["sha256"]):
            return str(noted["sha256"]), recorded is not None
    sha256, verified = verify_checksum(path, fd=fd)
    try:
        fd_note, tmp_name = tempfile.mkstemp(prefix=f".{note.name}.", dir=path.parent)
    except OSError:
        return sha256, verified
    try:
        with os.fdopen(fd_note, "w", encoding="utf-8") as stream:
            json.dump({"sha256": sha256, "key": key.__dict__}, stream)
        os.chmod(tmp_name, 0o644)  # readable as the cadastre is, not mkstemp's 0o600
        os.replace(tmp_name, note)
    except OSError:
        with contextlib.suppress(OSError):
            os.unlink(tmp_name)
    return sha256, verified


def address_index(cadastre: Cadastre, projector: Projector, count: int) -> AddressIndex:
    """The search index of the cadastre's addresses, built on first use.

    The index holds positions; the records of a search's hits, and an address asked for
    by id, are read from the cadastre by its indexes (feature id, ``address_id``).
    """
    fids: list[np.ndarray] = []

    def columns() -> tuple[list[str], list[int | None]]:
        fid, labels, numeros = cadastre.address_search_columns()
        fids.append(fid)
        return labels, numeros

    def load(positions: np.ndarray) -> list[Mapping[str, Any]]:
        return list(address_mappings(cadastre.addresses_by_fid(fids[0][positions]), projector))

    def find(address_id: str) -> Mapping[str, Any] | None:
        try:
            record = cadastre.address(address_id)
        except NotFound:
            return None
        return address_mappings([record], projector)[0]

    return AddressIndex.lazy(count, columns, load, find)


def _warm_up(index: AddressIndex) -> None:
    """What a first request would otherwise compute, computed just after opening.

    The search index takes a second or two for 300,000 addresses, the simulations'
    orientation factors about a second: the service answers meanwhile, and a request that
    needs one of them before it is ready computes it, or waits for it.
    """
    try:
        orientation_factors()
        index.prepare()
    except Exception:
        # the request that needs it computes it again, and fails on its own if it must
        logger.exception("preparing the address search index failed")


def address_mappings(rows: list[AddressRecord], projector: Projector) -> list[dict[str, Any]]:
    """Address records as the search's mappings: their columns, and WGS84 ``lon`` and
    ``lat``."""
    if not rows:
        return []
    lons, lats = projector.points_to_wgs84(
        [r.geometry.x for r in rows], [r.geometry.y for r in rows]
    )
    return [
        {**{k: getattr(row, k) for k in ADDRESS_FIELDS}, "lon": lon, "lat": lat}
        for row, lon, lat in zip(rows, lons.tolist(), lats.tolist(), strict=True)
    ]


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
        The search over every address, built in a thread after opening; it reads its
        hits, and an address by id, from the cadastre.
    coverage : app.models.Coverage
        The coverage summary.
    site : solar.household.project.Site
        Tariffs and climate of the cadastre, for the simulations.
    documents : app.documents.BuildingDocuments
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
    documents: BuildingDocuments
    identity: CadastreIdentity

    @classmethod
    def open(cls, settings: Settings) -> Services:
        """Open the cadastre of ``settings``, check it, and derive the rest from it.

        The file is held open while its checksum is computed and its connections are
        opened; if the path names another file by then (replaced meanwhile), it is
        refused, to be opened again at the next check. Once open, the whole file is read
        into the page cache in the background (:func:`app.pagecache.read_ahead`).

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
            sha256, verified = verify_once(path, fd, key)
            cadastre = Cadastre(path, connections=CADASTRE_CONNECTIONS)
        finally:
            os.close(fd)
        try:
            if FileKey.of(os.stat(path)) != key:
                raise InputError("replaced while it was being opened", source=str(path))
            projector = Projector(cadastre.crs)
            built_at = _built_at(cadastre.provenance())
            coverage = views.coverage(cadastre, projector)
            services = cls(
                settings=settings,
                cadastre=cadastre,
                projector=projector,
                address_index=address_index(cadastre, projector, coverage.counts.addresses),
                coverage=coverage,
                site=Site.for_cadastre(cadastre),
                documents=BuildingDocuments(cadastre, projector),
                identity=CadastreIdentity(sha256, verified, built_at, key),
            )
        except BaseException:
            cadastre.close()
            raise
        threading.Thread(target=read_ahead, args=(path,), daemon=True).start()
        threading.Thread(target=_warm_up, args=(services.address_index,), daemon=True).start()
        return services

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
