"""The uncertainty bands written into the cadastre for every face and building."""

from __future__ import annotations

import numpy as np
import pytest
import shapely

from solar.build.aggregate import with_production_bands
from solar.cadastre import BuildingRecord, FaceRecord
from solar.household.uncertainty import Spreads, production_bands


def _face(building_id: str, k: int, production: float, *, suitability: str = "good") -> FaceRecord:
    return FaceRecord(
        building_id=building_id,
        face_id=f"{building_id}-{k}",
        tilt_deg=35.0,
        azimuth_deg=180.0 if k % 2 else 90.0,
        is_flat=False,
        area_m2=40.0,
        usable_area_m2=30.0,
        irradiation_kwh_m2_yr=1000.0,
        shading_loss_pct=0.0,
        panels=10,
        kwc=4.25,
        production_kwh_yr=production,
        specific_yield_kwh_kwc=production / 4.25,
        suitability=suitability,
        geometry=shapely.box(0, 0, 8, 5),
    )


def _building(building_id: str, production: float) -> BuildingRecord:
    return BuildingRecord(
        building_id=building_id,
        commune_insee=None,
        n_faces=2,
        usable_area_m2=60.0,
        panels=20,
        kwc=8.5,
        production_kwh_yr=production,
        specific_yield_kwh_kwc=production / 8.5,
        irradiation_kwh_m2_yr=1000.0,
        shading_loss_pct=0.0,
        suitability="good",
        footprint_check="ok",
        footprint_shift_m=None,
        geometry=shapely.box(0, 0, 10, 10),
    )


def _width(low: float, high: float, middle: float) -> float:
    return (high - low) / middle


def test_a_building_band_sums_the_faces_its_total_counts() -> None:
    faces = [
        _face("b", 1, 3000.0),
        _face("a", 1, 4000.0),
        _face("a", 2, 500.0, suitability="poor"),  # not worth equipping: not in a's total
        _face("b", 2, 2000.0),
    ]
    buildings = [_building("a", 4000.0), _building("b", 5000.0)]
    banded_faces, banded = with_production_bands(faces, buildings)
    assert [f.face_id for f in banded_faces] == [f.face_id for f in faces]
    by_id = {f.face_id: f for f in banded_faces}
    a, b = banded
    # a's total is its one counted face: the same samples, the same band
    counted = by_id["a-1"]
    assert (a.production_p10_kwh_yr, a.production_p90_kwh_yr) == (
        counted.production_p10_kwh_yr,
        counted.production_p90_kwh_yr,
    )
    for record, nominal in ((b, 5000.0), *((f, f.production_kwh_yr) for f in banded_faces)):
        assert record.production_p10_kwh_yr < record.production_p50_kwh_yr
        assert record.production_p50_kwh_yr < record.production_p90_kwh_yr
        assert record.production_p50_kwh_yr == pytest.approx(nominal, rel=0.03)


def test_the_band_follows_each_term_alone() -> None:
    """Each spread alone gives its own, analytic, band; references are the normal's quantiles."""
    production = np.array([1000.0])
    south = (np.array([40.0]), np.array([180.0]), np.array([0]))
    z90 = 1.2816  # the standard normal's 90th percentile
    none = Spreads.certain()
    only_area = production_bands(
        production, *south, spreads=Spreads(**{**none.__dict__, "area_sd": 0.03}), n_samples=20_000
    )
    np.testing.assert_allclose(
        only_area.faces[0], 1000 * (1 + 0.03 * np.array([-z90, 0, z90])), rtol=0.004
    )
    # two faces' independent area errors partly cancel in their total: by √2
    both = production_bands(
        np.array([1000.0, 1000.0]),
        np.array([40.0, 40.0]),
        np.array([180.0, 180.0]),
        np.array([0, 0]),
        spreads=Spreads(**{**none.__dict__, "area_sd": 0.03}),
        n_samples=20_000,
    )
    np.testing.assert_allclose(
        both.groups[0], 2000 * (1 + 0.03 / np.sqrt(2) * np.array([-z90, 0, z90])), rtol=0.004
    )
    only_losses = production_bands(
        production,
        *south,
        spreads=Spreads(**{**none.__dict__, "losses_min": 0.10, "losses_max": 0.18}),
        nominal_losses=0.14,
        n_samples=20_000,
    )
    # Uniform losses 10-18 % against 14 %: P10 at 17.2 %, P50 at 14 %, P90 at 10.8 %
    np.testing.assert_allclose(
        only_losses.faces[0], 1000 * np.array([0.828, 0.86, 0.892]) / 0.86, rtol=0.003
    )
