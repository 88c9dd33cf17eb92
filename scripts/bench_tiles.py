"""Benchmark the roofs' vector tiles on a territory-size cadastre: latency and size per zoom.

    python scripts/territory.py territory/ --tiles         # 1 M faces and their archive
    python scripts/bench_tiles.py --cadastre territory/territory.gpkg

Random tiles over the territory's extent, at zooms 14 to 18, three ways:

- **served**: ``GET /api/v1/tiles/roofs/{z}/{x}/{y}.mvt`` from ``cadastre serve`` (uvicorn
  on 127.0.0.1, one worker, rate limit off), one keep-alive connection, gzip accepted:
  what a map waits for. Past the archive's maxzoom a map asks for the tile of maxzoom
  that holds the view (it enlarges it), so those zooms are measured on that tile.
- **archive read**: :meth:`solar.vectortiles.RoofArchive.get` in this process, with the
  bytes each read takes from the file: a request reads one tile and at most one leaf
  directory, never the territory.
- **on request** (``--on-request N``): what a service without archive would do per tile:
  read the features in the tile from the GeoPackage through its R-tree
  (:func:`solar.vectortiles.map_layers`) and encode them (:func:`encode_tile`).

Then the sizes of every tile of the archive, per zoom (max and p99, raw and gzip), and the
query plan of the on-request read (an R-tree search, no scan of the table).

Targets: p99 ≤ 30 ms per tile at zooms 14-18, tiles ≤ 500 KB.
"""

from __future__ import annotations

import argparse
import gzip
import http.client
import math
import mmap
import os
import random
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pmtiles.reader import all_tiles  # noqa: E402

from solar import vectortiles  # noqa: E402
from solar.cadastre import Cadastre  # noqa: E402

ZOOMS = (14, 15, 16, 17, 18)
P99_TARGET_MS = 30.0
SIZE_TARGET_KB = 500.0


def _tile_range(bounds: tuple[float, float, float, float], z: int) -> tuple[int, int, int, int]:
    """x0, x1, y0, y1 of the tiles covering a WGS84 box at zoom z (slippy-map formulas)."""

    def tx(lon: float) -> int:
        return int((lon + 180.0) / 360.0 * 2**z)

    def ty(lat: float) -> int:
        return int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * 2**z)

    west, south, east, north = bounds
    return tx(west), tx(east), ty(north), ty(south)


def random_tiles(
    bounds: tuple[float, float, float, float], z: int, n: int, rng: random.Random
) -> list[tuple[int, int, int]]:
    x0, x1, y0, y1 = _tile_range(bounds, z)
    return [(z, rng.randint(x0, x1), rng.randint(y0, y1)) for _ in range(n)]


def served_tile(z: int, x: int, y: int, max_zoom: int) -> tuple[int, int, int]:
    """The tile a map fetches for a view at z: itself, or its ancestor at max_zoom."""
    if z <= max_zoom:
        return z, x, y
    shift = z - max_zoom
    return max_zoom, x >> shift, y >> shift


def percentiles(values: list[float]) -> str:
    a = np.asarray(values)
    return f"p50 {np.percentile(a, 50):7.2f}  p99 {np.percentile(a, 99):7.2f}  max {a.max():7.2f}"


class CountingArchive(vectortiles.RoofArchive):
    """A RoofArchive that counts the bytes it reads from the file."""

    bytes_read = 0

    def _read(self, offset: int, length: int) -> bytes:
        self.bytes_read += length
        return super()._read(offset, length)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def service(cadastre: Path) -> Iterator[int]:
    """``cadastre serve`` on a free loopback port, stopped on exit."""
    port = _free_port()
    env = {**os.environ, "CADASTRE_RATE_LIMIT": "0"}
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "app.cli",
            "serve",
            "--cadastre",
            str(cadastre),
            "--port",
            str(port),
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
                connection.request("GET", "/health")
                if connection.getresponse().status in (200, 503):
                    break
            except OSError:
                time.sleep(0.2)
        else:
            raise RuntimeError("the service did not start in 120 s")
        yield port
    finally:
        process.terminate()
        process.wait(timeout=30)


def bench_served(
    port: int, tiles: list[tuple[int, int, int]]
) -> tuple[list[float], dict[int, int]]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    headers = {"Accept-Encoding": "gzip"}
    times, statuses = [], {}
    for z, x, y in tiles:
        start = time.perf_counter()
        connection.request("GET", f"/api/v1/tiles/roofs/{z}/{x}/{y}.mvt", headers=headers)
        response = connection.getresponse()
        response.read()
        times.append((time.perf_counter() - start) * 1e3)
        statuses[response.status] = statuses.get(response.status, 0) + 1
    return times, statuses


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cadastre", type=Path, required=True)
    parser.add_argument("--requests", type=int, default=500, help="Tiles per zoom.")
    parser.add_argument(
        "--on-request", type=int, default=20, help="Tiles per zoom encoded on request."
    )
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)

    archive = CountingArchive(vectortiles.archive_path(args.cadastre))
    store = Cadastre(args.cadastre)
    summary = store.summary()
    print(
        f"{args.cadastre.name}: {summary['buildings']:,} buildings, {summary['faces']:,} faces;"
        f" archive {archive.path.stat().st_size / 1e6:,.0f} MB, zooms"
        f" {archive.min_zoom}-{archive.max_zoom}"
    )
    rng = random.Random(args.seed)
    plan = {z: random_tiles(archive.bounds, z, args.requests, rng) for z in ZOOMS}
    fetched = {z: [served_tile(*t, archive.max_zoom) for t in tiles] for z, tiles in plan.items()}

    print("\narchive read in this process [ms], and bytes read per request")
    for z, tiles in fetched.items():
        times, reads = [], []
        for tile in tiles:
            archive.bytes_read = 0
            start = time.perf_counter()
            archive.get(*tile)
            times.append((time.perf_counter() - start) * 1e3)
            reads.append(archive.bytes_read)
        print(f"  z{z}: {percentiles(times)}   read ≤ {max(reads) / 1e3:,.0f} kB")

    print("\nserved over HTTP (uvicorn, 1 worker, keep-alive, gzip) [ms]")
    worst = 0.0
    with service(args.cadastre) as port:
        bench_served(port, fetched[16][:50])  # warm-up: imports, first connections
        for z, tiles in fetched.items():
            times, statuses = bench_served(port, tiles)
            worst = max(worst, float(np.percentile(times, 99)))
            note = f" (the z{archive.max_zoom} tile, enlarged)" if z > archive.max_zoom else ""
            print(f"  z{z}: {percentiles(times)}   statuses {statuses}{note}")

    print("\nencoded on request from the GeoPackage (no archive) [ms]")
    for z in ZOOMS:
        times, sizes = [], []
        for tile in plan[z][: args.on_request]:
            start = time.perf_counter()
            layers = vectortiles.map_layers(store, vectortiles.tile_bounds(*tile))
            data = vectortiles.encode_tile(layers, *tile)
            times.append((time.perf_counter() - start) * 1e3)
            sizes.append(len(data or b""))
        print(f"  z{z}: {percentiles(times)}   largest {max(sizes) / 1e3:,.0f} kB")
    con = sqlite3.connect(args.cadastre)
    query = vectortiles.layer_query("faces", in_box=True)
    steps = [r[3] for r in con.execute(f"EXPLAIN QUERY PLAN {query}", (0, 1, 0, 1))]
    con.close()
    print("  query plan: " + "; ".join(steps))

    print("\ntile sizes in the archive [kB]: raw (gzip)")
    by_zoom: dict[int, list[tuple[int, int]]] = {}
    with open(archive.path, "rb") as f:
        data = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
        for (z, _, _), blob in all_tiles(lambda o, n: data[o : o + n]):
            by_zoom.setdefault(z, []).append((len(gzip.decompress(blob)), len(blob)))
    largest = 0.0
    for z, sizes in sorted(by_zoom.items()):
        raw = np.array([s[0] for s in sizes]) / 1e3
        packed = np.array([s[1] for s in sizes]) / 1e3
        largest = max(largest, float(raw.max()))
        print(
            f"  z{z}: {len(sizes):7,} tiles  max {raw.max():6.0f} ({packed.max():5.0f})"
            f"  p99 {np.percentile(raw, 99):6.0f} ({np.percentile(packed, 99):5.0f})"
        )
    print(
        f"\nserved p99 worst zoom {worst:.1f} ms (target ≤ {P99_TARGET_MS:.0f}),"
        f" largest tile {largest:.0f} kB raw (target ≤ {SIZE_TARGET_KB:.0f})"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
