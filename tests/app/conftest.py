"""A small cadastre near Lens, built once per test session, and the app serving it.

The addresses go the real way: written as a gzipped BAN file, read back with
``read_ban`` and linked to the footprints with ``link_addresses``. The buildings, faces
and their figures are written by hand with ``write_cadastre``; the tests compare the API
with what ``Cadastre`` reads from the file, never with these hand-made numbers, so the
session cadastre can be swapped for a real build (``solar.build.build_from_surface`` on
``tests.scenes``) by changing ``_write_cadastre`` alone.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pyproj
import pytest
import shapely
from fastapi import FastAPI
from fastapi.testclient import TestClient
from rasterio.crs import CRS

from app.main import create_app
from app.settings import Settings
from solar.addresses import (
    Address,
    address_layer,
    link_addresses,
    make_label,
    read_ban,
    write_ban_csv,
)
from solar.cadastre import (
    BUILDING_FIELDS,
    FACE_FIELDS,
    MONTHLY_FIELDS,
    FaceProfiles,
    GeoTable,
    encode_profile,
    write_cadastre,
)
from solar.footprints import Footprint

LAMBERT93 = CRS.from_epsg(2154)

#: Three buildings in Lens, Lambert-93 [m]: two gables and a flat roof.
FOOTPRINTS = (
    Footprint("BAT_GABLE_A", shapely.box(686_000.0, 7_032_000.0, 686_012.0, 7_032_008.0)),
    Footprint("BAT_GABLE_B", shapely.box(686_030.0, 7_032_000.0, 686_042.0, 7_032_008.0)),
    Footprint("BAT_FLAT_C", shapely.box(686_060.0, 7_032_000.0, 686_075.0, 7_032_010.0)),
)

#: (id, numero, rep, street, x, y): the point is inside a footprint, except the last one,
#: which stands in a garden with no building under it.
ADDRESS_ROWS = (
    ("62498_0540_00012", 12, "", "Rue Jean Jaurès", 686_006.0, 7_032_004.0),
    ("62498_0540_00012_bis", 12, "bis", "Rue Jean Jaurès", 686_036.0, 7_032_004.0),
    ("62498_0540_00120", 120, "", "Rue Jean Jaurès", 686_067.0, 7_032_005.0),
    ("62498_0541_00003", 3, "", "Avenue du Maréchal Foch", 686_033.0, 7_032_006.0),
    ("62498_0542_00007", 7, "", "Rue Saint-Éloi", 686_070.0, 7_032_002.0),
    ("62498_0543_00005", 5, "", "Boulevard Émile Basly", 686_020.0, 7_032_030.0),
)
NO_BUILDING_ADDRESS = "62498_0543_00005"


def lens_addresses() -> tuple[Address, ...]:
    """The BAN rows above, with their WGS84 position as the BAN publishes it."""
    to_wgs84 = pyproj.Transformer.from_crs(2154, 4326, always_xy=True)
    out = []
    for address_id, numero, rep, street, x, y in ADDRESS_ROWS:
        lon, lat = to_wgs84.transform(x, y)
        out.append(
            Address(
                address_id=address_id,
                label=make_label(numero, rep, street, "62300", "Lens"),
                numero=numero,
                rep=rep,
                nom_voie=street,
                code_postal="62300",
                code_insee="62498",
                nom_commune="Lens",
                x=x,
                y=y,
                lon=lon,
                lat=lat,
            )
        )
    return tuple(out)


def _faces_of(footprint: Footprint) -> list[tuple[str, shapely.Geometry, float | None, float]]:
    """(face_id, plan outline, azimuth, annual irradiation) of one building."""
    xmin, ymin, xmax, ymax = footprint.geometry.bounds
    if footprint.building_id.startswith("BAT_FLAT"):
        return [(f"{footprint.building_id}-1", footprint.geometry, None, 950.0)]
    ridge = (ymin + ymax) / 2
    return [
        (f"{footprint.building_id}-1", shapely.box(xmin, ymin, xmax, ridge), 180.0, 1120.0),
        (f"{footprint.building_id}-2", shapely.box(xmin, ridge, xmax, ymax), 0.0, 690.0),
    ]


#: Share of the annual energy in each month (Artois, south face), January first.
_MONTHS = np.array([2.5, 4.0, 7.5, 10.5, 12.5, 13.0, 13.0, 11.5, 9.0, 6.5, 3.5, 2.0])
MONTH_SHARE = _MONTHS / _MONTHS.sum()


def _write_cadastre(addresses: tuple[Address, ...], out: Path) -> Path:
    """The session cadastre, written by hand (swap for ``build_from_surface`` here)."""
    face_rows, face_geoms, blobs = [], [], []
    monthly: dict[str, list[object]] = {k: [] for k in MONTHLY_FIELDS}
    building_rows = []
    for fp in FOOTPRINTS:
        rows = []
        for face_id, outline, azimuth, irradiation in _faces_of(fp):
            flat = azimuth is None
            tilt = 0.0 if flat else 35.0
            area = outline.area / np.cos(np.radians(tilt))
            panels = int(area * 0.6 / 1.94)
            kwc = round(panels * 0.425, 3)
            specific = round(irradiation * 0.82, 1)
            rows.append(
                {
                    "building_id": fp.building_id,
                    "face_id": face_id,
                    "tilt_deg": tilt,
                    "azimuth_deg": np.nan if flat else azimuth,
                    "is_flat": flat,
                    "area_m2": round(area, 2),
                    "usable_area_m2": round(area * 0.6, 2),
                    "irradiation_kwh_m2_yr": irradiation,
                    "shading_loss_pct": 3.5,
                    "panels": panels,
                    "kwc": kwc,
                    "production_kwh_yr": round(kwc * specific, 1),
                    "specific_yield_kwh_kwc": specific,
                    "suitability": "good" if irradiation > 900 else "fair",
                }
            )
            face_geoms.append(outline)
            hourly = np.zeros(8760)
            hourly[12::24] = specific / 365
            blobs.append(encode_profile(hourly))
            for month in range(12):
                monthly["face_id"].append(face_id)
                monthly["month"].append(month + 1)
                monthly["irradiation_kwh_m2"].append(round(irradiation * MONTH_SHARE[month], 2))
                monthly["production_kwh"].append(round(kwc * specific * MONTH_SHARE[month], 2))
        face_rows.extend(rows)
        kwc = sum(r["kwc"] for r in rows)
        production = sum(r["production_kwh_yr"] for r in rows)
        building_rows.append(
            {
                "building_id": fp.building_id,
                "commune_insee": "62498",
                "n_faces": len(rows),
                "usable_area_m2": round(sum(r["usable_area_m2"] for r in rows), 2),
                "panels": sum(r["panels"] for r in rows),
                "kwc": round(kwc, 3),
                "production_kwh_yr": round(production, 1),
                "specific_yield_kwh_kwc": round(production / kwc, 1),
                "irradiation_kwh_m2_yr": round(
                    np.mean([r["irradiation_kwh_m2_yr"] for r in rows]), 1
                ),
                "shading_loss_pct": 3.5,
                "suitability": "good",
            }
        )

    def columns(rows: list[dict[str, object]], names: tuple[str, ...]) -> dict[str, np.ndarray]:
        return {
            n: np.asarray(
                [r[n] for r in rows],
                dtype=object if isinstance(rows[0][n], str) else None,
            )
            for n in names
        }

    links = link_addresses(addresses, FOOTPRINTS)
    return write_cadastre(
        out,
        crs=LAMBERT93,
        buildings=GeoTable(
            np.array([fp.geometry for fp in FOOTPRINTS], dtype=object),
            columns(building_rows, BUILDING_FIELDS),
            "MultiPolygon",
        ),
        faces=GeoTable(
            np.array(face_geoms, dtype=object), columns(face_rows, FACE_FIELDS), "MultiPolygon"
        ),
        monthly={k: np.asarray(v) for k, v in monthly.items()},
        profiles=FaceProfiles([r["face_id"] for r in face_rows], blobs),
        provenance={
            "code_version": "test",
            "weather_file": "tmy_50.911_3.192_2005_2020.csv",
            "sources": [{"file": "adresses-62.csv.gz"}],
        },
        addresses=address_layer(addresses, links),
    )


@pytest.fixture(scope="session")
def ban_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The session's addresses as a gzipped BAN file."""
    return write_ban_csv(lens_addresses(), tmp_path_factory.mktemp("ban") / "adresses-62.csv.gz")


@pytest.fixture(scope="session")
def cadastre_path(tmp_path_factory: pytest.TempPathFactory, ban_path: Path) -> Path:
    """The session cadastre: BAN addresses read back from the file, three buildings."""
    addresses = read_ban(ban_path, target_crs=LAMBERT93)
    return _write_cadastre(addresses, tmp_path_factory.mktemp("cadastre") / "cadastre.gpkg")


@pytest.fixture(scope="session")
def app(cadastre_path: Path) -> FastAPI:
    return create_app(Settings(path=cadastre_path))


@pytest.fixture(scope="session")
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app) as test_client:
        yield test_client
