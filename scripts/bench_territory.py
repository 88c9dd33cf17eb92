"""Benchmark of a territory build at 1/100 of the PMA, killed once and resumed.

Run from the repository root::

    python scripts/bench_territory.py --folder SCRATCH [--layout CCSIF/CSSIF] [--workers 2]
        [--kill-after 0.5] [--compare] [--json PATH] [--write-doc] [--from-runs]

The synthetic territory of ``territory_synthetic.py`` (by default 10 km² of corons,
suburbs, an industrial zone and fields, 1 km cells) is written into ``SCRATCH`` as IGN
ships it: one DSM GeoTIFF per 1 km tile and a BD TOPO-like footprint GeoPackage; a folder
holding the files of the same seed and generator is reused. The build is the command's
(``read_inputs``, then ``build_from_surface``, as ``build_cadastre`` runs them) with every
tile after one ``--dsm``, on a Dask ``LocalCluster`` of ``--workers`` single-threaded
workers and 1 km tiles, in a fresh process. Once ``--kill-after`` of the tiles are written
to the work folder, that process and its workers get SIGKILL; the same build then runs
again and resumes. ``--compare`` then builds the territory once more without interruption,
into another output, and compares the two cadastres' figures. What the builds measured
goes to ``SCRATCH/runs.json`` after each of them; ``--from-runs`` makes the report again
from it and the outputs left in ``SCRATCH``, without building.

A tile's result is keyed by the package's code: code edited between the killed build and
the resumed one leaves nothing to resume (the report says so). On a checkout that is being
edited, run the benchmark on a copy of the package (``git archive HEAD solar | tar -x -C
COPY``, then ``PYTHONPATH=COPY``).

It reports:

- wall time per km² of the territory and of its built cells, the stages, and each tile's
  compute time by the kind of its cell;
- the peak memory (``VmHWM``) and CPU time of every worker process, and of the client;
- the bytes per roof face of the GeoPackage and the raster as written, and of every output;
- ``resumed N of M tiles``, and that no temporary file is left;
- the extrapolation to the PMA on a 64-core Dask cluster (:func:`extrapolate`), each
  figure marked measured or assumed.

Memory and CPU time are read from ``/proc``: the benchmark runs on Linux. ``--write-doc``
writes the report to ``docs/territory.md``. The machine may be shared: a missed goal is
reported, not an error; the exit status is non-zero only when a build fails.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import os
import pickle
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from territory_synthetic import KINDS, PMA_LAYOUT, TerritoryFiles, write_territory

from solar.build import BuildOptions
from solar.build.run import code_digest

REPO = Path(__file__).resolve().parents[1]
DOC = REPO / "docs" / "territory.md"
RESULT_PREFIX = "BENCH_TERRITORY_RESULT "
PROGRESS_PREFIX = "BENCH_TERRITORY_PROGRESS "
TILE_M = 1000.0  # build tiles and cells alike: one tile, one kind [m]
TILE_STAGES = ("roofs", "horizon", "irradiance", "pv")

# The whole PMA: 150 communes.
PMA_KM2 = 1000.0
PMA_FACES = 1_000_000
GOAL_SECONDS = 15 * 60.0
CLUSTER_CORES = 64
# Assumed, not measured: the PMA's km² by kind of cell. About 250 km² are built up (the
# territory's own figure); their split between dense corons and town centres, suburbs and
# industrial or commercial zones is an estimate, no land-cover map was measured.
PMA_MIX_KM2 = {"corons": 50.0, "suburbs": 160.0, "industrial": 40.0, "fields": 750.0}
# Assumed: the share of the 64 cores kept busy at scale (Dask's scheduler costs about 1 ms
# a task; the rest is the network and the uneven end).
CLUSTER_EFFICIENCY = 0.9


@dataclass
class BuildProcess:
    """One build process, watched from outside.

    Attributes
    ----------
    seconds : float
        Wall time of the process, from its start to its exit or its kill. [s]
    killed : bool
        Killed with SIGKILL once enough tiles were written.
    result : dict or None
        What the build process reported once done (see :func:`_child`).
    progress : list
        (seconds since its start, stage, done, total) of every progress call.
    peak_mb : dict of str to float
        Peak resident memory (``VmHWM``) of the process (``client``) and of each process
        it started (``<pid> <name>``). [MiB]
    tiles_at_kill : tuple of str
        The tiles whose results were in the work folder when it was killed.
    cpu_seconds : dict of str to float
        CPU time (user and system) of the processes it started, by the labels of
        ``peak_mb``, as last seen. [s]
    """

    seconds: float
    killed: bool
    result: dict[str, Any] | None
    progress: list[tuple[float, str, int, int]] = field(default_factory=list)
    peak_mb: dict[str, float] = field(default_factory=dict)
    tiles_at_kill: tuple[str, ...] = ()
    cpu_seconds: dict[str, float] = field(default_factory=dict)

    @property
    def worker_peaks_mb(self) -> list[float]:
        """The peaks of the Dask workers: the started processes but the resource
        tracker. [MiB]"""
        return [mb for name, mb in self.peak_mb.items() if name.endswith(" worker")]

    @property
    def worker_cpu_seconds(self) -> float:
        """The CPU time of the Dask workers together. [s]"""
        return sum(cpu for name, cpu in self.cpu_seconds.items() if name.endswith(" worker"))


def _descendants(pid: int) -> list[int]:
    """The processes ``pid`` started, and theirs, from ``/proc``."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    found: list[int] = []
    todo = [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def _cpu_seconds(pid: int) -> float | None:
    """A process's CPU time, user and system, from ``/proc/<pid>/stat``; None once gone. [s]"""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _vm_hwm_mb(pid: int) -> float | None:
    """A process's peak resident memory, from ``/proc/<pid>/status``; None once gone. [MiB]"""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def _name(pid: int) -> str:
    """A started process's label: its pid and what it runs."""
    try:
        command = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return f"{pid} gone"
    return f"{pid} resource tracker" if "resource_tracker" in command else f"{pid} worker"


def run_build(
    files: TerritoryFiles, out: Path, workers: int, kill_after_tiles: int | None
) -> BuildProcess:
    """Run the build in a fresh process; with ``kill_after_tiles``, SIGKILL it and its
    workers once that many tile results are in the work folder."""
    command = [
        sys.executable,
        str(Path(__file__).resolve()),
        "--child",
        str(out),
        "--workers",
        str(workers),
        "--buildings",
        str(files.footprints),
        *(str(p) for p in files.dsm),
    ]
    work = out.with_name(out.name + ".work")
    log = out.with_name(out.name + ".stderr.log")
    lines: list[str] = []
    start = time.perf_counter()
    with log.open("w") as stderr:
        process = subprocess.Popen(
            command,
            cwd=REPO,
            stdout=subprocess.PIPE,
            stderr=stderr,
            text=True,
            start_new_session=True,
        )
        stdout = process.stdout
        assert stdout is not None
        reader = threading.Thread(target=lambda: lines.extend(stdout), daemon=True)
        reader.start()
        peaks: dict[str, float] = {}
        cpu: dict[str, float] = {}
        started: dict[int, str] = {}
        killed = False
        at_kill: tuple[str, ...] = ()
        while process.poll() is None:
            for pid in _descendants(process.pid):
                if pid not in started:
                    started[pid] = _name(pid)
            for pid, label in [(process.pid, "client"), *started.items()]:
                mb, seconds = _vm_hwm_mb(pid), _cpu_seconds(pid)
                if mb is not None:
                    peaks[label] = max(peaks.get(label, 0.0), mb)
                if seconds is not None:
                    cpu[label] = max(cpu.get(label, 0.0), seconds)
            if kill_after_tiles is not None and not killed and work.is_dir():
                done = tuple(p.name.split(".")[0] for p in work.glob("*.pkl"))
                if len(done) >= kill_after_tiles:
                    os.killpg(process.pid, signal.SIGKILL)
                    killed, at_kill = True, done
            time.sleep(0.25)
        seconds = time.perf_counter() - start
        reader.join(timeout=10)
    # the workers were in the killed process group; any that escaped it are ours to end
    for pid, label in started.items():
        if not label.endswith(" gone") and _name(pid) == label:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
    result = None
    progress = []
    for line in lines:
        if line.startswith(RESULT_PREFIX):
            result = json.loads(line.removeprefix(RESULT_PREFIX))
        elif line.startswith(PROGRESS_PREFIX):
            progress.append(tuple(json.loads(line.removeprefix(PROGRESS_PREFIX))))
    if not killed and (process.returncode != 0 or result is None):
        raise RuntimeError(
            f"the build failed (exit {process.returncode}):\n{log.read_text()[-4000:]}"
        )
    return BuildProcess(seconds, killed, result, progress, peaks, at_kill, cpu)


@dataclass(frozen=True)
class TileFigures:
    """One tile's figures, from its result kept in ``<out>.tiles/``.

    Attributes
    ----------
    name : str
        ``<x>_<y>``, its south-west corner in Lambert-93. [m]
    kind : str
        The kind of its cell.
    compute_seconds : float
        Its stages' wall time on one worker (roofs, horizon, irradiance, pv). [s]
    stage_seconds : dict of str to float
        Each of them. [s]
    faces, roof_pixels : int
    result_bytes : int
        Its result pickled, as the client receives and writes it. [B]
    """

    name: str
    kind: str
    compute_seconds: float
    stage_seconds: dict[str, float]
    faces: int
    roof_pixels: int
    result_bytes: int


def tile_figures(out: Path, files: TerritoryFiles) -> list[TileFigures]:
    """The figures of every tile kept beside ``out``, with the kind of its cell."""
    kinds = {(round(c.bounds[0]), round(c.bounds[1])): c.kind for c in files.cells}
    figures = []
    for path in sorted(out.with_name(out.name + ".tiles").glob("*.pkl")):
        name = path.name.split(".")[0]
        x, y = (int(v) for v in name.split("_"))
        with path.open("rb") as stream:
            result = pickle.load(stream)
        figures.append(
            TileFigures(
                name=name,
                kind=kinds.get((x, y), "mixed"),
                compute_seconds=float(sum(result.seconds.values())),
                stage_seconds=dict(result.seconds),
                faces=len(result.faces),
                roof_pixels=len(result.pixel_x),
                result_bytes=path.stat().st_size,
            )
        )
    return figures


def client_seconds_per_byte(out: Path) -> float:
    """What the client spends per byte of a tile result, on the largest: reading it and
    writing it to disk whole (pickle, fsync), as the build does with each result it
    receives. [s B-1]"""
    tiles = out.with_name(out.name + ".tiles").glob("*.pkl")
    largest = max(tiles, key=lambda p: p.stat().st_size)
    start = time.perf_counter()
    with largest.open("rb") as stream:
        result = pickle.load(stream)
    with tempfile.NamedTemporaryFile(dir=out.parent) as copy:
        pickle.dump(result, copy, protocol=pickle.HIGHEST_PROTOCOL)
        copy.flush()
        os.fsync(copy.fileno())
    return (time.perf_counter() - start) / largest.stat().st_size


def output_bytes(out: Path) -> dict[str, int]:
    """Every file the build wrote beside ``out`` (the kept tiles aside), by name. [B]"""
    return {
        p.name: p.stat().st_size
        for p in sorted(out.parent.iterdir())
        if p.is_file() and p.name.startswith(out.stem + ".") and not p.name.endswith(".log")
    }


def leftovers(out: Path) -> list[str]:
    """Temporary files of the build still beside ``out``: its work folder and staging
    files."""
    names = [out.name + ".work"] if out.with_name(out.name + ".work").exists() else []
    return names + [p.name for p in out.parent.glob(f".{out.stem}*")]


def window_read_seconds(files: TerritoryFiles, halo: float) -> float:
    """What a worker spends reading one tile's window of the DSM mosaic (the tile and its
    halo), as the median over the territory's tiles. [s]"""
    from solar.surface import DsmSource

    source = DsmSource.open(files.dsm)
    xmin, ymin, xmax, ymax = source.bounds
    seconds = []
    for cell in files.cells:
        x0, y0, x1, y1 = cell.bounds
        window = (
            max(x0 - halo, xmin),
            max(y0 - halo, ymin),
            min(x1 + halo, xmax),
            min(y1 + halo, ymax),
        )
        start = time.perf_counter()
        source.read(window)
        seconds.append(time.perf_counter() - start)
    return statistics.median(seconds)


def read_costs(files: TerritoryFiles) -> tuple[float, float]:
    """What reading the inputs costs in the client, in its two parts that grow with the
    territory: hashing the DSM files (their SHA-256 go into the provenance and the tiles'
    keys) and reading the footprints.

    Returns
    -------
    hash_seconds : float
        Hashing every DSM file once. [s]
    footprint_seconds : float
        Reading and checking the footprint file. [s]
    """
    from solar.footprints import read_footprints

    start = time.perf_counter()
    for path in files.dsm:
        with path.open("rb") as stream:
            hashlib.file_digest(stream, "sha256")
    hashed = time.perf_counter()
    read_footprints(files.footprints, target_crs="EPSG:2154", id_field="cleabs")
    return hashed - start, time.perf_counter() - hashed


def cluster_close_seconds(workers: int) -> float:
    """What closing a ``LocalCluster`` like the build's costs, once idle: a fixed part of
    the client's time after the tiles. [s]"""
    from dask.distributed import LocalCluster

    cluster = LocalCluster(n_workers=workers, threads_per_worker=1)
    start = time.perf_counter()
    cluster.close()
    return time.perf_counter() - start


def extrapolate(measures: dict[str, Any], tile_seconds: str) -> dict[str, Any]:
    """The PMA's build on :data:`CLUSTER_CORES` cores, from this run's figures.

    The tiles' cost per km² of each kind (measured: ``tile_seconds`` names the figure,
    wall or CPU time) plus a window's reading (measured), times the PMA's km² of that kind
    (assumed), spread over the cores at :data:`CLUSTER_EFFICIENCY` (assumed); then the
    client's serial parts measured here and scaled: reading and hashing the inputs per
    km², the final write per face. The client also writes each result as it arrives, in
    parallel with the tiles: the tile phase lasts at least as long as that.
    """
    per_kind = measures[tile_seconds]
    read_window = measures["window_read_seconds"]
    tiles = PMA_KM2 / (TILE_M / 1000.0) ** 2
    core_seconds = sum(km2 * per_kind[k] for k, km2 in PMA_MIX_KM2.items()) + tiles * read_window
    faces = sum(km2 * measures["faces_per_km2"][k] for k, km2 in PMA_MIX_KM2.items())
    parallel = core_seconds / (CLUSTER_CORES * CLUSTER_EFFICIENCY)
    # the last tiles end unevenly: at worst one dense tile more
    tail = max(per_kind.values()) + read_window
    buildings = sum(km2 * measures["buildings_per_km2"][k] for k, km2 in PMA_MIX_KM2.items())
    read = (
        measures["read_fixed_seconds"]
        + measures["hash_seconds_per_km2"] * PMA_KM2
        + measures["footprint_seconds_per_building"] * buildings
    )
    raster = measures["raster_seconds_per_km2"] * PMA_KM2
    write = raster + measures["cluster_close_seconds"] + measures["write_seconds_per_face"] * faces
    result_bytes = sum(km2 * measures["result_bytes_per_km2"][k] for k, km2 in PMA_MIX_KM2.items())
    receiving = result_bytes * measures["client_seconds_per_byte"]
    total = read + max(parallel + tail, receiving) + write
    base_mb = measures["client_base_mb"]
    return {
        "faces": faces,
        "tiles": tiles,
        "core_seconds": core_seconds,
        "buildings": buildings,
        "read_seconds": read,
        "parallel_seconds": parallel,
        "tail_seconds": tail,
        "result_bytes": result_bytes,
        "client_receiving_seconds": receiving,
        "raster_seconds": raster,
        "write_seconds": write,
        "total_seconds": total,
        "goal_met": total <= GOAL_SECONDS,
        "client_peak_gb": (base_mb + measures["client_mb_per_face"] * faces) / 1024,
        "output_gb": measures["output_bytes_per_face"] * faces / 1e9,
    }


def measure(
    files: TerritoryFiles,
    resumed: tuple[BuildProcess, BuildProcess],
    tiles: list[TileFigures],
    outputs: tuple[Path, Path],
    workers: int,
    uninterrupted: BuildProcess | None,
) -> dict[str, Any]:
    """Every figure of the report, from the builds and the kept tiles.

    ``tiles`` are those of the timed run, whose output is the second of ``outputs``; the
    first is the resumed build's.
    """
    first, second = resumed
    out, timed_out = outputs
    assert second.result is not None
    summary = second.result
    area_km2 = len(files.cells) * (TILE_M / 1000.0) ** 2
    built_km2 = sum(c.kind != "fields" for c in files.cells) * (TILE_M / 1000.0) ** 2
    written = output_bytes(out)
    gpkg_raster = written[out.name] + written[out.with_suffix(".irradiation.tif").name]
    faces = summary["faces"]
    by_kind = {k: [t for t in tiles if t.kind == k] for k in KINDS.values()}
    # the run whose tile phase is timed: the uninterrupted build, else the resumed one
    timed = uninterrupted or second
    timed_result = timed.result
    assert timed_result is not None
    computed = [t for t in tiles if uninterrupted or t.name not in first.tiles_at_kill]
    tile_events = [t for t, stage, _, _ in timed.progress if stage == "tiles"]
    last_tile = max(tile_events, default=timed_result["read_seconds"])
    tile_phase = last_tile - timed_result["read_seconds"]
    window_read = window_read_seconds(files, BuildOptions().halo)
    busy = sum(t.compute_seconds for t in computed) + len(computed) * window_read
    client_final = timed_result["seconds"] - last_tile
    raster = timed_result["stage_seconds"].get("raster", 0.0)
    stages_written = sum(timed_result["stage_seconds"].get(s, 0.0) for s in ("write", "map"))
    hash_seconds, footprint_seconds = read_costs(files)
    close = min(cluster_close_seconds(workers), client_final - raster - stages_written)
    workers_peak = [mb for p in (first, second, uninterrupted) if p for mb in p.worker_peaks_mb]
    client_peak = max(p.peak_mb.get("client", 0.0) for p in (first, second, uninterrupted) if p)
    client_base = timed_result["base_mb"]
    resumed_seconds = first.seconds + second.seconds
    measures: dict[str, Any] = {
        "area_km2": area_km2,
        "built_km2": built_km2,
        "cells": {k: sum(c.kind == k for c in files.cells) for k in KINDS.values()},
        "footprints": sum(c.buildings for c in files.cells),
        "buildings": summary["buildings"],
        "faces": faces,
        "kwc": summary["kwc"],
        "production_mwh_yr": summary["production_mwh_yr"],
        "tiles": summary["tiles"],
        "tiles_at_kill": len(first.tiles_at_kill),
        "tiles_resumed": summary["tiles_resumed"],
        "killed_after_seconds": first.seconds,
        "resumed_seconds": second.seconds,
        "uninterrupted_seconds": uninterrupted.seconds if uninterrupted else None,
        "stage_seconds": timed_result["stage_seconds"],
        "seconds_per_km2": timed.seconds / area_km2 if uninterrupted else None,
        "seconds_per_built_km2": timed.seconds / built_km2 if uninterrupted else None,
        "resumed_seconds_per_km2": resumed_seconds / area_km2,
        "resumed_seconds_per_built_km2": resumed_seconds / built_km2,
        "compute_seconds_per_km2": {
            k: statistics.mean(t.compute_seconds for t in ts) if ts else 0.0
            for k, ts in by_kind.items()
        },
        # the tiles' wall time on a shared machine, brought to CPU time by the workers'
        # ratio of the two: what the tiles cost a core of their own
        "cpu_seconds_per_km2": {
            k: (statistics.mean(t.compute_seconds for t in ts) if ts else 0.0)
            * (timed.worker_cpu_seconds / busy if busy else 1.0)
            for k, ts in by_kind.items()
        },
        "faces_per_km2": {
            k: statistics.mean(t.faces for t in ts) if ts else 0.0 for k, ts in by_kind.items()
        },
        "tiles_by_kind": {k: len(ts) for k, ts in by_kind.items()},
        "stage_seconds_by_kind": {
            k: {s: statistics.mean(t.stage_seconds.get(s, 0.0) for t in ts) for s in TILE_STAGES}
            for k, ts in by_kind.items()
            if ts
        },
        "read_seconds_per_km2": timed_result["read_seconds"] / area_km2,
        "hash_seconds_per_km2": hash_seconds / area_km2,
        "footprint_seconds_per_building": footprint_seconds / max(summary["buildings"], 1),
        "read_fixed_seconds": max(
            timed_result["read_seconds"] - hash_seconds - footprint_seconds, 0.0
        ),
        "buildings_per_km2": {
            k: statistics.mean(c.buildings for c in files.cells if c.kind == k)
            if any(c.kind == k for c in files.cells)
            else 0.0
            for k in KINDS.values()
        },
        "window_read_seconds": window_read,
        "tile_phase_seconds": tile_phase,
        "tiles_in_tile_phase": len(computed),
        "efficiency": busy / (workers * tile_phase) if tile_phase > 0 else None,
        "client_final_seconds": client_final,
        "raster_seconds_per_km2": raster / area_km2,
        "cluster_close_seconds": close,
        "write_seconds_per_face": (client_final - raster - close) / max(faces, 1),
        "gpkg_map_seconds": stages_written,
        "aggregate_seconds": client_final - raster - stages_written,
        "client_seconds_per_byte": client_seconds_per_byte(timed_out),
        "result_bytes_per_km2": {
            k: statistics.mean(t.result_bytes for t in ts) if ts else 0.0
            for k, ts in by_kind.items()
        },
        "worker_peak_mb": max(workers_peak, default=0.0),
        "worker_peaks_mb": workers_peak,
        "client_peak_mb": client_peak,
        "client_base_mb": client_base,
        "client_mb_per_face": (client_peak - client_base) / max(faces, 1),
        "worker_cpu_seconds": timed.worker_cpu_seconds,
        "worker_busy_seconds": busy,
        "cpu_per_busy_second": timed.worker_cpu_seconds / busy if busy else None,
        "outputs_bytes": written,
        "gpkg_raster_bytes_per_face": gpkg_raster / max(faces, 1),
        "output_bytes_per_face": sum(written.values()) / max(faces, 1),
        "tile_result_bytes": sum(t.result_bytes for t in tiles),
        "leftovers": leftovers(out),
        "per_tile": [asdict(t) for t in tiles],
    }
    if uninterrupted is not None:
        assert uninterrupted.result is not None
        keys = ("buildings", "faces", "kwc", "production_mwh_yr")
        measures["uninterrupted_equal"] = all(uninterrupted.result[k] == summary[k] for k in keys)
    return measures


def _child(out: Path, workers: int, buildings: Path, dsm: list[Path]) -> None:
    """The build itself, as ``cadastre build`` runs it, reporting its progress."""
    from solar.build import BuildInputs, BuildOptions, Execution, build_from_surface, read_inputs

    start = time.perf_counter()

    def progress(stage: str, done: int, total: int) -> None:
        event = [time.perf_counter() - start, stage, done, total]
        print(PROGRESS_PREFIX + json.dumps(event), flush=True)

    options = BuildOptions(tile_size=TILE_M)
    territory = read_inputs(
        BuildInputs(dsm=dsm, buildings=buildings, id_field="cleabs"),
        laz_resolution=options.laz_resolution,
    )
    read_seconds = time.perf_counter() - start
    # the client's memory before any tile: the modules, the footprints, the inputs' facts
    base_mb = _vm_hwm_mb(os.getpid())
    summary = build_from_surface(
        territory,
        out=out,
        options=options,
        execution=Execution(workers=workers, keep_tiles=True),
        progress=progress,
    )
    result = {
        "seconds": time.perf_counter() - start,
        "read_seconds": read_seconds,
        "base_mb": base_mb,
        "stage_seconds": summary.stage_seconds,
        "buildings": summary.buildings,
        "faces": summary.faces,
        "kwc": summary.kwc,
        "production_mwh_yr": summary.production_mwh_yr,
        "tiles": summary.tiles,
        "tiles_resumed": summary.tiles_resumed,
    }
    print(RESULT_PREFIX + json.dumps(result), flush=True)


def _clear(out: Path) -> None:
    """Remove an output and everything a build wrote beside it."""
    for path in out.parent.glob(f"{out.stem}.*"):
        shutil.rmtree(path) if path.is_dir() else path.unlink()
    for path in out.parent.glob(f".{out.stem}*"):
        shutil.rmtree(path) if path.is_dir() else path.unlink()


def _largest_parts(estimate: dict[str, Any]) -> list[tuple[str, float]]:
    """The parts of an estimate, largest first: (name, seconds)."""
    parts = {
        "the raster": estimate["raster_seconds"],
        "the GeoPackage and the map": estimate["write_seconds"] - estimate["raster_seconds"],
        "the tiles": estimate["parallel_seconds"] + estimate["tail_seconds"],
        "reading the inputs": estimate["read_seconds"],
    }
    return sorted(parts.items(), key=lambda part: -part[1])


def report(measures: dict[str, Any], command: str) -> str:
    """The report in Markdown: the method, the measured table, the extrapolation."""
    m, e, c = measures, measures["extrapolation"], measures["extrapolation_cpu"]
    kinds = [k for k in KINDS.values() if m["tiles_by_kind"][k]]
    lines = [
        "# A territory build at 1/100 of the PMA",
        "",
        "Written by `scripts/bench_territory.py --write-doc`; the figures are those of one",
        "run on a shared machine, listed at the end with the command.",
        "",
        "## Method",
        "",
        f"A synthetic territory of {m['area_km2']:.0f} km² (`scripts/territory_synthetic.py`) "
        "in 1 km cells of one kind each: "
        + ", ".join(f"{m['cells'][k]} of {k}" for k in KINDS.values() if m["cells"][k])
        + f"; {m['footprints']:,} footprints. It is written as IGN ships it: one 0.5 m DSM "
        "GeoTIFF per 1 km tile, named like the MNS LiDAR HD tiles, and a BD TOPO-like "
        "`batiment` GeoPackage. The build is the command's (`read_inputs`, then "
        "`build_from_surface`) with every tile after one `--dsm`, on a Dask `LocalCluster` "
        f"of {m['workers']} single-threaded workers, 1 km tiles and a 150 m halo. Once "
        f"{m['tiles_at_kill']} of {m['tiles']} tile results were in the work folder, the "
        "build and its workers got SIGKILL; the same build then ran again.",
        "",
        "## Measured",
        "",
        "| figure | value |",
        "|---|---|",
        f"| buildings, roof faces | {m['buildings']:,}, {m['faces']:,} |",
        f"| resumed | **resumed {m['tiles_resumed']} of {m['tiles']} tiles** |",
        *(
            ["| the package's code changed during the run: no tile could be resumed | |"]
            if m["code_changed"]
            else []
        ),
        f"| temporary files left | {', '.join(m['leftovers']) or 'none'} |",
        f"| killed run, then resumed run | {m['killed_after_seconds']:.0f} s + "
        f"{m['resumed_seconds']:.0f} s |",
        f"| per km² (killed + resumed) | {m['resumed_seconds_per_km2']:.1f} s/km², "
        f"{m['resumed_seconds_per_built_km2']:.1f} s per built km² |",
    ]
    if m["uninterrupted_seconds"] is not None:
        lines += [
            f"| uninterrupted build | {m['uninterrupted_seconds']:.0f} s: "
            f"{m['seconds_per_km2']:.1f} s/km², {m['seconds_per_built_km2']:.1f} s per "
            "built km² |",
            "| resumed cadastre = uninterrupted (buildings, faces, kWc, MWh) | "
            f"{'yes' if m['uninterrupted_equal'] else '**no**'} |",
        ]
    lines += [
        f"| peak memory per worker (VmHWM) | {m['worker_peak_mb']:.0f} MiB |",
        f"| peak memory of the client | {m['client_peak_mb']:.0f} MiB |",
        f"| GeoPackage + raster per face | {m['gpkg_raster_bytes_per_face']:,.0f} B |",
        f"| every output per face | {m['output_bytes_per_face']:,.0f} B |",
        f"| client, reading and checking the inputs | {m['read_seconds_per_km2']:.2f} s/km²: "
        f"{m['hash_seconds_per_km2']:.2f} s/km² hashing the DSM, "
        f"{m['footprint_seconds_per_building'] * 1e3:.2f} ms per footprint, "
        f"{m['read_fixed_seconds']:.1f} s the rest |",
        f"| client, after the tiles | {m['client_final_seconds']:.1f} s: the raster "
        f"{m['raster_seconds_per_km2']:.2f} s/km², the GeoPackage and the map "
        f"{m['gpkg_map_seconds']:.1f} s, aggregating and closing the cluster "
        f"{m['aggregate_seconds']:.1f} s (of which closing an idle cluster "
        f"{m['cluster_close_seconds']:.1f} s); {m['write_seconds_per_face'] * 1e3:.2f} ms per "
        "face but the raster and the closing |",
        f"| client, receiving a result (read, pickle, fsync) | "
        f"{m['client_seconds_per_byte'] * 1e9:.1f} s per GB |",
        f"| a worker reading one tile's window (median) | {m['window_read_seconds']:.2f} s |",
        f"| busy share of the {m['workers']} workers over {m['tiles_in_tile_phase']} tiles "
        f"computed in one run | {m['efficiency']:.0%} |",
        f"| workers' CPU time per second of tile work | {m['cpu_per_busy_second']:.2f} s |",
        "",
        "Stages of the build, summed over the tiles (the tiles' stages on the workers):",
        "",
        "| stage | s |",
        "|---|---|",
        *(f"| {s} | {v:.1f} |" for s, v in m["stage_seconds"].items()),
        "",
        "Each tile's compute time on one worker, by kind (means over the tiles of a kind):",
        "",
        f"| kind | tiles | footprints per km² | faces per km² | s per km² tile | "
        f"{' | '.join(TILE_STAGES)} |",
        "|---|---|---|---|---|" + "---|" * len(TILE_STAGES),
        *(
            f"| {k} | {m['tiles_by_kind'][k]} | {m['buildings_per_km2'][k]:,.0f} | "
            f"{m['faces_per_km2'][k]:,.0f} | {m['compute_seconds_per_km2'][k]:.1f} | "
            + " | ".join(f"{m['stage_seconds_by_kind'][k][s]:.1f}" for s in TILE_STAGES)
            + " |"
            for k in kinds
        ),
        "",
        f"## The PMA on {CLUSTER_CORES} cores",
        "",
        "Two estimates: with the tiles' wall time as measured here, on a machine shared with",
        "other work, and with that time brought to the workers' CPU time (what a tile costs",
        "a core of its own; numba's parallel kernels may also use a second core).",
        "",
        "| part | wall time here [s] | CPU time [s] | measured or assumed |",
        "|---|---|---|---|",
        f"| reading the inputs, {PMA_KM2:.0f} km², {e['buildings']:,.0f} footprints | "
        f"{e['read_seconds']:.0f} | {c['read_seconds']:.0f} | measured per km² and per "
        "footprint, scaled |",
        f"| tiles on {CLUSTER_CORES} cores (core-hours) | {e['parallel_seconds']:.0f} "
        f"({e['core_seconds'] / 3600:.1f}) | {c['parallel_seconds']:.0f} "
        f"({c['core_seconds'] / 3600:.1f}) | per kind and window read measured, mix assumed, "
        f"efficiency {CLUSTER_EFFICIENCY:.0%} assumed |",
        f"| last tiles (one dense tile) | {e['tail_seconds']:.0f} | {c['tail_seconds']:.0f} | "
        "measured |",
        f"| client receiving {e['result_bytes'] / 1e9:.0f} GB of results, during the tiles | "
        f"{e['client_receiving_seconds']:.0f} | {c['client_receiving_seconds']:.0f} | "
        "measured per byte, scaled |",
        f"| writing the raster and {e['faces']:,.0f} faces | {e['write_seconds']:.0f} | "
        f"{c['write_seconds']:.0f} | measured per km² (raster) and per face (the rest), "
        "scaled |",
        f"| **total** | **{e['total_seconds'] / 60:.1f} min** | "
        f"**{c['total_seconds'] / 60:.1f} min** | goal {GOAL_SECONDS / 60:.0f} min: "
        f"{'met' if e['goal_met'] else '**missed**'}, "
        f"{'met' if c['goal_met'] else '**missed**'} |",
        "",
        "The largest parts at CPU time: "
        + ", ".join(f"{name} {seconds / 60:.1f} min" for name, seconds in _largest_parts(c))
        + ".",
        "",
        "Assumed:",
        "",
        "- the PMA's mix: "
        + ", ".join(f"{km2:.0f} km² of {k}" for k, km2 in PMA_MIX_KM2.items())
        + f" ({sum(v for k, v in PMA_MIX_KM2.items() if k != 'fields'):.0f} km² built up); "
        f"it gives {e['faces']:,.0f} faces, against about {PMA_FACES:,} expected;",
        f"- {CLUSTER_CORES} cores as fast as one of this machine's, {CLUSTER_EFFICIENCY:.0%} of "
        "them busy (Dask's scheduler costs about 1 ms a task, a thousand tasks a second; the "
        "rest is the network and the uneven end); the busy share measured here on 2 workers "
        "counts the cluster's start and the other work of a shared machine;",
        "- the client's reading, writing and memory grow linearly with the km², the footprints "
        "and the faces (what else is fixed in them is counted per face: an upper bound);",
        "- the inputs on a disk the workers read as fast as this machine's.",
        "",
        f"At that size the client would hold about {e['client_peak_gb']:.1f} GB at its peak "
        f"({m['client_base_mb']:.0f} MiB before the tiles, then "
        f"{m['client_mb_per_face'] * 1024:.1f} KiB per face as here) and write "
        f"{e['output_gb']:.1f} GB.",
        "",
        "## The run",
        "",
        f"`{command}`, on {m['cpu_count']} cores shared with other work (load average "
        f"{m['load_average'][0]:.1f} at the start, {m['load_average_end'][0]:.1f} at the end).",
        "",
    ]
    return "\n".join(lines)


def _builds(
    files: TerritoryFiles, folder: Path, out: Path, workers: int, kill_after: float, compare: bool
) -> None:
    """Run the builds, the killed one, the resumed one, then the uninterrupted one when
    asked, and write what they measured to ``runs.json`` after each, so that a report can
    be made of the first two alone (``--from-runs``).

    Raises
    ------
    RuntimeError
        A build failed.
    """
    runs_path = folder / "runs.json"
    runs_path.unlink(missing_ok=True)
    load = os.getloadavg()
    digest = code_digest()
    _clear(out)
    first = run_build(files, out, workers, max(round(kill_after * len(files.dsm)), 1))
    print(
        f"killed after {first.seconds:.0f} s, {len(first.tiles_at_kill)} tiles written"
        if first.killed
        else f"not killed: the build ended in {first.seconds:.0f} s",
        flush=True,
    )
    second = run_build(files, out, workers, None)
    assert second.result is not None
    print(
        f"resumed {second.result['tiles_resumed']} of {second.result['tiles']} tiles, "
        f"{second.seconds:.0f} s",
        flush=True,
    )
    code_digest.cache_clear()
    runs = {
        "uninterrupted": None,
        "first": asdict(first),
        "second": asdict(second),
        # a tile's key holds the package's code: code edited between the killed build and
        # the next one leaves nothing to resume
        "code_changed": code_digest() != digest,
        "load_average": load,
        "load_average_end": os.getloadavg(),
    }
    runs_path.write_text(json.dumps(runs, indent=2) + "\n")
    if compare:
        reference = folder / "uninterrupted.gpkg"
        _clear(reference)
        uninterrupted = run_build(files, reference, workers, None)
        print(f"uninterrupted build: {uninterrupted.seconds:.0f} s", flush=True)
        runs["uninterrupted"] = asdict(uninterrupted)
        runs["load_average_end"] = os.getloadavg()
        runs_path.write_text(json.dumps(runs, indent=2) + "\n")


def _build_process(fields: dict[str, Any]) -> BuildProcess:
    """A :class:`BuildProcess` read back from JSON."""
    return BuildProcess(
        **{
            **fields,
            "progress": [tuple(p) for p in fields["progress"]],
            "tiles_at_kill": tuple(fields["tiles_at_kill"]),
        }
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--folder", type=Path, help="scratch folder for inputs and outputs")
    parser.add_argument(
        "--layout", default="/".join(PMA_LAYOUT), help="cells' kinds, rows north to south"
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--kill-after", type=float, default=0.5, help="share of tiles done")
    parser.add_argument("--compare", action="store_true", help="also build without a kill")
    parser.add_argument("--json", type=Path, help="write the figures to this JSON file")
    parser.add_argument("--write-doc", action="store_true", help="write docs/territory.md")
    parser.add_argument(
        "--from-runs", action="store_true", help="report on the builds of the last run again"
    )
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--buildings", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("dsm", nargs="*", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        _child(args.child, args.workers, args.buildings, args.dsm)
        return 0
    folder = args.folder or Path(tempfile.gettempdir()) / "bench_territory"
    start = time.perf_counter()
    files = write_territory(folder / "inputs", args.layout.split("/"), seed=args.seed)
    print(f"inputs: {len(files.dsm)} DSM tiles in {time.perf_counter() - start:.0f} s", flush=True)
    out = folder / "territory.gpkg"
    runs_path = folder / "runs.json"
    if not args.from_runs:
        try:
            _builds(files, folder, out, args.workers, args.kill_after, args.compare)
        except RuntimeError as error:
            print(error, file=sys.stderr)
            return 1
    runs = json.loads(runs_path.read_text())
    first, second = (_build_process(runs[k]) for k in ("first", "second"))
    uninterrupted = _build_process(runs["uninterrupted"]) if runs["uninterrupted"] else None
    # the tiles' figures come from the run whose tile phase is timed: the uninterrupted
    # build when there is one, else the killed and resumed one
    timed_out = folder / "uninterrupted.gpkg" if uninterrupted else out
    tiles = tile_figures(timed_out, files)
    measures = measure(files, (first, second), tiles, (out, timed_out), args.workers, uninterrupted)
    measures["workers"] = args.workers
    measures["cpu_count"] = os.cpu_count()
    for key in ("code_changed", "load_average", "load_average_end"):
        measures[key] = runs[key]
    measures["extrapolation"] = extrapolate(measures, "compute_seconds_per_km2")
    measures["extrapolation_cpu"] = extrapolate(measures, "cpu_seconds_per_km2")
    command = (
        f"python scripts/bench_territory.py --folder SCRATCH --layout {args.layout} "
        f"--workers {args.workers} --kill-after {args.kill_after}"
        + (" --compare" if args.compare else "")
    )
    text = report(measures, command)
    print()
    print(text)
    if args.json:
        args.json.write_text(json.dumps(measures, indent=2, default=str) + "\n")
    if args.write_doc:
        DOC.write_text(text)
        print(f"written to {DOC.relative_to(REPO)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
