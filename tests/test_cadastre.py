"""The cadastre GeoPackage: schema, round trip, atomic writes, merge."""

from __future__ import annotations

import dataclasses
import sqlite3
import threading
from dataclasses import replace
from pathlib import Path

import numpy as np
import pyogrio
import pytest
import shapely
from rasterio.crs import CRS

from solar import cadastre, irradiance, profiles, pv
from solar.cadastre import BuildingRecord, FaceRecord
from solar.errors import InputError, NotFound
from solar.resources import DEFAULT_WEATHER
from solar.weather import read_weather, solar_position

LAMBERT93 = CRS.from_epsg(2154)
X0, Y0 = 686_000.0, 7_032_000.0  # Lens, Lambert-93
WEATHER = read_weather(DEFAULT_WEATHER)
SITE = profiles.ProductionSite(WEATHER, pv.load_module(None), pv.SYSTEM_LOSSES, 0.2)


_DEFAULTS = {
    record: {
        f.name: f.default
        for f in dataclasses.fields(record)
        if f.name in cadastre.columns(record) and f.default is not dataclasses.MISSING
    }
    for record in (FaceRecord, BuildingRecord)
}


def _tables(n_buildings: int = 2, prefix: str = "b") -> dict:
    footprints = [
        shapely.box(X0 + 20 * i, Y0, X0 + 20 * i + 10, Y0 + 8) for i in range(n_buildings)
    ]
    building_ids = [f"{prefix}{i}" for i in range(n_buildings)]
    buildings = cadastre.GeoTable(
        np.array(footprints, dtype=object),
        {
            "building_id": np.array(building_ids, dtype=object),
            "commune_insee": np.array(["62498"] * n_buildings, dtype=object),
            "n_faces": np.full(n_buildings, 2),
            "usable_area_m2": np.full(n_buildings, 30.5),
            "panels": np.full(n_buildings, 12),
            "kwc": np.full(n_buildings, 5.1),
            "production_kwh_yr": np.full(n_buildings, 5200.0),
            "specific_yield_kwh_kwc": np.full(n_buildings, 1019.6),
            "irradiation_kwh_m2_yr": np.full(n_buildings, 1150.0),
            "shading_loss_pct": np.full(n_buildings, 3.2),
            "suitability": np.array(["excellent"] * n_buildings, dtype=object),
            "footprint_check": np.array(["ok"] * n_buildings, dtype=object),
            "footprint_shift_m": np.full(n_buildings, np.nan),
            "production_p10_kwh_yr": np.full(n_buildings, 4700.0),
            "production_p50_kwh_yr": np.full(n_buildings, 5150.0),
            "production_p90_kwh_yr": np.full(n_buildings, 5600.0),
            # BD TOPO's description of the buildings, absent here
            "usage_1": np.full(n_buildings, None, dtype=object),
            "nature": np.full(n_buildings, None, dtype=object),
            "hauteur": np.full(n_buildings, np.nan),
            "nombre_de_logements": np.full(n_buildings, None, dtype=object),
        },
        "MultiPolygon",
    )
    faces_geom, face_fields = [], {k: [] for k in cadastre.FACE_FIELDS}
    for bid, fp in zip(building_ids, footprints, strict=True):
        xmin, ymin, xmax, ymax = fp.bounds
        halves = [shapely.box(xmin, ymin, xmax, ymin + 4), shapely.box(xmin, ymin + 4, xmax, ymax)]
        for k, (half, azimuth) in enumerate(zip(halves, (180.0, 0.0), strict=True)):
            faces_geom.append(half)
            row = {
                "building_id": bid,
                "face_id": f"{bid}-{k + 1}",
                "tilt_deg": 35.0,
                "azimuth_deg": azimuth,
                "is_flat": False,
                "area_m2": 48.8,
                "usable_area_m2": 30.5,
                "irradiation_kwh_m2_yr": 1150.0,
                "shading_loss_pct": 3.2,
                "panels": 12,
                "kwc": 5.1,
                "production_kwh_yr": 5200.0,
                "specific_yield_kwh_kwc": 1019.6,
                "suitability": "excellent",
                "production_p10_kwh_yr": 4700.0,
                "production_p50_kwh_yr": 5150.0,
                "production_p90_kwh_yr": 5600.0,
                "part_id": None,
                "module_tilt_deg": 35.0,
                "module_azimuth_deg": azimuth,
            }
            # the columns this fixture leaves to the record's defaults
            row.update({k: v for k, v in _DEFAULTS[FaceRecord].items() if k not in row})
            for key, value in row.items():
                face_fields[key].append(value)
    faces = cadastre.GeoTable(
        np.array(faces_geom, dtype=object),
        {
            k: np.array(v, dtype=object) if isinstance(v[0], str) else np.asarray(v)
            for k, v in face_fields.items()
        },
        "MultiPolygon",
    )
    face_ids = list(face_fields["face_id"])
    rng = np.random.default_rng(1)
    # a shade that comes and goes with the days, partial at every hour
    factors = np.clip(rng.uniform(0.0, 1.4, size=(len(face_ids), 8760)), 0.0, 1.0)
    light = irradiance.Shading(
        factors.astype(np.float32),
        rng.uniform(0.6, 1.0, len(face_ids)),
        rng.uniform(0.3, 1.0, len(face_ids)),
    )
    monthly = {
        "face_id": np.repeat(np.array(face_ids, dtype=object), 12),
        "month": np.tile(np.arange(1, 13), len(face_ids)),
        "irradiation_kwh_m2": np.tile(np.arange(12) * 10.0, len(face_ids)),
        "production_kwh": np.tile(np.arange(12) * 40.0, len(face_ids)),
    }
    addresses = cadastre.GeoTable(
        np.array([shapely.Point(X0 + 5, Y0 + 4), shapely.Point(X0 - 50, Y0)], dtype=object),
        {
            "address_id": np.array([f"{prefix}_00012", f"{prefix}_00099"], dtype=object),
            "label": np.array(
                ["12 Rue Jean Jaurès 62300 Lens", "99 Rue Jean Jaurès 62300 Lens"], dtype=object
            ),
            "numero": np.array(["12", "99"], dtype=object),
            "nom_voie": np.array(["Rue Jean Jaurès"] * 2, dtype=object),
            "code_postal": np.array(["62300"] * 2, dtype=object),
            "code_insee": np.array(["62498"] * 2, dtype=object),
            "nom_commune": np.array(["Lens"] * 2, dtype=object),
            "building_id": np.array([building_ids[0], None], dtype=object),
            "part_id": np.array([None, None], dtype=object),
        },
        "Point",
    )
    return {
        "buildings": buildings,
        "faces": faces,
        "addresses": addresses,
        "monthly": monthly,
        "profiles": cadastre.FaceProfiles(face_ids, profiles.encode_shading(light)),
        "light": light,
        "provenance": {"code_version": "test", "sources": [{"file": "a.tif"}]},
    }


def _write(path: Path, tables: dict) -> Path:
    return cadastre.write_cadastre(
        path,
        crs=LAMBERT93,
        buildings=tables["buildings"],
        faces=tables["faces"],
        monthly=tables["monthly"],
        profiles=tables["profiles"],
        provenance=tables["provenance"],
        addresses=tables["addresses"],
        site=SITE,
    )


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    tables = _tables()
    path = _write(tmp_path_factory.mktemp("gpkg") / "cadastre.gpkg", tables)
    return path, tables


def test_gdal_sees_every_layer_and_table(written: tuple[Path, dict]) -> None:
    path, _ = written
    layers = dict(pyogrio.list_layers(path).tolist())
    assert layers["buildings"] == "MultiPolygon"
    assert layers["roof_faces"] == "MultiPolygon"
    assert layers["addresses"] == "Point"
    # attribute tables are registered in gpkg_contents, so QGIS lists them too
    for table in ("face_series", "production_site", "provenance"):
        assert table in layers
    info = pyogrio.read_info(path, layer="roof_faces")
    assert list(info["fields"]) == list(cadastre.FACE_FIELDS)
    assert "2154" in info["crs"]


def test_reader_round_trip(written: tuple[Path, dict]) -> None:
    path, _ = written
    store = cadastre.Cadastre(path)
    building = store.building("b0")
    assert building.kwc == pytest.approx(5.1)
    assert building.geometry.area == pytest.approx(80.0)
    faces = store.faces("b0")
    assert [f.face_id for f in faces] == ["b0-1", "b0-2"]
    assert faces[0].azimuth_deg == 180.0
    assert faces[0].is_flat is False
    assert faces[0].production_monthly_kwh == tuple(m * 40.0 for m in range(12))
    assert faces[0].irradiation_monthly_kwh_m2 == tuple(m * 10.0 for m in range(12))


def test_served_hours_are_the_production_of_the_stored_light(
    written: tuple[Path, dict],
) -> None:
    path, tables = written
    served = cadastre.Cadastre(path).profiles(["b0-1", "b0-2", "nope"])
    assert sorted(served) == ["b0-1", "b0-2"]
    light = tables["light"]
    # the production chain on the light as it was given, before any packing
    built = pv.specific_production(
        WEATHER,
        solar_position(WEATHER),
        [35.0, 35.0],
        [180.0, 0.0],
        irradiance.Shading(light.lit_fraction[:2], light.sky_view[:2], light.horizon_band_open[:2]),
        module=SITE.module,
        albedo=SITE.albedo,
        system_losses=SITE.system_losses,
    )
    for k, face_id in enumerate(["b0-1", "b0-2"]):
        build = built[k].astype(np.float64)
        assert served[face_id].shape == (8760,)
        assert np.abs(served[face_id] - build).sum() <= 0.005 * build.sum()
        assert served[face_id].sum() == pytest.approx(build.sum(), rel=5e-3)


def test_the_production_site_round_trips(written: tuple[Path, dict]) -> None:
    site = cadastre.Cadastre(written[0]).production_site()
    assert site.weather.data.equals(WEATHER.data)
    assert (site.weather.latitude, site.weather.longitude) == (WEATHER.latitude, WEATHER.longitude)
    assert site.weather.irradiance_time_offset == WEATHER.irradiance_time_offset
    assert site.module == SITE.module
    assert (site.system_losses, site.albedo) == (SITE.system_losses, SITE.albedo)


def test_unknown_ids_raise_not_found(written: tuple[Path, dict]) -> None:
    store = cadastre.Cadastre(written[0])
    with pytest.raises(NotFound):
        store.building("nope")
    with pytest.raises(NotFound):
        store.address("nope")


def test_spatial_queries_use_the_rtree(written: tuple[Path, dict]) -> None:
    store = cadastre.Cadastre(written[0])
    assert store.building_at(X0 + 25, Y0 + 4).building_id == "b1"
    assert store.building_at(X0 + 15, Y0 + 4) is None  # the gap between the two buildings
    hits = store.faces_in_bbox((X0 - 1, Y0 - 1, X0 + 11, Y0 + 9), limit=10)
    assert {f.face_id for f in hits} == {"b0-1", "b0-2"}
    assert len(store.faces_in_bbox((X0 - 1, Y0 - 1, X0 + 100, Y0 + 9), limit=3)) == 3


def test_addresses_and_summary(written: tuple[Path, dict]) -> None:
    store = cadastre.Cadastre(written[0])
    assert store.address("b_00099").building_id is None
    assert len(store.addresses()) == 2
    summary = store.summary()
    assert summary["buildings"] == 2
    assert summary["faces"] == 4
    assert summary["communes"] == ["62498"]
    assert summary["kwc"] == pytest.approx(10.2)
    assert store.provenance()["sources"] == [{"file": "a.tif"}]


def test_reader_is_read_only_and_per_thread(written: tuple[Path, dict]) -> None:
    store = cadastre.Cadastre(written[0])
    with pytest.raises(sqlite3.OperationalError, match="readonly"):
        store._con().execute("DELETE FROM buildings")
    seen: list[int] = []

    def work() -> None:
        seen.append(id(store._con()))
        store.building("b1")

    threads = [threading.Thread(target=work) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(set(seen)) == 2
    assert id(store._con()) not in seen


def test_failed_write_leaves_nothing_behind(tmp_path: Path) -> None:
    tables = _tables()
    target = tmp_path / "cadastre.gpkg"
    broken = dict(tables["monthly"])
    broken["month"] = broken["month"][:-1]  # one row short: the tables step fails
    with pytest.raises(ValueError):
        cadastre.write_cadastre(
            target,
            crs=LAMBERT93,
            buildings=tables["buildings"],
            faces=tables["faces"],
            monthly=broken,
            profiles=tables["profiles"],
            provenance=tables["provenance"],
            site=SITE,
        )
    assert list(tmp_path.iterdir()) == []


def test_failed_write_keeps_the_previous_cadastre(tmp_path: Path) -> None:
    target = _write(tmp_path / "cadastre.gpkg", _tables(1))
    before = target.read_bytes()
    with pytest.raises(InputError):
        empty = _tables(1)
        empty["buildings"] = cadastre.GeoTable(
            np.array([], dtype=object),
            {k: np.array([]) for k in cadastre.BUILDING_FIELDS},
            "MultiPolygon",
        )
        _write(target, empty)
    assert target.read_bytes() == before


def test_a_file_that_is_not_a_cadastre_is_an_input_error(tmp_path: Path) -> None:
    bogus = tmp_path / "bogus.gpkg"
    bogus.write_bytes(b"not sqlite at all" * 100)
    with pytest.raises(InputError, match=r"bogus\.gpkg"):
        cadastre.Cadastre(bogus)
    with pytest.raises(InputError, match=r"missing\.gpkg"):
        cadastre.Cadastre(tmp_path / "missing.gpkg")


def test_merge_reprojects_geometry_and_keeps_values(tmp_path: Path) -> None:
    first = _write(tmp_path / "a.gpkg", _tables(1, prefix="a"))
    second = _write(tmp_path / "b.gpkg", _tables(2, prefix="b"))
    wgs84 = CRS.from_epsg(4326)
    merged = cadastre.merge_cadastres([first, second], tmp_path / "m.gpkg", crs=wgs84)
    store = cadastre.Cadastre(merged)
    assert store.crs == wgs84
    assert store.summary()["buildings"] == 3
    lon = store.building("a0").geometry.centroid.x
    assert 2.8 < lon < 2.9  # Lens is at 2.83 E
    assert store.building("b1").kwc == pytest.approx(5.1)
    assert len(store.profiles(["a0-1", "b1-2"])) == 2
    assert [p["part"] for p in store.provenance()["parts"]] == ["a.gpkg", "b.gpkg"]


def test_merge_refuses_colliding_ids(tmp_path: Path) -> None:
    first = _write(tmp_path / "a.gpkg", _tables(1))
    second = _write(tmp_path / "b.gpkg", _tables(1))
    with pytest.raises(InputError, match="b0"):
        cadastre.merge_cadastres([first, second], tmp_path / "m.gpkg", crs=LAMBERT93)
    assert not (tmp_path / "m.gpkg").exists()


def test_records_round_trip_through_the_geopackage(tmp_path: Path) -> None:
    footprint = shapely.box(X0, Y0, X0 + 10, Y0 + 8)
    building = cadastre.BuildingRecord(
        "b0",
        "62498",
        2,
        30.5,
        12,
        5.1,
        5200.0,
        1019.6,
        1150.0,
        3.2,
        "good",
        "shifted",
        0.9,
        footprint,
    )
    sloped = cadastre.FaceRecord(
        "b0", "b0-1", 35.0, 180.0, False, 48.8, 30.5, 1150.0, 3.2, 12, 5.1, 5200.0, 1019.6,
        "good", shapely.box(X0, Y0, X0 + 10, Y0 + 4),
    )  # fmt: skip
    flat = cadastre.FaceRecord(
        "b0", "b0-2", 1.2, None, True, 40.0, 0.0, 1000.0, 0.0, 0, 0.0, 0.0, 0.0,
        "unsuitable", shapely.box(X0, Y0 + 4, X0 + 10, Y0 + 8),
    )  # fmt: skip
    path = cadastre.write_cadastre(
        tmp_path / "records.gpkg",
        crs=CRS.from_epsg(2154),
        buildings=cadastre.GeoTable.from_records([building], cadastre.BuildingRecord, "Polygon"),
        faces=cadastre.GeoTable.from_records([sloped, flat], cadastre.FaceRecord, "Polygon"),
        monthly={k: np.array([]) for k in cadastre.MONTHLY_FIELDS},
        profiles=cadastre.FaceProfiles([], []),
        provenance={},
    )
    store = cadastre.Cadastre(path)
    read = store.building("b0")
    assert read == building
    faces = store.faces("b0")
    assert faces[0].production_monthly_kwh == (0.0,) * 12  # no monthly rows were written
    unmonthly = [
        replace(f, production_monthly_kwh=(), irradiation_monthly_kwh_m2=()) for f in faces
    ]
    assert unmonthly == [sloped, flat]
    assert faces[1].azimuth_deg is None and faces[1].is_flat is True
    assert pyogrio.read_info(path, layer="roof_faces")["fields"].tolist() == list(
        cadastre.FACE_FIELDS
    )


def _altered_copy(written: tuple[Path, dict], tmp_path: Path, *statements: str) -> Path:
    """A copy of the written cadastre with ``statements`` run on it, as an older version
    of the code would have written it."""
    old = tmp_path / "old.gpkg"
    old.write_bytes(written[0].read_bytes())
    con = sqlite3.connect(old)
    with con:
        for statement in statements:
            con.execute(statement)
    con.close()
    return old


def test_a_cadastre_of_another_schema_is_refused_by_name(
    written: tuple[Path, dict], tmp_path: Path
) -> None:
    old = _altered_copy(written, tmp_path, "ALTER TABLE buildings DROP COLUMN suitability")
    with pytest.raises(InputError, match=r"buildings layer lacks suitability"):
        cadastre.Cadastre(old)


def test_a_cadastre_with_stored_hourly_profiles_is_refused(
    written: tuple[Path, dict], tmp_path: Path
) -> None:
    old = _altered_copy(
        written,
        tmp_path,
        "DELETE FROM gpkg_contents WHERE table_name = 'face_series'",
        "ALTER TABLE face_series RENAME TO face_profiles",
    )
    with pytest.raises(InputError, match=r"another version of the cadastre.*face_series"):
        cadastre.Cadastre(old)


def test_light_packed_another_way_is_refused(written: tuple[Path, dict], tmp_path: Path) -> None:
    old = _altered_copy(written, tmp_path, "UPDATE production_site SET light_encoding = 'light-v0'")
    with pytest.raises(InputError, match=r"another version.*'light-v0'"):
        cadastre.Cadastre(old).profiles(["b0-1"])


def test_merge_refuses_parts_of_different_weather(tmp_path: Path) -> None:
    first = _write(tmp_path / "a.gpkg", _tables(1, prefix="a"))
    tables = _tables(1, prefix="b")
    warmer = dataclasses.replace(
        WEATHER, data=WEATHER.data.assign(temp_air=WEATHER.data["temp_air"] + 1.0)
    )
    second = cadastre.write_cadastre(
        tmp_path / "b.gpkg",
        crs=LAMBERT93,
        buildings=tables["buildings"],
        faces=tables["faces"],
        monthly=tables["monthly"],
        profiles=tables["profiles"],
        provenance=tables["provenance"],
        site=dataclasses.replace(SITE, weather=warmer),
    )
    with pytest.raises(InputError, match="different weather"):
        cadastre.merge_cadastres([first, second], tmp_path / "merged.gpkg", crs=LAMBERT93)
