"""Running the tiles: one after the other in this process, or on a Dask cluster, each
tile's result kept on disk as soon as it is done.

**Resume.** Every tile's result is written, the moment it is finished, into the work folder
beside the output (``<out>.work/``), under the hash of everything the tile depends on (see
:func:`tile_keys`). A build that stops (a crash, ``kill -9``, a lost machine) leaves those
files; the same command run again finds them and computes only the tiles that are missing.
A successful build removes the work folder, and the files a killed build was staging for
the final write (:meth:`TileStore.open`).

**Refresh.** With ``Execution.keep_tiles`` the results are kept in ``<out>.tiles/`` after a
successful build instead. A later build into the same output reuses every tile whose
inputs hash the same, so when one DSM or LAZ file changes only the tiles whose window
(core and halo) covers it are computed again: the tile and its neighbours within the halo.
The cache costs about as much disk as the cadastre and its raster (98 MB for the
synthetic 1 km² district of ``scripts/synthetic.py``, whose GeoPackage and raster take
104 MB); without it, a refresh computes everything.

**Format.** A tile's result is a pickled :class:`~solar.build.tile.TileResult`: it holds
face records with their geometries, hourly profiles and pixel arrays, which no single
columnar format holds, and it is read only by the build that wrote it or the next one into
the same output. That is safe because the file name carries the hash of the code (every
``.py`` and ``.toml`` file of the package, :func:`code_digest`) with the inputs: a result
from other code is never unpickled, it is not even looked for. A file cut short by a crash
is never seen either: results are written under a temporary name, then renamed.

**Dask.** A tile's task is pure (the worker reads its own window and returns the result);
only the client writes results, atomically. A worker lost mid-run costs its task a retry on
another worker, and the result is the same. A worker's memory is bounded by one tile: the
LocalCluster's workers are single-threaded, so each runs one task at a time, reads only
its window (a 1 km tile and its 150 m halo at 0.5 m: 2,600 × 2,600 cells, 27 MB a layer)
and irradiates its faces in blocks of ``tile.FACE_BLOCK``; the cluster forgets each
result once the client has written it. Workers of an external cluster should be started the same
way, ``dask worker --nthreads 1``, with ``--memory-limit`` for a hard bound.
"""

from __future__ import annotations

import errno
import fcntl
import hashlib
import json
import os
import pickle
import shutil
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, fields
from functools import cache
from pathlib import Path
from typing import IO, Any

import laspy
import numpy as np
import pandas as pd
import rasterio
import shapely

import solar
from solar.cadastre import FaceRecord, record_from_fields
from solar.errors import InputError
from solar.footprints import Footprint
from solar.surface import (
    DsmSource,
    LazSource,
    Surface,
    SurfaceInput,
    crop,
    read_window,
    source_grid,
)

from .climate import SiteClimate
from .inputs import file_sha256
from .options import BuildOptions, Execution, Progress
from .tile import TileResult, process_tile
from .tiles import Tile

WORK_SUFFIX = ".work"
"""The work folder of a build: ``<out>.work/``, removed when the build succeeds."""

CACHE_SUFFIX = ".tiles"
"""The tile cache kept for refreshes: ``<out>.tiles/`` (``Execution.keep_tiles``)."""

BYTES_PER_FOOTPRINT_M2 = 2000.0
"""Disk a build needs per m² of footprint for the GeoPackage, its raster and the tile
results. Measured on the Delft sample (160 row houses, 8,654 m² of footprints, 0.5 m,
60 m tiles): GeoPackage 662, raster 174 and tile results 707 bytes per m², 1,543 in all;
a third more for the SQLite journal and the rows of larger roofs. [B m-2]"""

STAGING_BLOCK_BYTES = 512 * 512 * 4
"""One block of one band of the raster's staging GeoTIFF (:mod:`solar.build.raster`):
512 × 512 float32 cells, uncompressed. The file is sparse: only blocks under a roof take
disk. [B]"""


@dataclass(frozen=True)
class TileRun:
    """The results of every tile, and which were computed by this run.

    Attributes
    ----------
    results : list of TileResult
        In the order of the tiles.
    keys : tuple of str
        The tiles' keys (:func:`tile_keys`).
    recomputed : tuple of str
        :func:`tile_name` of the tiles computed by this run, the others having been
        found on disk.
    """

    results: list[TileResult]
    keys: tuple[str, ...]
    recomputed: tuple[str, ...]

    @property
    def resumed(self) -> int:
        """Tiles found on disk rather than computed."""
        return len(self.results) - len(self.recomputed)

    def provenance(self) -> dict[str, Any]:
        """The provenance entries: the tiles computed by this run (:func:`tile_name`), and
        how many were found on disk."""
        return {"tiles_recomputed": list(self.recomputed), "tiles_reused": self.resumed}


def tile_name(tile: Tile) -> str:
    """A tile's name: the metres of its south-west corner, ``"<x>_<y>"``.

    >>> tile_name(Tile(0, (686000.0, 7032000.0, 687000.0, 7033000.0), (0, 0, 0, 0), ()))
    '686000_7032000'
    """
    return f"{tile.core[0]:.0f}_{tile.core[1]:.0f}"


class TileStore:
    """The tile results of one output, on disk: the work folder and the refresh cache.

    Open it with :meth:`open` before any computation; :meth:`finish` once the cadastre is
    written. While open, it holds a lock on the work folder: a second build into the same
    output stops at once rather than mixing its tiles with this one's.
    """

    def __init__(self, out: Path, keep: bool, lock: IO[bytes]):
        self.out = out
        self.folder = out.with_name(out.name + WORK_SUFFIX)
        self.cache = out.with_name(out.name + CACHE_SUFFIX)
        self.keep = keep
        self._lock = lock

    @classmethod
    def open(cls, out: str | os.PathLike[str], *, keep: bool = False) -> TileStore:
        """Check that ``out`` can be written, lock its work folder, remove stale staging files.

        Staging files are those of the final write that a killed build left: the
        GeoPackage's ``.<stem>.*.tmp.gpkg`` (with its SQLite journals) and the raster's
        ``.<name>.irradiation.tif.tmp*`` beside the output, and anything but tile results
        in the work folder.

        Raises
        ------
        InputError
            ``out`` is a folder, or a file that cannot be written; its folder cannot be
            created or written (the error names the folder); another build holds the lock.
        """
        target = Path(out)
        if target.is_dir():
            raise InputError("is a folder; give the name of the file to write", source=str(out))
        for existing in (target, target.with_suffix(".irradiation.tif")):
            if existing.exists() and not os.access(existing, os.W_OK):
                raise InputError("the file exists and cannot be written", source=str(existing))
        ancestor = target.parent
        while not ancestor.exists() and ancestor != ancestor.parent:
            ancestor = ancestor.parent
        if not ancestor.is_dir():
            raise InputError(
                "not a folder: the output cannot be written under it", source=str(ancestor)
            )
        folder = target.with_name(target.name + WORK_SUFFIX)
        try:
            folder.mkdir(parents=True, exist_ok=True)
            lock = (folder / "lock").open("wb")
        except OSError as exc:
            where = exc.filename or str(folder)
            raise InputError(
                f"cannot write beside the output ({exc.strerror or exc})", source=str(where)
            ) from exc
        try:
            # a POSIX record lock: released when the process dies, even by SIGKILL, and
            # owned by the process, so that a build raising here can be run again here
            fcntl.lockf(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            lock.close()
            if exc.errno in (errno.EAGAIN, errno.EACCES):
                raise InputError(
                    "another build is writing this cadastre now", source=str(target)
                ) from exc
            raise
        store = cls(target, keep, lock)
        store._remove_staging()
        return store

    def _remove_staging(self) -> None:
        raster = self.out.with_suffix(".irradiation.tif")
        patterns = (
            (self.out.parent, f".{self.out.stem}.*.tmp.gpkg*"),
            (self.out.parent, f".{raster.name}.tmp*"),
        )
        leftovers = [p for folder, pattern in patterns for p in folder.glob(pattern)]
        leftovers += [
            p for p in self.folder.iterdir() if p.name != "lock" and not p.name.endswith(".pkl")
        ]
        for path in leftovers:
            if path.is_dir():
                shutil.rmtree(path)
            else:
                path.unlink(missing_ok=True)

    def staging(self, name: str) -> Path:
        """A path in the work folder for a file of the final write, renamed into place
        later (same file system as the output)."""
        return self.folder / name

    def _file(self, tile: Tile, key: str) -> str:
        return f"{tile_name(tile)}.{key}.pkl"

    def load(self, tile: Tile, key: str) -> TileResult | None:
        """The tile's result written by this build or an earlier one, or None."""
        name = self._file(tile, key)
        for folder in (self.folder, self.cache):
            path = folder / name
            try:
                with path.open("rb") as stream:
                    result: TileResult = pickle.load(stream)
            except FileNotFoundError:
                continue
            except (pickle.UnpicklingError, EOFError, AttributeError, ValueError):
                # only written whole and renamed, yet a disk may still fail: compute again
                path.unlink(missing_ok=True)
                continue
            return result
        return None

    def save(self, tile: Tile, key: str, result: TileResult) -> None:
        """Write the tile's result now, atomically: a crash leaves it whole or absent."""
        path = self.folder / self._file(tile, key)
        partial = path.with_name(path.name + ".part")
        with partial.open("wb") as stream:
            _ResultPickler(stream, protocol=pickle.HIGHEST_PROTOCOL).dump(result)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(partial, path)

    def finish(self, tiles: Sequence[Tile], keys: Sequence[str]) -> None:
        """After a successful build: keep this build's tiles in the cache when asked, then
        remove the work folder."""
        if self.keep:
            self.cache.mkdir(exist_ok=True)
            wanted = {self._file(t, k) for t, k in zip(tiles, keys, strict=True)}
            for path in self.cache.iterdir():
                if path.name not in wanted:
                    path.unlink()
            for name in wanted:
                if (self.folder / name).exists():
                    os.replace(self.folder / name, self.cache / name)
        elif self.cache.exists():
            shutil.rmtree(self.cache)
        self.close()
        shutil.rmtree(self.folder, ignore_errors=True)

    def close(self) -> None:
        """Release the lock; the tiles stay for the next run."""
        self._lock.close()

    def failed(self, error: OSError) -> None:
        """After a failed write: on a full disk, remove the work folder, giving back the
        space of its tile results, as a failed build leaves nothing; otherwise keep the
        finished tiles for the next run."""
        if error.errno == errno.ENOSPC:
            self.close()
            shutil.rmtree(self.folder, ignore_errors=True)

    def check_space(self, needed_bytes: float) -> None:
        """Stop before any computation when the output's disk has too little room.

        Raises
        ------
        InputError
            Naming the output's folder, the bytes needed and free.
        """
        free = shutil.disk_usage(self.folder).free
        if needed_bytes > free:
            raise InputError(
                f"not enough disk space: the build needs about {needed_bytes / 1e9:.2f} GB, "
                f"{free / 1e9:.2f} GB are free",
                source=str(self.out.parent),
            )


class _ResultPickler(pickle.Pickler):
    """Pickles a tile's result with its faces' geometries as one array of WKB, made by
    one call: pickled one by one, the geometries took two thirds of the faces' time.
    :func:`pickle.load` reads it back as any pickle (:func:`_restore_result`)."""

    def reducer_override(self, obj: Any) -> Any:
        if type(obj) is TileResult:
            return _restore_result, _result_state(obj)
        return NotImplemented


def _result_state(result: TileResult) -> tuple[Any, ...]:
    faces = []
    for face in result.faces:
        attributes = face.__dict__.copy()
        attributes["geometry"] = None  # in the array below; the key keeps its place
        faces.append(attributes)
    geometry = shapely.to_wkb(
        np.array([f.geometry for f in result.faces], dtype=object), include_srid=True
    )
    others = {f.name: getattr(result, f.name) for f in fields(result) if f.name != "faces"}
    return faces, geometry, others


def _restore_result(
    faces: list[dict[str, Any]], geometry: np.ndarray, others: dict[str, Any]
) -> TileResult:
    """A tile's result from :func:`_result_state`: each face the record it was."""
    records = []
    for attributes, shape in zip(faces, shapely.from_wkb(geometry).tolist(), strict=True):
        attributes["geometry"] = shape
        records.append(record_from_fields(FaceRecord, attributes))
    return TileResult(faces=records, **others)


def needed_bytes(
    surface: SurfaceInput, footprints: Sequence[Footprint], *, raster_bands: int = 1
) -> float:
    """Disk a build of these footprints needs: :data:`BYTES_PER_FOOTPRINT_M2` for the
    outputs and tile results, and the raster's staging blocks under them, of
    ``raster_bands`` bands (13 with the monthly bands). [B]

    The blocks are those holding a corner of a footprint's bounding box: a footprint
    wider than a block (256 m at 0.5 m) may touch more, which the margin of
    :data:`BYTES_PER_FOOTPRINT_M2` covers.
    """
    if not footprints:
        return 0.0
    geometries = [f.geometry for f in footprints]
    transform, _ = source_grid(surface)
    block = 512 * transform.a
    x0, y0, x1, y1 = shapely.bounds(geometries).T
    corners = [
        (np.floor((x - transform.c) / block), np.floor((transform.f - y) / block))
        for x in (x0, x1)
        for y in (y0, y1)
    ]
    blocks = {(c, r) for cols, rows in corners for c, r in zip(cols, rows, strict=True)}
    area = float(shapely.area(geometries).sum())
    return area * BYTES_PER_FOOTPRINT_M2 + len(blocks) * raster_bands * STAGING_BLOCK_BYTES


@cache
def code_digest() -> str:
    """SHA-256 of the package's code and reference tables: every ``.py`` and ``.toml`` file.

    Any change to them makes every tile's key new, so no result of other code is reused.
    """
    root = Path(solar.__file__).parent
    digest = hashlib.sha256(solar.__version__.encode())
    for path in sorted(p for ext in ("*.py", "*.toml") for p in root.rglob(ext)):
        digest.update(path.relative_to(root).as_posix().encode() + b"\0")
        digest.update(path.read_bytes())
    return digest.hexdigest()


def _file_bounds(source: DsmSource | LazSource) -> list[tuple[tuple[float, ...], str]]:
    """Each file's bounds (xmin, ymin, xmax, ymax) [m] and SHA-256."""
    files = []
    for path in source.paths:
        if isinstance(source, DsmSource):
            with rasterio.open(path) as dataset:
                bounds: tuple[float, ...] = tuple(dataset.bounds)
        else:
            with laspy.open(path) as reader:
                mins, maxs = reader.header.mins, reader.header.maxs
                bounds = (float(mins[0]), float(mins[1]), float(maxs[0]), float(maxs[1]))
        files.append((bounds, file_sha256(path)))
    return files


def build_digest(climate: SiteClimate, options: BuildOptions) -> str:
    """SHA-256 of what every tile shares: the code, the options and the weather."""
    digest = hashlib.sha256(code_digest().encode())
    digest.update(json.dumps(asdict(options), sort_keys=True).encode())
    weather = climate.weather
    digest.update(pd.util.hash_pandas_object(weather.data).to_numpy().tobytes())
    digest.update(
        repr(
            (weather.latitude, weather.longitude, weather.altitude, weather.irradiance_time_offset)
        ).encode()
    )
    return digest.hexdigest()


def tile_keys(
    surface: SurfaceInput, tiles: Sequence[Tile], climate: SiteClimate, options: BuildOptions
) -> list[str]:
    """The hash of every tile's inputs, its key on disk.

    A tile's key covers its core and window, its footprints and its neighbours' (ids and
    geometries), the surface inside its window and :func:`build_digest`. The surface is
    hashed as the window's cells when it is in memory, and as the SHA-256 of every file
    whose bounds meet the window when it is read from files: a change in one file changes
    the keys of the tiles whose window covers it, and only those.
    """
    shared = build_digest(climate, options)
    files = [] if isinstance(surface, Surface) else _file_bounds(surface)
    keys = []
    for tile in tiles:
        digest = hashlib.sha256(shared.encode())
        digest.update(np.array(tile.core + tile.window, dtype=np.float64).tobytes())
        for group in (tile.footprints, tile.neighbours):
            digest.update(len(group).to_bytes(8, "little"))
            for footprint in group:
                digest.update(footprint.building_id.encode() + b"\0")
                digest.update(shapely.to_wkb(footprint.geometry))
        digest.update(surface.crs.to_wkt().encode())
        if isinstance(surface, Surface):
            for array in _window_arrays(crop(surface, tile.window)):
                digest.update(array.tobytes())
        else:
            x0, y0, x1, y1 = tile.window
            # a window is snapped outward to whole cells: widen by one cell to match
            pad = surface.resolution
            for (fx0, fy0, fx1, fy1), sha in files:
                if fx0 < x1 + pad and fx1 > x0 - pad and fy0 < y1 + pad and fy1 > y0 - pad:
                    digest.update(sha.encode())
        keys.append(digest.hexdigest())
    return keys


def _window_arrays(window: Surface) -> Iterator[np.ndarray]:
    yield np.array(window.transform, dtype=np.float64)
    yield np.ascontiguousarray(window.elevation)
    for mask in (window.ground, window.vegetation, window.building):
        yield np.array([mask is not None])
        if mask is not None:
            yield np.ascontiguousarray(mask)


def run_tiles(
    surface: SurfaceInput,
    tiles: Sequence[Tile],
    climate: SiteClimate,
    options: BuildOptions,
    execution: Execution,
    store: TileStore,
    progress: Progress | None = None,
) -> TileRun:
    """Process every tile not already on disk, in this process or on a Dask cluster.

    Each result is written to ``store`` as soon as its tile is done. On a cluster, a
    surface in memory travels as each tile's crop; DSM and LAZ files are read by the
    worker itself, window by window.
    """
    keys = tile_keys(surface, tiles, climate, options)
    found = [store.load(tile, key) for tile, key in zip(tiles, keys, strict=True)]
    todo = [tiles[i] for i, result in enumerate(found) if result is None]
    done = len(tiles) - len(todo)
    if progress and done:
        # a resumed build's bar starts at the tiles found, its ETA counting the others only
        progress("tiles", done, len(tiles))
    computed = (
        ((tile, _process_window(surface, tile, climate, options)) for tile in todo)
        if execution.in_process
        else _on_dask(surface, todo, [keys[t.index] for t in todo], climate, options, execution)
    )
    try:
        for tile, result in computed:
            store.save(tile, keys[tile.index], result)
            found[tile.index] = result
            done += 1
            if progress:
                progress("tiles", done, len(tiles))
    except OSError as exc:
        store.failed(exc)
        raise
    results = [r for r in found if r is not None]
    return TileRun(results, tuple(keys), tuple(tile_name(t) for t in todo))


def _on_dask(
    surface: SurfaceInput,
    tiles: Sequence[Tile],
    keys: Sequence[str],
    climate: SiteClimate,
    options: BuildOptions,
    execution: Execution,
) -> Iterator[tuple[Tile, TileResult]]:
    """Run ``tiles`` on Dask; yield each with its result as soon as it is done."""
    if not tiles:
        return
    from dask.distributed import Client, LocalCluster, as_completed

    cluster = (
        None
        if execution.scheduler
        else LocalCluster(n_workers=execution.workers, threads_per_worker=1)
    )
    try:
        with Client(execution.scheduler or cluster) as client:
            shared = client.scatter([climate, options], broadcast=True)
            # keyed by the inputs' hash: a task run again after a lost worker, or by a
            # resumed build, is the same task
            futures = {
                client.submit(
                    _process_window,
                    crop(surface, tile.window) if isinstance(surface, Surface) else surface,
                    tile,
                    shared[0],
                    shared[1],
                    key=f"tile-{key}",
                    pure=True,
                ): tile
                for tile, key in zip(tiles, keys, strict=True)
            }
            for future in as_completed(futures):
                yield futures[future], future.result()
                # the client holds the result no longer than it takes to write it
                future.release()
    finally:
        if cluster is not None:
            cluster.close()


def _process_window(
    source: SurfaceInput, tile: Tile, climate: SiteClimate, options: BuildOptions
) -> TileResult:
    """A tile's task, here or on a Dask worker: the worker reads its own window of the
    files."""
    return process_tile(
        read_window(source, tile.window),
        tile.footprints,
        climate,
        options,
        core=tile.core,
        neighbours=tile.neighbours,
    )
