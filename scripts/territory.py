"""Write a territory-size cadastre by replicating the demo cadastre over the Artois.

    python scripts/territory.py OUT_FOLDER                     # ~1 M faces, ~350,000 buildings
    python scripts/territory.py OUT_FOLDER --faces 200000 --tiles

The demo cadastre (built with ``cadastre demo --build-only`` when missing, into
``OUT_FOLDER/demo``) holds three real samples far apart in France. Each sample is cut out
and moved next to the others into one compact neighbourhood; copies of that neighbourhood,
with new ids (``T<copy>-<id>``), then fill a square grid around Lens, separated by 20 m
streets: the roofs are as dense as the Delft row houses, a dense town's worst case for a
map tile. Every attribute is the demo's. The monthly table is written for every face;
the hourly profiles are not (8 KB a face, 8 GB for a million): the result serves the map,
the buildings and the search, not ``/simulate``.

``--tiles`` also writes the roofs' vector tiles beside it (``cadastre tiles``).
"""

from __future__ import annotations

import argparse
import math
import sqlite3
import sys
import time
from pathlib import Path

import numpy as np
import pyogrio.raw
import shapely
from rasterio.crs import CRS

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from solar import cadastre, demo, vectortiles  # noqa: E402
from solar.cadastre import (  # noqa: E402
    BUILDING_FIELDS,
    FACE_FIELDS,
    MONTHLY_FIELDS,
    FaceProfiles,
    GeoTable,
)
from solar.errors import InputError  # noqa: E402

LAMBERT93 = CRS.from_epsg(2154)
#: South-west corner of the grid, in Lens (Lambert-93). [m]
ORIGIN = (680_000.0, 7_030_000.0)
STREET = 20.0
"""Gap between two copies, and between the samples in a copy. [m]"""


def _read(path: Path, layer: str) -> GeoTable:
    meta, _, wkb, values = pyogrio.raw.read(path, layer=layer)
    return GeoTable(
        shapely.from_wkb(wkb), dict(zip(meta["fields"], values, strict=True)), "MultiPolygon"
    )


def _clusters(geometry: np.ndarray) -> np.ndarray:
    """A cluster number for each footprint: samples lie hundreds of km apart, so a gap of
    more than 5 km along x or y separates them."""
    centres = shapely.centroid(geometry)
    key = np.column_stack((shapely.get_x(centres), shapely.get_y(centres)))
    label = np.zeros(len(geometry), dtype=np.int64)
    for axis in (0, 1):
        order = np.argsort(key[:, axis], kind="stable")
        gaps = np.diff(key[order, axis]) > 5_000.0
        label[order] = label[order] * 1000 + np.concatenate(([0], np.cumsum(gaps)))
    return np.unique(label, return_inverse=True)[1]


def _shift(geometry: np.ndarray, dx: np.ndarray, dy: np.ndarray) -> np.ndarray:
    counts = shapely.get_num_coordinates(geometry)
    offsets = np.column_stack((np.repeat(dx, counts), np.repeat(dy, counts)))
    return shapely.transform(geometry, lambda xy: xy + offsets)


def neighbourhood(buildings: GeoTable, faces: GeoTable) -> tuple[GeoTable, GeoTable, float]:
    """The demo's samples side by side from (0, 0), and the side of their square. [m]"""
    cluster = _clusters(buildings.geometry)
    by_id = dict(zip(buildings.fields["building_id"].tolist(), cluster.tolist(), strict=True))
    face_cluster = np.array([by_id[b] for b in faces.fields["building_id"].tolist()])
    dx_b, dy_b = np.zeros(len(cluster)), np.zeros(len(cluster))
    dx_f, dy_f = np.zeros(len(face_cluster)), np.zeros(len(face_cluster))
    cursor, side = 0.0, 0.0
    for c in range(cluster.max() + 1):
        minx, miny, maxx, maxy = shapely.total_bounds(buildings.geometry[cluster == c])
        dx_b[cluster == c], dy_b[cluster == c] = cursor - minx, -miny
        dx_f[face_cluster == c], dy_f[face_cluster == c] = cursor - minx, -miny
        cursor += maxx - minx + STREET
        side = max(side, maxy - miny)
    moved_b = GeoTable(_shift(buildings.geometry, dx_b, dy_b), buildings.fields, "MultiPolygon")
    moved_f = GeoTable(_shift(faces.geometry, dx_f, dy_f), faces.fields, "MultiPolygon")
    return moved_b, moved_f, max(side, cursor - STREET)


def _replicate(table: GeoTable, copies: int, columns: int, step: float, ids: tuple[str, ...]):
    n = len(table)
    copy = np.repeat(np.arange(copies), n)
    dx = ORIGIN[0] + (copy % columns) * step
    dy = ORIGIN[1] + (copy // columns) * step
    geometry = _shift(np.tile(table.geometry, copies), dx, dy)
    fields = {}
    for name, values in table.fields.items():
        column = np.tile(np.asarray(values), copies)
        if name in ids:
            prefix = np.char.add(np.char.add("T", np.char.zfill(copy.astype(str), 5)), "-")
            column = np.char.add(prefix, column.astype(str)).astype(object)
        fields[name] = column
    return GeoTable(geometry, fields, "MultiPolygon"), copy


def make_territory(out: Path, faces_wanted: int, demo_path: Path) -> Path:
    """Write the territory cadastre ``out`` from the demo cadastre at ``demo_path``."""
    buildings, faces = _read(demo_path, "buildings"), _read(demo_path, "roof_faces")
    buildings, faces, side = neighbourhood(buildings, faces)
    copies = max(1, math.ceil(faces_wanted / len(faces)))
    columns = math.ceil(math.sqrt(copies))
    step = side + STREET
    big_buildings, _ = _replicate(buildings, copies, columns, step, ("building_id",))
    big_faces, _ = _replicate(faces, copies, columns, step, ("building_id", "face_id"))

    con = sqlite3.connect(demo_path)
    try:
        monthly = con.execute(
            f"SELECT {', '.join(MONTHLY_FIELDS)} FROM roof_faces_monthly ORDER BY face_id, month"
        ).fetchall()
        provenance = dict(con.execute("SELECT key, value FROM provenance").fetchall())
    finally:
        con.close()
    face_ids = np.array([r[0] for r in monthly], dtype=object)
    n_rows = len(monthly)
    copy = np.repeat(np.arange(copies), n_rows)
    prefix = np.char.add(np.char.add("T", np.char.zfill(copy.astype(str), 5)), "-")
    monthly_columns = {
        "face_id": np.char.add(prefix, np.tile(face_ids, copies).astype(str)).astype(object),
        **{
            name: np.tile(np.array([r[k] for r in monthly]), copies)
            for k, name in enumerate(MONTHLY_FIELDS)
            if name != "face_id"
        },
    }
    return cadastre.write_cadastre(
        out,
        crs=LAMBERT93,
        buildings=GeoTable(
            big_buildings.geometry,
            {k: big_buildings.fields[k] for k in BUILDING_FIELDS},
            "MultiPolygon",
        ),
        faces=GeoTable(
            big_faces.geometry, {k: big_faces.fields[k] for k in FACE_FIELDS}, "MultiPolygon"
        ),
        monthly=monthly_columns,
        profiles=FaceProfiles([], []),
        provenance={
            "territory": f"{copies} copies of the demo cadastre, for benchmarks",
            "parts": [{"part": "demo", **_decoded(provenance)}],
        },
    )


def _decoded(provenance: dict[str, str]) -> dict[str, object]:
    import json

    out: dict[str, object] = {}
    for key, value in provenance.items():
        try:
            out[key] = json.loads(value)
        except json.JSONDecodeError:
            out[key] = value
    parts = out.get("parts")
    if isinstance(parts, list) and parts and isinstance(parts[0], dict):
        return parts[0]
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path, help="Where the territory cadastre is written.")
    parser.add_argument("--faces", type=int, default=1_000_000, help="Roof faces wanted.")
    parser.add_argument("--demo", type=Path, help="The demo cadastre (default: built).")
    parser.add_argument("--tiles", action="store_true", help="Also write the roofs' tiles.")
    args = parser.parse_args(argv)
    args.folder.mkdir(parents=True, exist_ok=True)
    demo_path = args.demo or args.folder / "demo" / demo.CADASTRE_FILE
    try:
        cadastre.Cadastre(demo_path).close()
    except InputError as exc:  # missing, or written by another version
        print(f"{exc}: building the demo into {demo_path.parent} …", flush=True)
        demo.build_demo(demo_path.parent)
    start = time.perf_counter()
    path = make_territory(args.folder / "territory.gpkg", args.faces, demo_path)
    summary = cadastre.Cadastre(path).summary()
    print(
        f"{path}: {summary['buildings']:,} buildings, {summary['faces']:,} faces, "
        f"{path.stat().st_size / 1e6:,.0f} MB, in {time.perf_counter() - start:.0f} s",
        flush=True,
    )
    if args.tiles:
        start = time.perf_counter()
        archive = vectortiles.write_archive(path)
        print(
            f"{archive.path}: {archive.tiles:,} tiles, largest"
            f" {archive.largest_bytes / 1e3:.0f} kB, {archive.bytes / 1e6:,.0f} MB,"
            f" in {time.perf_counter() - start:.0f} s"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
