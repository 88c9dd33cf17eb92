"""Benchmark the API under load: p50/p99 latency and requests/s of the two resident endpoints.

Starts uvicorn on 127.0.0.1 (loopback only) in a subprocess, then drives it with N
concurrent keep-alive HTTP/1.1 connections from this process, for a bounded time and a
bounded number of requests per run, and stops everything by itself.

    python scripts/bench_api.py                      # every configuration, 8 s each
    python scripts/bench_api.py --workers 2 --http httptools --loop uvloop --duration 5
    python scripts/bench_api.py --cadastre build/demo/cadastre.gpkg
    python scripts/bench_api.py --territory FOLDER    # the 300,000-building cadastre

The cadastre is ``--cadastre``, else the demo cadastre when it has been built, else a
synthetic one written here (2,000 gable-roofed buildings in Lens, faces outlined with a
vertex every metre as the segmentation's outlines are, one demo address each).

``--territory FOLDER`` serves ``FOLDER/territory.gpkg``, the territory-size cadastre of
``scripts/territory.py`` (about 335,000 buildings, 1 M faces and 320,000 addresses;
written there first when missing, once: minutes and about 12 GB of memory), as
``cadastre serve --workers 2`` does: the same server settings, the JSON access log on
(to a file), the rate limit off (every request comes from 127.0.0.1). It starts cold: the
cadastre's pages are first dropped from the page cache, as a restart of the machine drops
them, and the share of the file the service has read back (:mod:`app.pagecache`) is
printed before the load. It reports the time from the command to the first 200 on
``/health`` and to every worker serving, the memory of each worker, then
``/addresses/{id}/solar`` with ids drawn at random over every address with a building,
so that the service's cache of 4,096 buildings answers about 1 request in 80, and the
address search with queries typed as a resident types them (the first words of a random
label, the last one cut).

The client is a minimal asyncio HTTP/1.1 client on the loop's callbacks with prebuilt
requests, not httpx: httpx spends about 10 times more CPU per request, and on a 2-core
machine the client shares the cores with the server. Its CPU use is reported beside the
figures; the server figures are pessimistic by that much. It opens its connections one
at a time, as clients arrive: opened in a burst, most of them go to one worker. The
server's CPU per request is measured from /proc, for each worker too (``--territory``);
``--gzip`` asks for compressed answers, as browsers do.

Targets of the service: p50 ≤ 3 ms, p99 ≤ 20 ms, ≥ 1,500 req/s on 2 cores.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import os
import random
import resource
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import typing
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from rasterio.crs import CRS

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from app.cli import user_data_dir  # noqa: E402
from app.pagecache import evict, resident_fraction  # noqa: E402
from solar.addresses import address_layer, demo_addresses, link_addresses  # noqa: E402
from solar.cadastre import (  # noqa: E402
    BUILDING_FIELDS,
    FACE_FIELDS,
    MONTHLY_FIELDS,
    Cadastre,
    FaceProfiles,
    GeoTable,
    write_cadastre,
)
from solar.demo import CADASTRE_FILE  # noqa: E402
from solar.footprints import Footprint  # noqa: E402

TARGET_P50_MS, TARGET_P99_MS, TARGET_RPS = 3.0, 20.0, 1500.0
#: The demo cadastre, where `cadastre demo` builds it.
DEMO_CADASTRE = Path(os.environ.get("CADASTRE_DATA_DIR") or user_data_dir()) / CADASTRE_FILE
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
#: Time between two connections of the load generator as it opens them. [s]
CONNECT_GAP_S = 0.005

run_async: Callable[..., Any] = asyncio.run
with contextlib.suppress(ImportError):  # the client's own loop: uvloop halves its CPU use
    import uvloop

    run_async = uvloop.run


def synthetic_cadastre(path: Path, n_buildings: int = 2000, seed: int = 0) -> Path:
    """Write a cadastre of ``n_buildings`` gable roofs in Lens, with one address each, and
    no hourly production."""
    rng = np.random.default_rng(seed)
    side = int(np.ceil(np.sqrt(n_buildings)))
    footprints, face_rows, face_geoms, building_rows = [], [], [], []
    monthly: dict[str, list[object]] = {k: [] for k in MONTHLY_FIELDS}
    shares = np.array([2.5, 4.0, 7.5, 10.5, 12.5, 13.0, 13.0, 11.5, 9.0, 6.5, 3.5, 2.0])
    shares /= shares.sum()
    for i in range(n_buildings):
        x0 = 684_000.0 + 20.0 * (i % side)
        y0 = 7_030_000.0 + 20.0 * (i // side)
        length, width = rng.uniform(8, 14), rng.uniform(6, 10)
        building_id = f"SYN{i:06d}"
        footprint = shapely.box(x0, y0, x0 + length, y0 + width)
        footprints.append(Footprint(building_id, footprint))
        rows = []
        for k, (azimuth, irradiation) in enumerate(((180.0, 1120.0), (0.0, 690.0))):
            half = (
                shapely.box(x0, y0, x0 + length, y0 + width / 2)
                if k == 0
                else shapely.box(x0, y0 + width / 2, x0 + length, y0 + width)
            )
            area = half.area / np.cos(np.radians(35.0))
            panels = int(area * 0.6 / 1.94)
            kwc = round(panels * 0.425, 3)
            specific = round(irradiation * 0.82, 1)
            face_id = f"{building_id}-{k + 1}"
            rows.append(
                {
                    "building_id": building_id,
                    "face_id": face_id,
                    "tilt_deg": 35.0,
                    "azimuth_deg": azimuth,
                    "is_flat": False,
                    "area_m2": round(area, 2),
                    "usable_area_m2": round(area * 0.6, 2),
                    "irradiation_kwh_m2_yr": irradiation,
                    "shading_loss_pct": round(float(rng.uniform(0, 15)), 2),
                    "panels": panels,
                    "kwc": kwc,
                    "production_kwh_yr": round(kwc * specific, 1),
                    "specific_yield_kwh_kwc": specific,
                    "suitability": "good" if k == 0 else "fair",
                    "production_p10_kwh_yr": round(kwc * specific * 0.9, 1),
                    "production_p50_kwh_yr": round(kwc * specific, 1),
                    "production_p90_kwh_yr": round(kwc * specific * 1.1, 1),
                    "part_id": None,
                    "module_tilt_deg": 35.0,
                    "module_azimuth_deg": azimuth,
                    "roof_irradiation_kwh_m2_yr": irradiation,
                }
            )
            face_geoms.append(shapely.segmentize(half, 1.0))
            for month in range(12):
                monthly["face_id"].append(face_id)
                monthly["month"].append(month + 1)
                monthly["irradiation_kwh_m2"].append(round(irradiation * shares[month], 2))
                monthly["production_kwh"].append(round(kwc * specific * shares[month], 2))
        face_rows.extend(rows)
        kwc = sum(r["kwc"] for r in rows)
        production = sum(r["production_kwh_yr"] for r in rows)
        building_rows.append(
            {
                "building_id": building_id,
                "commune_insee": "62498",
                "n_faces": 2,
                "usable_area_m2": round(sum(r["usable_area_m2"] for r in rows), 2),
                "panels": sum(r["panels"] for r in rows),
                "kwc": round(kwc, 3),
                "production_kwh_yr": round(production, 1),
                "specific_yield_kwh_kwc": round(production / kwc, 1) if kwc else 0.0,
                "irradiation_kwh_m2_yr": 905.0,
                "shading_loss_pct": 5.0,
                "suitability": "good",
                "footprint_check": "ok",
                "footprint_shift_m": None,
                "production_p10_kwh_yr": round(production * 0.9, 1),
                "production_p50_kwh_yr": round(production, 1),
                "production_p90_kwh_yr": round(production * 1.1, 1),
                "usage_1": "Résidentiel",
                "nature": "Indifférenciée",
                "hauteur": 7.0,
                "nombre_de_logements": 1.0,
            }
        )

    def columns(rows: list[dict[str, object]], names: Sequence[str]) -> dict[str, np.ndarray]:
        return {
            n: np.asarray(
                [r[n] for r in rows], dtype=object if isinstance(rows[0][n], str) else None
            )
            for n in names
        }

    lambert93 = CRS.from_epsg(2154)
    addresses = demo_addresses(
        footprints, lambert93, commune_insee="62498", nom_commune="Lens", code_postal="62300"
    )
    return write_cadastre(
        path,
        crs=lambert93,
        buildings=GeoTable(
            np.array([f.geometry for f in footprints], dtype=object),
            columns(building_rows, BUILDING_FIELDS),
            "MultiPolygon",
        ),
        faces=GeoTable(
            np.array(face_geoms, dtype=object), columns(face_rows, FACE_FIELDS), "MultiPolygon"
        ),
        monthly={k: np.asarray(v) for k, v in monthly.items()},
        # the endpoints measured here read no hourly production
        profiles=FaceProfiles([], []),
        provenance={"code_version": "bench", "weather_file": "synthetic"},
        addresses=address_layer(addresses, link_addresses(addresses, footprints)),
    )


@dataclass
class Result:
    name: str
    latencies_ms: np.ndarray
    errors: int
    seconds: float
    client_cpu: float
    server_cpu: float
    worker_cpu: list[float]

    @property
    def rps(self) -> float:
        return len(self.latencies_ms) / self.seconds


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def process_cpu(pid: int) -> float:
    """CPU seconds (user + system) of ``pid`` alone, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def process_tree_cpu(pid: int) -> float:
    """CPU seconds (user + system) of ``pid`` and its children, from /proc."""
    total = 0.0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        # after the command name: state, ppid, …; utime and stime are fields 14 and 15
        if int(stat.parent.name) == pid or int(fields[1]) == pid:
            total += (int(fields[11]) + int(fields[12])) / CLOCK_TICKS
    return total


@contextlib.contextmanager
def uvicorn_server(
    cadastre: Path, *, workers: int, http: str, loop: str, settings: Mapping[str, str] | None = None
) -> Iterator[tuple[int, int]]:
    """A uvicorn subprocess serving ``cadastre`` on loopback; yields (port, pid).

    ``settings`` adds environment variables, such as ``CADASTRE_DB``."""
    port = free_port()
    env = {
        **os.environ,
        "CADASTRE_PATH": str(cadastre),
        "PYTHONPATH": str(ROOT),
        # every connection comes from 127.0.0.1: the per-client rate limit would answer 429
        "CADASTRE_RATE_LIMIT": "0",
        **(settings or {}),
    }
    command = [
        sys.executable, "-m", "uvicorn", "--factory", "app.main:create_app",
        "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers),
        "--http", http, "--loop", loop, "--no-access-log", "--log-level", "warning",
    ]  # fmt: skip
    server = subprocess.Popen(command, env=env, cwd=ROOT)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=1):
                    break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("uvicorn did not start") from None
                time.sleep(0.2)
        # with several workers, /health answered by one says nothing of the others
        time.sleep(1.0 if workers > 1 else 0.0)
        yield port, server.pid
    finally:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


@dataclass
class Started:
    """A served territory: where, and how long it took to start."""

    port: int
    pid: int
    first_health_s: float
    workers_ready_s: list[float]


def worker_pids(pid: int) -> list[int]:
    """The uvicorn workers of the server ``pid``: its children that multiprocessing
    spawned, but its resource tracker."""
    out = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, IndexError):
            fields = stat.read_text().rsplit(")", 1)[1].split()
            command = (stat.parent / "cmdline").read_bytes()
            spawned = b"spawn_main" in command and b"resource_tracker" not in command
            if int(fields[1]) == pid and spawned:
                out.append(int(stat.parent.name))
    return sorted(out)


def memory_mb(pid: int) -> tuple[float, float]:
    """Resident memory of ``pid`` now, and its peak. [MB]"""
    values = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            values[key] = int(value.split()[0]) / 1024
    return values["VmRSS"], values["VmHWM"]


@contextlib.contextmanager
def served_like_the_cli(cadastre: Path, workers: int, log: Path) -> Iterator[Started]:
    """``cadastre serve --workers N`` (:func:`app.main.serve`) on a free loopback port.

    The clock runs from the command: the first 200 on ``/health``, then each worker's
    start-up line in the log (a worker logs it once its services are open).
    """
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(ROOT), "CADASTRE_RATE_LIMIT": "0"}
    command = [
        sys.executable, "-c",
        "import sys; from app.main import serve; "
        "serve(sys.argv[1], port=int(sys.argv[2]), workers=int(sys.argv[3]))",
        str(cadastre), str(port), str(workers),
    ]  # fmt: skip
    start = time.perf_counter()
    with open(log, "wb") as stream:
        server = subprocess.Popen(command, env=env, cwd=ROOT, stderr=stream)
    try:
        first = None
        ready: list[float] = []
        deadline = time.monotonic() + 180
        while first is None or len(ready) < workers:
            if server.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the server did not start; see {log}")
            if first is None:
                with (
                    contextlib.suppress(OSError),
                    urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=1),
                ):
                    first = time.perf_counter() - start
            lines = log.read_text(encoding="utf-8", errors="replace").splitlines()
            while len(ready) < sum('"message": "serving ' in line for line in lines):
                ready.append(time.perf_counter() - start)
            time.sleep(0.05)
        yield Started(port, server.pid, first, ready)
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def search_queries(labels: Sequence[str], n: int, seed: int = 0) -> list[str]:
    """Queries as a resident types them: the first words of a label, the last one cut."""
    rng = random.Random(seed)
    out = []
    for label in rng.sample(list(labels), n):
        words = label.split()
        kept = words[: rng.randint(2, len(words))]
        kept[-1] = kept[-1][: rng.randint(1, len(kept[-1]))]
        out.append(" ".join(kept))
    return out


def bench_territory(folder: Path, args: argparse.Namespace) -> int:
    """Make the territory cadastre when missing, serve it as the CLI does, and load it."""
    cadastre_path = folder / "territory.gpkg"
    if not cadastre_path.exists():
        subprocess.run(
            [sys.executable, str(ROOT / "scripts" / "territory.py"), str(folder)], check=True
        )
    con = sqlite3.connect(f"{cadastre_path.resolve().as_uri()}?mode=ro", uri=True)
    try:
        ids = [
            r[0]
            for r in con.execute("SELECT address_id FROM addresses WHERE building_id IS NOT NULL")
        ]
        labels = [r[0] for r in con.execute("SELECT label FROM addresses")]
        n_buildings = con.execute("SELECT count(*) FROM buildings").fetchone()[0]
    finally:
        con.close()
    print(
        f"territory {cadastre_path}: {n_buildings:,} buildings, {len(ids):,} addresses with "
        f"a building, {cadastre_path.stat().st_size / 1e6:,.0f} MB; {args.clients} clients, "
        f"{args.duration:g} s per run, {os.cpu_count()} cores, load average "
        f"{os.getloadavg()[0]:.1f}",
        flush=True,
    )
    scenarios = {
        # the fixed cost of a request: the server, the middleware and the framework
        "health (baseline)": ["/health"],
        "address solar, random ids": [f"/api/v1/addresses/{a}/solar" for a in ids],
        "address search": [
            f"/api/v1/addresses?{urllib.parse.urlencode({'q': q})}"
            for q in search_queries(labels, min(len(labels), 5000))
        ],
    }
    workers = int(args.workers.split(",")[-1])
    evict(cadastre_path)
    print(
        f"cold start: {resident_fraction(cadastre_path):.0%} of the cadastre in the page "
        "cache before the command, as after the machine starts",
        flush=True,
    )
    with tempfile.TemporaryDirectory() as tmp:
        log = Path(tmp) / "server.log"
        with served_like_the_cli(cadastre_path, workers, log) as started:
            pids = worker_pids(started.pid)
            memory = [memory_mb(pid) for pid in pids]
            print(
                f"start: first 200 on /health after {started.first_health_s:.1f} s, every "
                f"worker serving after {max(started.workers_ready_s):.1f} s; memory per worker "
                + ", ".join(f"{rss:.0f} MB" for rss, _ in memory),
                flush=True,
            )
            # the search index and the simulations' factors are prepared just after start
            time.sleep(args.settle)
            print(
                f"{resident_fraction(cadastre_path):.0%} of the cadastre in the page cache "
                f"{args.settle:g} s after the start (the service reads it ahead)",
                flush=True,
            )
            rates = [None, args.rate] if args.rate else [None]
            for (name, paths), rate in itertools.product(scenarios.items(), rates):
                mode = "saturated" if rate is None else f"paced {rate:g}/s"
                result = run_load(
                    f"{name}, {workers}w, {mode}",
                    started.port,
                    started.pid,
                    paths,
                    clients=args.clients,
                    seconds=args.duration,
                    max_requests=args.max_requests,
                    rate=rate,
                    warm_up=False,
                    workers=pids,
                    headers="Accept-Encoding: gzip\r\n" if args.gzip else "",
                )
                print(report(result, paced=rate is not None), flush=True)
            peaks = [memory_mb(pid)[1] for pid in pids]
            print("peak memory per worker: " + ", ".join(f"{p:.0f} MB" for p in peaks))
        access = sum(1 for line in log.read_text().splitlines() if '"request_id"' in line)
        print(f"access log: {access:,} lines")
    return 0


class _Connection(asyncio.Protocol):
    """One keep-alive connection: back to back, or one request every ``interval`` s.

    A protocol on the loop's callbacks, not streams: at 1,500 requests a second the
    client shares the cores with the server, and streams cost it about three times the
    CPU. Requests are prebuilt bytes. Paced latencies run from the scheduled send time,
    not the actual one, so a stalled server is charged for the requests it kept waiting
    (no coordinated omission).
    """

    def __init__(
        self,
        requests: Iterator[bytes],
        interval: float | None,
        budget: list[int],
        latencies: list[float],
        errors: list[int],
    ):
        self.loop = asyncio.get_running_loop()
        self.requests = requests
        self.end = 0.0
        self.interval = interval
        self.budget = budget
        self.latencies = latencies
        self.errors = errors
        self.closed = self.loop.create_future()
        self.buffer = bytearray()
        self.expected: int | None = None  # bytes of the response being read, head included
        self.scheduled = 0.0
        self.transport = typing.cast(asyncio.Transport, None)  # set once connected

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports are not asyncio.Transport subclasses, but behave as one
        self.transport = typing.cast(asyncio.Transport, transport)

    def begin(self, first: float, end: float) -> None:
        """Send the first request at ``first``, and none after ``end``."""
        self.end = end
        self._next(first)

    def _next(self, when: float) -> None:
        if when >= self.end or self.budget[0] <= 0:
            self.transport.close()
            return
        self.budget[0] -= 1
        self.scheduled = when
        delay = when - time.perf_counter()
        if delay > 0:
            self.loop.call_later(delay, self._send)
        else:
            self._send()

    def _send(self) -> None:
        if self.interval is None:
            self.scheduled = time.perf_counter()
        self.transport.write(next(self.requests))

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while True:
            if self.expected is None:
                head_end = self.buffer.find(b"\r\n\r\n")
                if head_end < 0:
                    return
                head = bytes(self.buffer[:head_end]).lower()
                at = head.find(b"\r\ncontent-length:")
                length = 0 if at < 0 else int(head[at + 17 :].split(b"\r\n", 1)[0])
                self.expected = head_end + 4 + length
            if len(self.buffer) < self.expected:
                return
            now = time.perf_counter()
            self.latencies.append(now - self.scheduled)
            if not self.buffer.startswith(b"HTTP/1.1 200"):
                self.errors[0] += 1
            del self.buffer[: self.expected]
            self.expected = None
            self._next(now if self.interval is None else self.scheduled + self.interval)

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.closed.done():
            self.closed.set_result(None)


async def _drive(
    port: int,
    paths: Sequence[str],
    clients: int,
    seconds: float,
    max_requests: int,
    rate: float | None,
    headers: str = "",
) -> tuple[list[float], int, float]:
    latencies: list[float] = []
    errors = [0]
    budget = [max_requests]
    rng = random.Random(0)
    shuffled = [f"GET {path} HTTP/1.1\r\nHost: bench\r\n{headers}\r\n".encode() for path in paths]
    rng.shuffle(shuffled)
    cycle = itertools.cycle(shuffled)
    interval = None if rate is None else clients / rate
    loop = asyncio.get_running_loop()
    connections = []
    for _ in range(clients):
        _, connection = await loop.create_connection(
            lambda: _Connection(cycle, interval, budget, latencies, errors), "127.0.0.1", port
        )
        connections.append(connection)
        # one at a time, as clients arrive: a burst of connections is accepted whole by
        # whichever worker wakes first (44 of 64 on one worker in a test)
        await asyncio.sleep(CONNECT_GAP_S)
    start = time.perf_counter() + 0.01
    for k, connection in enumerate(connections):
        # stagger the paced connections evenly over one interval
        connection.begin(
            start + (0.0 if interval is None else k * interval / clients), start + seconds
        )
    await asyncio.gather(*(c.closed for c in connections))
    return latencies, errors[0], time.perf_counter() - start


def run_load(
    name: str,
    port: int,
    server_pid: int,
    paths: Sequence[str],
    *,
    clients: int,
    seconds: float,
    max_requests: int,
    rate: float | None,
    warm_up: bool = True,
    workers: Sequence[int] = (),
    headers: str = "",
) -> Result:
    """Warm up for a second, then measure for ``seconds`` (or ``max_requests``).

    Without ``warm_up``, the paths are not visited before they are measured: each is
    then asked for once in a run shorter than the list. The CPU of each of ``workers``
    (pids) is reported apart: connections shared unevenly load one worker more.
    ``headers`` are added to every request (``"Accept-Encoding: gzip\\r\\n"``).
    """
    if warm_up:
        run_async(_drive(port, paths, clients, 1.0, max_requests, None, headers))
    cpu0 = resource.getrusage(resource.RUSAGE_SELF)
    server0 = process_tree_cpu(server_pid)
    workers0 = [process_cpu(pid) for pid in workers]
    latencies, errors, wall = run_async(
        _drive(port, paths, clients, seconds, max_requests, rate, headers)
    )
    cpu1 = resource.getrusage(resource.RUSAGE_SELF)
    client_cpu = (cpu1.ru_utime - cpu0.ru_utime + cpu1.ru_stime - cpu0.ru_stime) / wall
    server_cpu = (process_tree_cpu(server_pid) - server0) / wall
    worker_cpu = [(process_cpu(pid) - c) / wall for pid, c in zip(workers, workers0, strict=True)]
    return Result(name, np.array(latencies) * 1e3, errors, wall, client_cpu, server_cpu, worker_cpu)


def report(result: Result, paced: bool) -> str:
    p50, p99 = np.percentile(result.latencies_ms, [50, 99])
    # server CPU per request: what 2 dedicated cores would sustain, whatever the load here
    cpu_ms = 1e3 * result.server_cpu / result.rps
    verdict = ""
    if paced:
        ok = p50 <= TARGET_P50_MS and p99 <= TARGET_P99_MS and result.errors == 0
        verdict = "meets" if ok else "misses"
    else:
        verdict = "meets" if result.rps >= TARGET_RPS else "misses"
    workers = (
        f" (workers {' + '.join(f'{c:4.2f}' for c in result.worker_cpu)})"
        if result.worker_cpu
        else ""
    )
    return (
        f"{result.name:<58} {result.rps:6.0f} req/s  p50 {p50:7.2f} ms  p99 {p99:7.2f} ms  "
        f"err {result.errors:<3d} server {result.server_cpu:4.2f} cores{workers} "
        f"({cpu_ms:4.2f} ms/req)  client {result.client_cpu:4.2f} cores  {verdict}"
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cadastre", type=Path, help="cadastre to serve")
    parser.add_argument(
        "--territory",
        type=Path,
        metavar="FOLDER",
        help="serve FOLDER/territory.gpkg (made there when missing) as the CLI does",
    )
    parser.add_argument(
        "--settle", type=float, default=5.0, help="seconds between start and load (territory)"
    )
    parser.add_argument("--workers", default="1,2", help="uvicorn worker counts to try")
    parser.add_argument("--http", default="h11,httptools", help="uvicorn HTTP parsers to try")
    parser.add_argument("--loop", default="asyncio,uvloop", help="event loops to try")
    parser.add_argument("--clients", type=int, default=64, help="concurrent connections")
    parser.add_argument("--duration", type=float, default=8.0, help="seconds per run")
    parser.add_argument("--max-requests", type=int, default=100_000, help="cap per run")
    parser.add_argument(
        "--rate",
        type=float,
        default=TARGET_RPS,
        help="offered load of the paced runs [req/s]; 0 skips them",
    )
    parser.add_argument(
        "--gzip",
        action="store_true",
        help="accept gzip, as browsers do (territory); without it, answers are not compressed",
    )
    args = parser.parse_args(argv)
    if args.territory:
        return bench_territory(args.territory, args)

    with tempfile.TemporaryDirectory() as tmp:
        if args.cadastre:
            cadastre_path = args.cadastre
        elif DEMO_CADASTRE.exists():
            cadastre_path = DEMO_CADASTRE
        else:
            start = time.perf_counter()
            cadastre_path = synthetic_cadastre(Path(tmp) / "bench.gpkg")
            print(f"synthetic cadastre written in {time.perf_counter() - start:.1f} s")
        cadastre = Cadastre(cadastre_path)
        addresses = [a for a in cadastre.addresses() if a.building_id is not None]
        building_ids = sorted({a.building_id for a in addresses if a.building_id})
        summary = cadastre.summary()
        print(
            f"cadastre {cadastre_path}: {summary['buildings']} buildings, {summary['faces']} "
            f"faces, {len(addresses)} addresses with a building; {args.clients} clients, "
            f"{args.duration:g} s per run, {os.cpu_count()} cores"
        )
        scenarios = {
            "address solar": [f"/api/v1/addresses/{a.address_id}/solar" for a in addresses],
            "building": [f"/api/v1/buildings/{b}" for b in building_ids],
        }
        for workers, http, loop in itertools.product(
            [int(w) for w in args.workers.split(",")],
            args.http.split(","),
            args.loop.split(","),
        ):
            with uvicorn_server(cadastre_path, workers=workers, http=http, loop=loop) as (
                port,
                pid,
            ):
                rates = [None, args.rate] if args.rate else [None]
                for (name, paths), rate in itertools.product(scenarios.items(), rates):
                    mode = "saturated" if rate is None else f"paced {rate:g}/s"
                    result = run_load(
                        f"{name}, {workers}w {http} {loop}, {mode}",
                        port,
                        pid,
                        paths,
                        clients=args.clients,
                        seconds=args.duration,
                        max_requests=args.max_requests,
                        rate=rate,
                    )
                    print(report(result, paced=rate is not None), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
