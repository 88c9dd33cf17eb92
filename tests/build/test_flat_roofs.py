"""Flat roofs said plainly: the plane each figure is for, and a rating of the roof itself."""

from __future__ import annotations

from pathlib import Path

import pytest
import rasterio

from solar import build, pv
from solar.cadastre import Cadastre
from solar.resources import DEFAULT_WEATHER
from solar.weather import read_weather
from tests import scenes


def test_a_flat_roof_keeps_its_own_irradiation_beside_its_modules(tmp_path: Path) -> None:
    scene = scenes.flat(parapet_height=0.0)
    summary = build.build_from_surface(
        build.Territory(scene.surface, [scene.footprint], communes=None), out=tmp_path / "f.gpkg"
    )
    store = Cadastre(summary.path)
    (face,) = store.faces(scene.footprint.building_id)
    assert face.is_flat
    assert (face.module_tilt_deg, face.module_azimuth_deg) == (
        pv.FLAT_MODULE_TILT,
        pv.FLAT_MODULE_AZIMUTH,
    )
    # an open flat roof receives the global horizontal irradiation of the weather file
    weather = read_weather(DEFAULT_WEATHER)
    ghi = float(weather.data["ghi"].sum()) / 1000.0
    assert face.roof_irradiation_kwh_m2_yr == pytest.approx(ghi, rel=0.01)
    # the racks tilted south receive more than the roof
    assert face.irradiation_kwh_m2_yr > 1.05 * face.roof_irradiation_kwh_m2_yr
    optimum = store.provenance()["optimum_irradiation_kwh_m2_yr"]
    assert face.suitability == pv.suitability(face.roof_irradiation_kwh_m2_yr / optimum)
    assert face.suitability != pv.suitability(face.irradiation_kwh_m2_yr / optimum)
    assert store.building(face.building_id).suitability == face.suitability


def test_a_pitched_roof_is_its_own_module_plane(tmp_path: Path) -> None:
    scene = scenes.gable(35.0, 180.0)
    summary = build.build_from_surface(
        build.Territory(scene.surface, [scene.footprint], communes=None), out=tmp_path / "g.gpkg"
    )
    for face in Cadastre(summary.path).faces(scene.footprint.building_id):
        assert (face.module_tilt_deg, face.module_azimuth_deg) == (face.tilt_deg, face.azimuth_deg)
        assert face.roof_irradiation_kwh_m2_yr == face.irradiation_kwh_m2_yr
    # the raster says which plane its irradiation is for
    with rasterio.open(summary.raster_path) as raster:
        assert "modules' plane" in raster.descriptions[0]
        assert "10° facing azimuth 180°" in raster.tags()["plane"]
