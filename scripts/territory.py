"""Write a territory-size cadastre by replicating the demo cadastre over the Artois.

    python scripts/territory.py OUT_FOLDER                     # ~1 M faces, ~335,000 buildings
    python scripts/territory.py OUT_FOLDER --faces 200000 --tiles

The demo cadastre (built with ``cadastre demo --build-only`` when missing, into
``OUT_FOLDER/demo``) holds three real samples far apart in France. Each sample is cut out
and moved next to the others into one compact neighbourhood; copies of that neighbourhood,
with new ids (``T<copy>-<id>``), then fill a square grid around Lens, separated by 20 m
streets: the roofs are as dense as the Delft row houses, a dense town's worst case for a
map tile. Every attribute is the demo's. The monthly figures are written for every face;
what the hourly production is recomputed from is not: the result serves the map, the
buildings, the addresses and the search, not ``/simulate``. Writing a million faces takes
minutes and about 12 GB of memory.

The addresses are the demo's, one per building, copied with their buildings. Each copy
lies in one commune of the mining basin (``solar/data/territory``, in turn), so that a
search meets as many communes, streets and house numbers as the territory has: copies
that fall in the same commune tell their streets apart by a qualifier ("Rue Pasteur
Prolongée", "… Nord"). The commune's INSEE code stands in for the postcode. Ids, labels
and positions are made up: they are not BAN addresses.

``--tiles`` also writes the roofs' vector tiles beside it (``cadastre tiles``).
"""

from __future__ import annotations

import argparse
import json
import math
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
from solar.addresses import make_label  # noqa: E402
from solar.cadastre import (  # noqa: E402
    ADDRESS_FIELDS,
    BUILDING_FIELDS,
    FACE_FIELDS,
    MONTHLY_FIELDS,
    FaceProfiles,
    GeoTable,
)
from solar.errors import InputError  # noqa: E402
from solar.resources import COMMUNES  # noqa: E402

LAMBERT93 = CRS.from_epsg(2154)
#: South-west corner of the grid, in Lens (Lambert-93). [m]
ORIGIN = (680_000.0, 7_030_000.0)
STREET = 20.0
"""Gap between two copies, and between the samples in a copy. [m]"""
#: What tells apart the streets of two copies in one commune, in the order copies come.
STREET_QUALIFIERS = ("", "Prolongée", "Nord", "Sud", "Est", "Ouest", "Haute", "Basse")


def _read(path: Path, layer: str, geometry_type: str = "MultiPolygon") -> GeoTable:
    meta, _, wkb, values = pyogrio.raw.read(path, layer=layer)
    return GeoTable(
        shapely.from_wkb(wkb), dict(zip(meta["fields"], values, strict=True)), geometry_type
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


def neighbourhood(
    buildings: GeoTable, faces: GeoTable, addresses: GeoTable
) -> tuple[GeoTable, GeoTable, GeoTable, float]:
    """The demo's samples side by side from (0, 0), and the side of their square. [m]

    A face moves with its building, an address with the building under it, or with the
    nearest one when there is none.
    """
    cluster = _clusters(buildings.geometry)
    by_id = dict(zip(buildings.fields["building_id"].tolist(), cluster.tolist(), strict=True))
    face_cluster = np.array([by_id[b] for b in faces.fields["building_id"].tolist()])
    nearest = shapely.STRtree(buildings.geometry).nearest(addresses.geometry)
    address_cluster = np.array(
        [
            by_id[b] if b is not None else cluster[n]
            for b, n in zip(addresses.fields["building_id"].tolist(), nearest, strict=True)
        ],
        dtype=np.int64,
    )
    dx, dy = np.zeros(cluster.max() + 1), np.zeros(cluster.max() + 1)
    cursor, side = 0.0, 0.0
    for c in range(cluster.max() + 1):
        minx, miny, maxx, maxy = shapely.total_bounds(buildings.geometry[cluster == c])
        dx[c], dy[c] = cursor - minx, -miny
        cursor += maxx - minx + STREET
        side = max(side, maxy - miny)

    def moved(table: GeoTable, of: np.ndarray) -> GeoTable:
        return GeoTable(_shift(table.geometry, dx[of], dy[of]), table.fields, table.geometry_type)

    return (
        moved(buildings, cluster),
        moved(faces, face_cluster),
        moved(addresses, address_cluster),
        max(side, cursor - STREET),
    )


def _copy_prefix(copy: np.ndarray) -> np.ndarray:
    return np.char.add(np.char.add("T", np.char.zfill(copy.astype(str), 5)), "-")


def _replicate(
    table: GeoTable, copies: int, columns: int, step: float, ids: tuple[str, ...]
) -> tuple[GeoTable, np.ndarray]:
    """``copies`` copies of ``table`` on a grid of ``columns``, their ``ids`` prefixed;
    and the copy of each row."""
    n = len(table)
    copy = np.repeat(np.arange(copies), n)
    dx = ORIGIN[0] + (copy % columns) * step
    dy = ORIGIN[1] + (copy // columns) * step
    geometry = _shift(np.tile(table.geometry, copies), dx, dy)
    fields = {}
    for name, values in table.fields.items():
        column = np.tile(np.asarray(values), copies)
        if name in ids:
            column = column.astype(object)
            known = column != None  # noqa: E711 (elementwise: an address may have no building)
            column[known] = np.char.add(_copy_prefix(copy[known]), column[known].astype(str))
        fields[name] = column
    return GeoTable(geometry, fields, table.geometry_type), copy


def _communes() -> list[tuple[str, str]]:
    """(INSEE code, name) of the mining basin's communes, by code."""
    features = json.loads(COMMUNES.read_text(encoding="utf-8"))["features"]
    return sorted((f["properties"]["insee"], f["properties"]["nom"]) for f in features)


def _street_qualifier(rank: int) -> str:
    word = STREET_QUALIFIERS[rank % len(STREET_QUALIFIERS)]
    lap = rank // len(STREET_QUALIFIERS)
    return " ".join(p for p in (word, str(lap + 1) if lap else "") if p)


def relabel(addresses: GeoTable, copy: np.ndarray, demo: GeoTable) -> dict[str, np.ndarray]:
    """The address columns of the copies: each copy in its commune (``_communes`` in
    turn), its streets qualified when the commune already holds an earlier copy."""
    communes = _communes()
    numero = np.asarray(demo.fields["numero"]).astype(np.int64)
    # the label holds the repetition ("12 bis …"); the layer has no column for it
    rep = [
        label.removeprefix(str(n)).split(street, 1)[0].strip()
        for label, n, street in zip(
            demo.fields["label"].tolist(),
            numero.tolist(),
            demo.fields["nom_voie"].tolist(),
            strict=True,
        )
    ]
    n_demo = len(demo)
    labels, streets, codes, names = [], [], [], []
    for c in range(int(copy.max()) + 1 if len(copy) else 0):
        insee, name = communes[c % len(communes)]
        qualifier = _street_qualifier(c // len(communes))
        for k in range(n_demo):
            street = f"{demo.fields['nom_voie'][k]} {qualifier}".strip()
            labels.append(make_label(int(numero[k]), rep[k], street, insee, name))
            streets.append(street)
            codes.append(insee)
            names.append(name)
    fields = dict(addresses.fields)
    fields["label"] = np.asarray(labels, dtype=object)
    fields["nom_voie"] = np.asarray(streets, dtype=object)
    fields["code_postal"] = np.asarray(codes, dtype=object)
    fields["code_insee"] = fields["code_postal"]
    fields["nom_commune"] = np.asarray(names, dtype=object)
    fields["numero"] = np.tile(numero, int(copy.max()) + 1 if len(copy) else 0)
    return {k: fields[k] for k in ADDRESS_FIELDS}


def make_territory(out: Path, faces_wanted: int, demo_path: Path) -> Path:
    """Write the territory cadastre ``out`` from the demo cadastre at ``demo_path``."""
    buildings, faces = _read(demo_path, "buildings"), _read(demo_path, "roof_faces")
    addresses = _read(demo_path, "addresses", "Point")
    buildings, faces, addresses, side = neighbourhood(buildings, faces, addresses)
    copies = max(1, math.ceil(faces_wanted / len(faces)))
    columns = math.ceil(math.sqrt(copies))
    step = side + STREET
    big_buildings, building_copy = _replicate(buildings, copies, columns, step, ("building_id",))
    communes = _communes()
    big_buildings.fields["commune_insee"] = np.array(
        [communes[c % len(communes)][0] for c in building_copy.tolist()], dtype=object
    )
    big_faces, _ = _replicate(faces, copies, columns, step, ("building_id", "face_id"))
    big_addresses, address_copy = _replicate(
        addresses, copies, columns, step, ("address_id", "building_id")
    )

    # the demo's monthly figures through the reader, whatever their storage
    store = cadastre.Cadastre(demo_path)
    try:
        monthly = [
            (face.face_id, month + 1, irradiation, production)
            for building_id in np.unique(buildings.fields["building_id"].astype(str)).tolist()
            for face in store.faces(building_id)
            for month, (irradiation, production) in enumerate(
                zip(face.irradiation_monthly_kwh_m2, face.production_monthly_kwh, strict=True)
            )
        ]
        provenance = store.provenance()
    finally:
        store.close()
    face_ids = np.array([r[0] for r in monthly], dtype=object)
    copy = np.repeat(np.arange(copies), len(monthly))
    monthly_columns = {
        "face_id": np.char.add(_copy_prefix(copy), np.tile(face_ids, copies).astype(str)).astype(
            object
        ),
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
        addresses=GeoTable(
            big_addresses.geometry, relabel(big_addresses, address_copy, addresses), "Point"
        ),
        provenance={
            "territory": f"{copies} copies of the demo cadastre, for benchmarks",
            "parts": [{"part": "demo", **_part(provenance)}],
        },
    )


def _part(provenance: dict[str, object]) -> dict[str, object]:
    """The demo's provenance as one part: its first part when it merged several."""
    parts = provenance.get("parts")
    if isinstance(parts, list) and parts and isinstance(parts[0], dict):
        return parts[0]
    return provenance


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
        f"{summary['addresses']:,} addresses, {path.stat().st_size / 1e6:,.0f} MB,"
        f" in {time.perf_counter() - start:.0f} s",
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
