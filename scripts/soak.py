"""Soak test: the service under a long mixed load, with its cadastre swapped midway.

Starts ``cadastre serve`` (:func:`app.main.serve`, several workers, the bounded HTTP
protocol, JSON logs) on 127.0.0.1 in a subprocess, on a copy of the cadastre in a
scratch folder, then drives it with N keep-alive connections from this process:

- address searches (a label's first words), 35%;
- look-ups: an address's roof (``/addresses/{id}/solar``) or a building, 40%;
- the map: vector tiles when the service has them (a 204 for a tile without roofs is
  an answer), else roofs in a 300 m box, 17%;
- simulations with a standard profile, 6%;
- Linky uploads (the example export, a year half-hourly, 530 kB), 2%.

Midway, a rebuilt cadastre (every monthly production 1 kWh higher, its checksum beside
it) replaces the file as ``cadastre build --out`` does; at two thirds a damaged one is
put in its place, and the rebuilt one back at five sixths. Every answer must be a 200:
any other status, a reset connection or a request slower than ``--timeout`` counts as
an error. The server's memory (RSS of its processes) is sampled every 5 s; its growth
compares the median of the last minute with that of the first minute after warm-up.

    python scripts/soak.py                           # 10 minutes, 200 connections
    python scripts/soak.py --duration 60 --clients 50 --cadastre cadastre.gpkg

Prints the figures and writes them as JSON with ``--out``. The rate limit is turned
off for the run (every connection comes from one address). Targets: 0 errors, memory
growth ≤ 10%; the p99 of look-ups is reported.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import json
import os
import random
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from app.cli import user_data_dir  # noqa: E402
from solar.cadastre import Cadastre, checksum_path  # noqa: E402
from solar.demo import CADASTRE_FILE  # noqa: E402
from solar.resources import DATA_DIR  # noqa: E402

DEMO_CADASTRE = Path(os.environ.get("CADASTRE_DATA_DIR") or user_data_dir()) / CADASTRE_FILE
LINKY_EXAMPLE = DATA_DIR / "load" / "linky_example" / "consoexemple.csv"
MIX = {"search": 35, "lookup": 40, "map": 17, "simulate": 6, "linky": 2}
TARGET_MEMORY_GROWTH = 0.10

run_async: Callable[..., Any] = asyncio.run
with contextlib.suppress(ImportError):  # uvloop halves the client's CPU
    import uvloop

    run_async = uvloop.run


# --------------------------------------------------------------------------- HTTP client


class HttpError(Exception):
    """The connection broke, or the answer could not be read."""


async def read_response(reader: asyncio.StreamReader) -> tuple[int, bytes, bool]:
    """Status, body and whether the server closes the connection, of one response."""
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except (asyncio.IncompleteReadError, asyncio.LimitOverrunError) as exc:
        raise HttpError("connection closed before an answer") from exc
    lines = head.split(b"\r\n")
    status = int(lines[0].split(b" ", 2)[1])
    headers = {}
    for line in lines[1:]:
        if b":" in line:
            name, value = line.split(b":", 1)
            headers[name.strip().lower()] = value.strip()
    if headers.get(b"transfer-encoding", b"").lower() == b"chunked":
        body = b""
        while True:
            size = int((await reader.readuntil(b"\r\n")).strip().split(b";")[0], 16)
            body += await reader.readexactly(size + 2)
            if size == 0:
                break
    else:
        body = await reader.readexactly(int(headers.get(b"content-length", b"0")))
    return status, body, headers.get(b"connection", b"").lower() == b"close"


class Connection:
    """One keep-alive HTTP/1.1 connection to the server, opened again when it closes."""

    def __init__(self, port: int):
        self.port = port
        self.streams: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None

    async def request(
        self, method: str, path: str, body: bytes = b"", content_type: str = ""
    ) -> tuple[int, bytes]:
        if self.streams is None:
            self.streams = await asyncio.open_connection("127.0.0.1", self.port)
        reader, writer = self.streams
        head = f"{method} {path} HTTP/1.1\r\nHost: soak\r\n"
        if body or method == "POST":
            head += f"Content-Type: {content_type}\r\nContent-Length: {len(body)}\r\n"
        try:
            writer.write(head.encode() + b"\r\n" + body)
            await writer.drain()
            status, answer, close = await read_response(reader)
        except (ConnectionError, HttpError, OSError):
            self.close()
            raise
        if close:
            self.close()
        return status, answer

    def close(self) -> None:
        if self.streams is not None:
            self.streams[1].close()
            self.streams = None


def multipart(fields: dict[str, str], file: bytes, filename: str) -> tuple[bytes, str]:
    """A multipart/form-data body with ``fields`` and the file in ``file``."""
    boundary = "soak" + hashlib.sha1(file[:64]).hexdigest()[:16]
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
        for name, value in fields.items()
    ]
    parts.append(
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{filename}"\r\n'
        "Content-Type: text/csv\r\n\r\n".encode()
        + file
        + f"\r\n--{boundary}--\r\n".encode()
    )
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


# --------------------------------------------------------------------------- the server


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def server_rss(pid: int) -> int:
    """Resident memory of ``pid`` and its children, from /proc. [bytes]"""
    total = 0
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            text = status.read_text()
        except OSError:
            continue
        values = dict(line.split(":", 1) for line in text.splitlines() if ":" in line)
        if int(status.parent.name) == pid or int(values.get("PPid", "0")) == pid:
            total += int(values.get("VmRSS", "0 kB").split()[0]) * 1024
    return total


@contextlib.contextmanager
def serving(
    cadastre: Path, *, workers: int, log: Path, env: dict[str, str] | None = None
) -> Iterator[tuple[int, int]]:
    """``cadastre serve`` in a subprocess on loopback, its logs in ``log``; (port, pid)."""
    port = free_port()
    code = f"from app.main import serve; serve({str(cadastre)!r}, port={port}, workers={workers})"
    environment = {**os.environ, "PYTHONPATH": str(ROOT), **(env or {})}
    with log.open("wb") as stream:
        server = subprocess.Popen(
            [sys.executable, "-c", code], env=environment, cwd=ROOT, stderr=stream, stdout=stream
        )
        try:
            deadline = time.monotonic() + 120
            while True:
                try:
                    with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2):
                        break
                except OSError:
                    if server.poll() is not None or time.monotonic() > deadline:
                        raise RuntimeError(f"the server did not start; see {log}") from None
                    time.sleep(0.3)
            time.sleep(2.0 if workers > 1 else 0.0)  # every worker up
            yield port, server.pid
        finally:
            server.terminate()
            try:
                server.wait(timeout=40)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()


def rebuilt(cadastre: Path, target: Path) -> Path:
    """Another build of the same territory: its monthly figures blank (read as zeros)."""
    shutil.copyfile(cadastre, target)
    con = sqlite3.connect(target)
    with con:
        con.execute("UPDATE face_series SET monthly = NULL")
    con.close()
    digest = hashlib.sha256(target.read_bytes()).hexdigest()
    checksum_path(target).write_text(f"{digest}  {target.name}\n")
    return target


def put_in_place(source: Path, target: Path, *, with_checksum: bool = True) -> None:
    """Replace ``target`` as a build does: its checksum, then the file, by atomic renames."""
    staged = target.with_name(f".{target.name}.staged")
    shutil.copyfile(source, staged)
    if with_checksum:
        checksum = checksum_path(target).with_name(f".{target.name}.sha256.staged")
        shutil.copyfile(checksum_path(source), checksum)
        os.replace(checksum, checksum_path(target))
    os.replace(staged, target)


def damaged(cadastre: Path, target: Path) -> Path:
    shutil.copyfile(cadastre, target)
    with target.open("r+b") as stream:
        stream.seek(target.stat().st_size // 2)
        stream.write(os.urandom(4096))
    return target


# --------------------------------------------------------------------------- the load


@dataclass
class Workload:
    """The requests to draw from, built from the cadastre."""

    searches: list[str]
    lookups: list[str]
    maps: list[str]
    buildings: list[str]
    linky: bytes

    @classmethod
    def of(cls, cadastre: Path, tiles: list[str] | None) -> Workload:
        from pyproj import Transformer

        store = Cadastre(cadastre)
        addresses = [a for a in store.addresses() if a.building_id]
        store.close()
        to_wgs84 = Transformer.from_crs(2154, 4326, always_xy=True)
        searches, lookups, boxes = [], [], []
        for a in addresses:
            words = a.label.split()
            searches.append("/api/v1/addresses?" + urlencode({"q": " ".join(words[:4])}))
            lookups.append(f"/api/v1/addresses/{a.address_id}/solar")
            lookups.append(f"/api/v1/buildings/{a.building_id}")
            lon, lat = to_wgs84.transform(a.geometry.x, a.geometry.y)
            boxes.append(
                f"/api/v1/roofs?bbox={lon - 0.002:.5f},{lat - 0.0015:.5f},"
                f"{lon + 0.002:.5f},{lat + 0.0015:.5f}"
            )
        return cls(
            searches=searches,
            lookups=lookups,
            maps=tiles or boxes,
            buildings=sorted({str(a.building_id) for a in addresses}),
            linky=LINKY_EXAMPLE.read_bytes(),
        )


def tile_paths(port: int, cadastre: Path) -> list[str]:
    """Vector tiles over the cadastre's addresses at zoom 16, if the service serves tiles."""
    import math

    from pyproj import Transformer

    try:
        with urllib.request.urlopen(
            f"http://127.0.0.1:{port}/api/v1/tiles/roofs.json", timeout=5
        ) as answer:
            tilejson = json.load(answer)
    except OSError:
        return []
    template = str(tilejson["tiles"][0])
    prefix = template.split("/api/", 1)[1]
    store = Cadastre(cadastre)
    points = [a.geometry for a in store.addresses() if a.building_id]
    store.close()
    to_wgs84 = Transformer.from_crs(2154, 4326, always_xy=True)
    paths = set()
    for zoom in (15, 16):
        n = 2**zoom
        for p in points:
            lon, lat = to_wgs84.transform(p.x, p.y)
            x = int((lon + 180) / 360 * n)
            y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)
            path = prefix.replace("{z}", str(zoom)).replace("{x}", str(x)).replace("{y}", str(y))
            paths.add("/api/" + path)
    return sorted(paths)


@dataclass
class Tally:
    """What the clients saw."""

    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: Counter[str] = field(default_factory=Counter)
    statuses: Counter[str] = field(default_factory=Counter)
    examples: list[str] = field(default_factory=list)

    def error(self, kind: str, detail: str) -> None:
        self.errors[kind] += 1
        if len(self.examples) < 20:
            self.examples.append(f"{kind}: {detail}")


async def client(
    port: int,
    work: Workload,
    tally: Tally,
    deadline: float,
    seed: int,
    timeout: float,
    think: float,
) -> None:
    rng = random.Random(seed)
    kinds, weights = zip(*MIX.items(), strict=True)
    connection = Connection(port)
    await asyncio.sleep(rng.uniform(0, 1.0))  # no thundering start
    while time.monotonic() < deadline:
        kind = rng.choices(kinds, weights)[0]
        body, content_type, method = b"", "", "GET"
        if kind == "search":
            path = rng.choice(work.searches)
        elif kind == "lookup":
            path = rng.choice(work.lookups)
        elif kind == "map":
            path = rng.choice(work.maps)
        elif kind == "simulate":
            method, path = "POST", "/api/v1/simulate"
            body = json.dumps({"building_id": rng.choice(work.buildings)}).encode()
            content_type = "application/json"
        else:
            method, path = "POST", "/api/v1/simulate/linky"
            body, content_type = multipart(
                {"building_id": rng.choice(work.buildings)}, work.linky, "conso.csv"
            )
        start = time.perf_counter()
        try:
            status, answer = await asyncio.wait_for(
                connection.request(method, path, body, content_type), timeout
            )
        except TimeoutError:
            connection.close()
            tally.error("timeout", f"{method} {path}")
            continue
        except (ConnectionError, HttpError, OSError) as exc:
            tally.error("connection", f"{method} {path}: {exc!r}")
            continue
        tally.latencies[kind].append(time.perf_counter() - start)
        tally.statuses[str(status)] += 1
        if status != 200 and not (kind == "map" and status == 204):
            tally.error(f"http {status}", f"{method} {path}: {answer[:200]!r}")
        await asyncio.sleep(rng.uniform(0, 2 * think))
    connection.close()


async def drive(
    port: int, work: Workload, clients: int, seconds: float, timeout: float, think: float
) -> Tally:
    tally = Tally()
    deadline = time.monotonic() + seconds
    await asyncio.gather(
        *(client(port, work, tally, deadline, k, timeout, think) for k in range(clients))
    )
    return tally


# --------------------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cadastre", type=Path, help="cadastre to serve (default: the demo)")
    parser.add_argument("--duration", type=float, default=600.0, help="seconds of load")
    parser.add_argument("--clients", type=int, default=200, help="concurrent connections")
    parser.add_argument("--workers", type=int, default=2, help="uvicorn worker processes")
    parser.add_argument("--timeout", type=float, default=30.0, help="client timeout [s]")
    parser.add_argument(
        "--think", type=float, default=2.0, help="mean pause of a client between requests [s]"
    )
    parser.add_argument("--out", type=Path, help="write the figures as JSON here")
    args = parser.parse_args(argv)
    source = args.cadastre or DEMO_CADASTRE
    if not source.exists():
        parser.error(f"no cadastre at {source}: build the demo (cadastre demo --build-only)")

    with tempfile.TemporaryDirectory(prefix="soak-") as tmp:
        folder = Path(tmp)
        served = folder / "served" / "cadastre.gpkg"
        served.parent.mkdir()
        original = folder / "a.gpkg"
        shutil.copyfile(source, original)
        # what the build writes beside the cadastre: roof tiles, rasters
        for sibling in source.parent.glob(f"{source.stem}.*"):
            if sibling.suffix not in (".gpkg", ".sha256"):
                shutil.copyfile(
                    sibling, served.parent / f"cadastre{sibling.name[len(source.stem) :]}"
                )
        checksum_path(original).write_text(
            f"{hashlib.sha256(original.read_bytes()).hexdigest()}  a.gpkg\n"
        )
        second = rebuilt(original, folder / "b.gpkg")
        broken = damaged(second, folder / "broken.gpkg")
        put_in_place(original, served)
        log = folder / "server.log"
        env = {"CADASTRE_RATE_LIMIT": "0", "CADASTRE_WATCH_INTERVAL_S": "2"}
        with serving(served, workers=args.workers, log=log, env=env) as (port, pid):
            work = Workload.of(served, tile_paths(port, served))
            memory: list[tuple[float, int]] = []
            events: list[str] = []
            start = time.monotonic()

            async def scenario() -> Tally:
                load = asyncio.ensure_future(
                    drive(port, work, args.clients, args.duration, args.timeout, args.think)
                )
                steps = [
                    (args.duration / 2, "swap to a rebuilt cadastre", second, True),
                    (args.duration * 2 / 3, "a damaged cadastre put in place", broken, False),
                    (args.duration * 5 / 6, "the rebuilt cadastre put back", second, True),
                ]
                while not load.done():
                    now = time.monotonic() - start
                    memory.append((now, server_rss(pid)))
                    while steps and now >= steps[0][0]:
                        _, label, file, with_checksum = steps.pop(0)
                        await asyncio.to_thread(
                            put_in_place, file, served, with_checksum=with_checksum
                        )
                        events.append(f"{now:6.1f} s  {label}")
                    await asyncio.wait([load], timeout=5.0)
                return load.result()

            tally = run_async(scenario())
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=5) as r:
                health = json.load(r)
        log_text = log.read_text(errors="replace")

    figures = summarise(tally, memory, args.duration, health, log_text, events)
    figures["configuration"] = {
        "cadastre": str(source),
        "clients": args.clients,
        "workers": args.workers,
        "duration_s": args.duration,
        "think_s": args.think,
        "timeout_s": args.timeout,
        "mix_percent": MIX,
        "cores": os.cpu_count(),
    }
    print(json.dumps(figures, indent=2, ensure_ascii=False))
    if args.out:
        args.out.write_text(json.dumps(figures, indent=2, ensure_ascii=False))
    ok = figures["errors_total"] == 0 and figures["memory"]["growth"] <= TARGET_MEMORY_GROWTH
    return 0 if ok else 1


def summarise(
    tally: Tally,
    memory: list[tuple[float, int]],
    duration: float,
    health: dict[str, Any],
    log_text: str,
    events: list[str],
) -> dict[str, Any]:
    """The figures of a run: counts, latencies per kind, errors, memory, logs."""
    latency = {}
    for kind, values in sorted(tally.latencies.items()):
        ms = np.asarray(values) * 1e3
        latency[kind] = {
            "requests": len(values),
            "p50_ms": round(float(np.percentile(ms, 50)), 1),
            "p99_ms": round(float(np.percentile(ms, 99)), 1),
            "max_ms": round(float(ms.max()), 1),
        }
    total = sum(len(v) for v in tally.latencies.values())
    # warm-up: the first 30 s; then the first and the last minute
    first = [rss for t, rss in memory if 30 <= t < 90]
    last = [rss for t, rss in memory if t >= duration - 60]
    first_mb = float(np.median(first)) / 2**20 if first else float("nan")
    last_mb = float(np.median(last)) / 2**20 if last else float("nan")
    lines = log_text.splitlines()
    return {
        "requests": total,
        "requests_per_s": round(total / duration, 1),
        "statuses": dict(tally.statuses),
        "errors_total": sum(tally.errors.values()),
        "errors": dict(tally.errors),
        "error_examples": tally.examples,
        "latency": latency,
        "lookup_p99_ms": latency.get("lookup", {}).get("p99_ms"),
        "memory": {
            "first_minute_mb": round(first_mb, 1),
            "last_minute_mb": round(last_mb, 1),
            "peak_mb": round(max(rss for _, rss in memory) / 2**20, 1) if memory else None,
            "growth": round(last_mb / first_mb - 1, 4) if first and last else float("nan"),
            "series_mb": [(round(t), round(rss / 2**20)) for t, rss in memory],
        },
        "events": events,
        "final_health": health,
        "server_log": {
            "lines": len(lines),
            "warnings": sum('"level": "WARNING"' in line for line in lines),
            "errors": sum('"level": "ERROR"' in line for line in lines),
            "tracebacks": log_text.count("Traceback"),
            "not_access": [line[:300] for line in lines if '"app.access"' not in line][-15:],
        },
    }


if __name__ == "__main__":
    raise SystemExit(main())
