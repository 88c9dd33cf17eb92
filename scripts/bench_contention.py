"""Look-ups while residents upload Linky files: does heavy work starve the look-ups?

Starts ``cadastre serve`` (one worker by default) on 127.0.0.1 in a subprocess, then
measures the throughput of ``/api/v1/addresses/{id}/solar`` from ``--lookup-clients``
back-to-back connections, alone and then while ``--uploaders`` connections post a 5 MB
Linky export (three years at a 10-minute step) to ``/api/v1/simulate/linky`` one after
the other. The two alternate ``--rounds`` times; the medians and their ratio are
printed.

    python scripts/bench_contention.py
    python scripts/bench_contention.py --cadastre cadastre.gpkg --seconds 10 --rounds 3

Target of the service: with 8 uploaders, the look-ups keep ≥ 70% of their throughput
alone. The client's own CPU is that of this process, beside the server's on the same
cores: the ratio, measured in one run, is what counts.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from soak import DEMO_CADASTRE, Connection, HttpError, multipart, run_async, serving

from solar.cadastre import Cadastre

TARGET_RATIO = 0.70
#: Bytes of the generated Linky export: just under the service's 5 MiB upload cap.
LINKY_BYTES = 5_000_000


def linky_export(size: int = LINKY_BYTES, seed: int = 0) -> bytes:
    """An Enedis load-curve export of about ``size`` bytes, 10-minute steps up to today."""
    rng = np.random.default_rng(seed)
    header = (
        "Identifiant PRM;Type de donnees;Date de debut;Date de fin;Grandeur physique;"
        "Grandeur metier;Etape metier;Unite;Pas en minutes\n"
        "1111111111111;Courbe de charge;;;Energie active;Consommation;Comptage Brut;W;10\n"
        "Horodate;Valeur\n"
    )
    n = (size - len(header)) // len("2024-01-01T00:10:00+00:00;1234\n")
    end = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    start = end - timedelta(minutes=10 * n)
    watts = rng.integers(150, 3000, n)
    rows = [
        f"{(start + timedelta(minutes=10 * (i + 1))).isoformat()};{watts[i]}\n" for i in range(n)
    ]
    return (header + "".join(rows)).encode()


async def _lookups(port: int, paths: list[str], clients: int, seconds: float) -> tuple[int, int]:
    """Look-ups done in ``seconds``, and the answers that were not a 200."""
    done, failed = [0], [0]
    deadline = time.monotonic() + seconds

    async def one(seed: int) -> None:
        rng = random.Random(seed)
        connection = Connection(port)
        while time.monotonic() < deadline:
            try:
                status, _ = await connection.request("GET", rng.choice(paths))
            except (ConnectionError, HttpError, OSError):
                failed[0] += 1
                continue
            done[0] += 1
            failed[0] += status != 200
        connection.close()

    await asyncio.gather(*(one(k) for k in range(clients)))
    return done[0], failed[0]


async def _uploads(
    port: int, body: bytes, content_type: str, clients: int, stop: asyncio.Event
) -> list[int]:
    statuses: list[int] = []

    async def one() -> None:
        connection = Connection(port)
        while not stop.is_set():
            try:
                status, _ = await connection.request(
                    "POST", "/api/v1/simulate/linky", body, content_type
                )
            except (ConnectionError, HttpError, OSError):
                status = 0
            statuses.append(status)
        connection.close()

    await asyncio.gather(*(one() for _ in range(clients)))
    return statuses


async def _loaded(
    port: int, paths: list[str], args: argparse.Namespace, body: bytes, content_type: str
) -> tuple[int, int, list[int]]:
    stop = asyncio.Event()
    uploads = asyncio.ensure_future(_uploads(port, body, content_type, args.uploaders, stop))
    await asyncio.sleep(2.0)  # the uploads under way before measuring
    done, failed = await _lookups(port, paths, args.lookup_clients, args.seconds)
    stop.set()
    return done, failed, await uploads


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cadastre", type=Path, help="cadastre to serve (default: the demo)")
    parser.add_argument("--workers", type=int, default=1, help="uvicorn worker processes")
    parser.add_argument("--lookup-clients", type=int, default=8)
    parser.add_argument("--uploaders", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=10.0, help="per measurement")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)
    source = args.cadastre or DEMO_CADASTRE
    if not source.exists():
        parser.error(f"no cadastre at {source}: build the demo (cadastre demo --build-only)")
    store = Cadastre(source)
    addresses = [a for a in store.addresses() if a.building_id]
    store.close()
    paths = [f"/api/v1/addresses/{a.address_id}/solar" for a in addresses]
    body, content_type = multipart(
        {"building_id": str(addresses[0].building_id)}, linky_export(), "conso.csv"
    )
    print(
        f"{source}: {len(paths)} addresses; {args.lookup_clients} look-up connections, "
        f"{args.uploaders} uploaders of {len(body) / 1e6:.1f} MB, {args.seconds:g} s per "
        f"measurement, {args.rounds} rounds, {args.workers} worker(s), {os.cpu_count()} cores"
    )
    alone, loaded, upload_statuses, failures = [], [], [], 0
    with tempfile.TemporaryDirectory() as tmp:
        env = {"CADASTRE_RATE_LIMIT": "0"}
        log = Path(tmp) / "server.log"
        with serving(source, workers=args.workers, log=log, env=env) as (port, _):
            run_async(_lookups(port, paths, args.lookup_clients, 2.0))  # warm-up
            for _ in range(args.rounds):
                done, failed = run_async(_lookups(port, paths, args.lookup_clients, args.seconds))
                alone.append(done / args.seconds)
                failures += failed
                done, failed, statuses = run_async(_loaded(port, paths, args, body, content_type))
                loaded.append(done / args.seconds)
                failures += failed
                upload_statuses += statuses
                print(
                    f"  alone {alone[-1]:7.1f} req/s   with uploads {loaded[-1]:7.1f} req/s"
                    f"   ({len(statuses)} uploads answered)",
                    flush=True,
                )
    ratio = float(np.median(loaded) / np.median(alone))
    codes = {c: upload_statuses.count(c) for c in sorted(set(upload_statuses))}
    print(
        f"address solar: median {np.median(alone):.1f} req/s alone, "
        f"{np.median(loaded):.1f} req/s with {args.uploaders} uploaders: ratio {ratio:.2f} "
        f"(target ≥ {TARGET_RATIO:.2f}: {'meets' if ratio >= TARGET_RATIO else 'misses'}); "
        f"look-up failures {failures}; upload statuses {codes}"
    )
    return 0 if ratio >= TARGET_RATIO and failures == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
