"""Bytes per roof face of the cadastre and its raster, and the cost of serving its hours.

Builds the dense corons district (1 km², about 3,900 houses: ``synthetic.corons_surface``),
the mixed synthetic district (``synthetic.synthetic_surface``) and the demo's real samples,
then prints per case:

- the bytes per roof face of the GeoPackage, of the irradiation raster(s) and of both,
  and per km² for the district (the roofs' vector tiles, ``.roofs.pmtiles``, apart);
- the median time to recompute one building's hourly production
  (``Cadastre.profiles`` of its faces), on 200 buildings drawn at random, once the
  process has read the cadastre's weather.

With ``--baseline DIR`` (a checkout of another version of the code, e.g. a ``git worktree``
of the last commit), each case is also built with that code, in the same run, and the
ratios are printed. The target is 3,000 bytes per face, GeoPackage and raster together.

Usage::

    .venv/bin/python scripts/bench_size.py [--baseline DIR] [--size-m 1000] [--keep DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
TARGET_BYTES_PER_FACE = 3000
CASES = ("corons", "synthetic", "demo")


def measure(case: str, out: Path, size_m: float) -> dict[str, float]:
    """Build ``case`` into ``out`` and measure it (run in a child, with either code)."""
    from solar.build.raster import irradiation_rasters
    from solar.cadastre import Cadastre

    if case == "demo":
        from solar.demo import build_demo

        path = build_demo(out).path
        area_km2 = float("nan")
    else:
        sys.path.insert(0, str(HERE))
        import synthetic

        from solar.build import Territory, build_from_surface

        district = synthetic.corons_surface if case == "corons" else synthetic.synthetic_surface
        surface, footprints = district(0, size_m)
        path = build_from_surface(Territory(surface, footprints), out=out / f"{case}.gpkg").path
        area_km2 = size_m**2 / 1e6
    store = Cadastre(path)
    faces = store.summary()["faces"]
    by_building: dict[str, list[str]] = {}
    con = sqlite3.connect(path)
    for building_id, face_id in con.execute("SELECT building_id, face_id FROM roof_faces"):
        by_building.setdefault(building_id, []).append(face_id)
    con.close()
    buildings = sorted(by_building)
    random.Random(0).shuffle(buildings)
    store.profiles(by_building[buildings[0]])  # reads the site's weather once
    times = []
    for building in buildings[:200]:
        start = time.perf_counter()
        store.profiles(by_building[building])
        times.append(time.perf_counter() - start)
    return {
        "faces": faces,
        "gpkg_bytes": path.stat().st_size,
        "raster_bytes": sum(p.stat().st_size for p in irradiation_rasters(path)),
        "area_km2": area_km2,
        "serve_ms_median": 1000 * statistics.median(times),
        "faces_per_building": faces / len(by_building),
    }


def run_child(case: str, out: Path, size_m: float, code: Path | None) -> dict[str, float] | None:
    """:func:`measure` in a fresh process, with the code at ``code`` when given; None
    when that code cannot build the case (printed)."""
    env = dict(os.environ)
    if code is not None:
        env["PYTHONPATH"] = os.pathsep.join([str(code), env.get("PYTHONPATH", "")])
    done = subprocess.run(
        [sys.executable, __file__, "--child", case, str(out), "--size-m", str(size_m)],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        print(f"  {case} failed with {code or 'this code'}: {done.stderr.strip().splitlines()[-1]}")
        return None
    result: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def _line(label: str, m: dict[str, float]) -> str:
    per_face = (m["gpkg_bytes"] + m["raster_bytes"]) / m["faces"]
    per_km2 = (m["gpkg_bytes"] + m["raster_bytes"]) / m["area_km2"] / 1e6
    area = f"{per_km2:8.1f} MB/km²" if m["area_km2"] == m["area_km2"] else " " * 14
    return (
        f"{label:<10} {int(m['faces']):>6} faces  gpkg {m['gpkg_bytes'] / m['faces']:7.0f}"
        f"  raster {m['raster_bytes'] / m['faces']:6.0f}  total {per_face:7.0f} B/face  {area}"
        f"  serve {m['serve_ms_median']:6.2f} ms/building"
        f" ({m['faces_per_building']:.1f} faces)"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", type=Path, help="a checkout of the code to compare with")
    parser.add_argument("--size-m", type=float, default=1000.0, help="side of the district [m]")
    parser.add_argument("--keep", type=Path, help="build here and keep the cadastres")
    parser.add_argument("--child", nargs=2, metavar=("CASE", "OUT"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        case, out = args.child
        print(json.dumps(measure(case, Path(out), args.size_m)))
        return 0
    with tempfile.TemporaryDirectory(prefix="bench_size_") as scratch:
        root = args.keep or Path(scratch)
        ok = True
        for case in CASES:
            now = run_child(case, root / "now" / case, args.size_m, None)
            if now is None:
                ok = False
                continue
            print(_line(case, now), flush=True)
            total = (now["gpkg_bytes"] + now["raster_bytes"]) / now["faces"]
            ok &= total <= TARGET_BYTES_PER_FACE
            if args.baseline is not None:
                before = run_child(case, root / "baseline" / case, args.size_m, args.baseline)
                if before is None:
                    continue
                print(_line("  baseline", before))
                was = (before["gpkg_bytes"] + before["raster_bytes"]) / before["faces"]
                print(
                    f"  {was / total:.1f} times smaller; serving a building "
                    f"{now['serve_ms_median'] / before['serve_ms_median']:.1f} times the time"
                )
        print(f"target ≤ {TARGET_BYTES_PER_FACE} B/face: {'met' if ok else 'MISSED'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
