"""The build's parts on small inputs: the site optimum, the building totals, the communes."""

from __future__ import annotations

import shapely
from rasterio.crs import CRS

from solar import irradiance
from solar.addresses import Address
from solar.build.aggregate import (
    building_records,
    communes_from_addresses,
    communes_from_polygons,
    monthly_columns,
)
from solar.build.climate import _optimum, site_optimum
from solar.cadastre import FaceRecord
from solar.footprints import Footprint, read_footprints
from solar.reconcile import FootprintCheck
from solar.resources import COMMUNES, DEFAULT_WEATHER
from solar.weather import read_weather, solar_position
from tests import scenes

LAMBERT93 = CRS.from_epsg(2154)


def test_the_site_optimum_is_computed_once_per_weather() -> None:
    weather = read_weather(DEFAULT_WEATHER)
    solpos = solar_position(weather)
    _, _, expected = irradiance.optimal_orientation(weather, solpos)
    assert site_optimum(weather, solpos) == expected
    before = _optimum.cache_info()
    # the same file read again is another object with the same contents: a hit
    again = read_weather(DEFAULT_WEATHER)
    assert site_optimum(again, solar_position(again)) == expected
    after = _optimum.cache_info()
    assert (after.hits, after.misses) == (before.hits + 1, before.misses)
    # other contents are another key
    dimmer = read_weather(DEFAULT_WEATHER)
    dimmer.data["dni"] = dimmer.data["dni"] * 0.5
    assert site_optimum(dimmer, solar_position(dimmer)) < expected
    assert _optimum.cache_info().misses == after.misses + 1


def _face(building_id: str, n: int, *, area: float, kwc: float, suitability: str) -> FaceRecord:
    return FaceRecord(
        building_id=building_id,
        face_id=f"{building_id}-{n}",
        tilt_deg=35.0,
        azimuth_deg=180.0,
        is_flat=False,
        area_m2=area,
        usable_area_m2=area / 2,
        irradiation_kwh_m2_yr=1000.0 + 100 * n,
        shading_loss_pct=float(n),
        panels=int(kwc * 2),
        kwc=kwc,
        production_kwh_yr=kwc * 900.0,
        specific_yield_kwh_kwc=900.0,
        suitability=suitability,
        geometry=shapely.box(0, 0, 1, 1),
        production_monthly_kwh=tuple(float(m) for m in range(12)),
        irradiation_monthly_kwh_m2=tuple(float(m) for m in range(12, 24)),
        module_tilt_deg=35.0,
        module_azimuth_deg=180.0,
        roof_irradiation_kwh_m2_yr=1000.0 + 100 * n,  # a pitched roof: its modules' plane
    )


def test_building_totals_count_the_faces_worth_equipping() -> None:
    footprints = [Footprint(b, shapely.box(0, 0, 10, 10)) for b in ("a", "bare", "poor")]
    faces = [
        _face("a", 1, area=30.0, kwc=3.0, suitability="excellent"),
        _face("a", 2, area=10.0, kwc=1.0, suitability="good"),
        _face("a", 3, area=50.0, kwc=2.0, suitability="poor"),
        _face("poor", 1, area=20.0, kwc=1.0, suitability="poor"),
    ]
    checks = {
        "a": FootprintCheck("a", "shifted", (0.6, -0.8)),
        "bare": FootprintCheck("bare", "absent"),
    }
    a, bare, poor = building_records(footprints, faces, optimum_kwh_m2=1200.0, checks=checks)
    assert (a.n_faces, a.kwc, a.panels, a.production_kwh_yr) == (3, 4.0, 8, 3600.0)
    # area-weighted over the two faces worth equipping: (30 x 1100 + 10 x 1200) / 40
    assert a.irradiation_kwh_m2_yr == 1125.0
    assert a.shading_loss_pct == 1.25
    assert a.suitability == "excellent"  # 1125 / 1200 = 0.94
    assert (bare.n_faces, bare.kwc, bare.suitability) == (0, 0.0, "unsuitable")
    # no face worth equipping: the means over all faces, no total
    assert (poor.kwc, poor.irradiation_kwh_m2_yr, poor.suitability) == (0.0, 1100.0, "unsuitable")
    assert [b.geometry for b in (a, bare, poor)] == [f.geometry for f in footprints]
    # the source footprint stays the layer's geometry; the check says what was done with it
    assert [(b.footprint_check, b.footprint_shift_m) for b in (a, bare, poor)] == [
        ("shifted", 1.0),
        ("absent", None),
        ("ok", None),
    ]


def test_communes_from_addresses_then_polygons() -> None:
    footprints = [Footprint("lens", scenes.gable(35.0, 180.0).footprint.geometry)]
    building = building_records(footprints, [], optimum_kwh_m2=1200.0, checks={})
    votes = [
        Address(f"a{i}", "label", 1, "", "Rue A", "62300", code, "Lens", 0.0, 0.0, 0.0, 0.0)
        for i, code in enumerate(("A", "B", "B"))
    ]
    by_addresses = communes_from_addresses(building, votes, ["lens", "lens", "lens"])
    assert by_addresses[0].commune_insee == "B"
    assert building[0].commune_insee is None  # records are replaced, not changed
    by_polygons = communes_from_polygons(by_addresses, COMMUNES, LAMBERT93)
    communes = read_footprints(COMMUNES, target_crs=LAMBERT93, id_field="insee")
    holding = [
        c.building_id
        for c in communes.footprints
        if c.geometry.contains(shapely.point_on_surface(footprints[0].geometry))
    ]
    assert [b.commune_insee for b in by_polygons] == holding


def test_the_monthly_table_has_a_row_per_face_and_month() -> None:
    faces = [_face(b, 1, area=1.0, kwc=1.0, suitability="good") for b in ("a", "b")]
    table = monthly_columns(faces)
    assert list(table) == ["face_id", "month", "irradiation_kwh_m2", "production_kwh"]
    assert table["face_id"].tolist() == ["a-1"] * 12 + ["b-1"] * 12
    assert table["month"].tolist() == list(range(1, 13)) * 2
    assert table["production_kwh"].tolist() == [float(m) for m in range(12)] * 2
