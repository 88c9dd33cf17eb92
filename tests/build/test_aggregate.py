"""The faces' and buildings' aggregates made in bulk, against their one-by-one definitions."""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
import pytest
import shapely

from solar.build.aggregate import _weighted_means, building_records
from solar.cadastre import BuildingRecord, FaceRecord, replaced
from solar.footprints import Footprint
from solar.household import uncertainty
from solar.household.uncertainty import Spreads, production_bands
from solar.pv import SYSTEM_LOSSES


def _faces(rng: np.random.Generator, sizes: list[int]) -> list[FaceRecord]:
    faces = []
    for b, size in enumerate(sizes):
        for n in range(size):
            irradiation = float(rng.uniform(300.0, 1300.0))
            faces.append(
                FaceRecord(
                    building_id=f"b{b}",
                    face_id=f"b{b}-{n}",
                    tilt_deg=float(rng.uniform(0.0, 60.0)),
                    azimuth_deg=float(rng.uniform(0.0, 360.0)),
                    is_flat=False,
                    # a few faces of no area: weighted at 1e-9 m²
                    area_m2=float(rng.uniform(0.5, 80.0)) if rng.random() > 0.05 else 0.0,
                    usable_area_m2=float(rng.uniform(0.0, 40.0)),
                    irradiation_kwh_m2_yr=irradiation,
                    shading_loss_pct=float(rng.uniform(0.0, 40.0)),
                    panels=int(rng.integers(0, 20)),
                    kwc=float(rng.uniform(0.0, 8.0)),
                    production_kwh_yr=float(rng.uniform(0.0, 8000.0)),
                    specific_yield_kwh_kwc=900.0,
                    suitability=str(rng.choice(["excellent", "good", "fair", "poor"])),
                    geometry=shapely.box(0, 0, 1, 1),
                    roof_irradiation_kwh_m2_yr=irradiation * float(rng.uniform(0.8, 1.0)),
                )
            )
    # the faces arrive tile by tile, not building by building
    return [faces[k] for k in rng.permutation(len(faces))]


def test_building_means_are_numpy_averages_to_the_bit() -> None:
    """Buildings of 0 to 150 faces, grouped by size in one numpy call each: every mean is
    the one numpy.average makes of the building alone (sums of 8 and more terms are
    pairwise)."""
    rng = np.random.default_rng(11)
    sizes = [0, 1, 1, 2, 3, 5, 7, 8, 9, 9, 16, 17, 40, 129, 150, *rng.integers(1, 12, 60)]
    faces = _faces(rng, sizes)
    footprints = [Footprint(f"b{b}", shapely.box(0, 0, 10, 10)) for b in range(len(sizes))]
    records = building_records(footprints, faces, 1300.0, {})
    groups = []
    for fp, record in zip(footprints, records, strict=True):
        own = [f for f in faces if f.building_id == fp.building_id]
        hosting = [f for f in own if f.panels > 0 and f.suitability != "poor"]
        groups.append(hosting or own)
        assert record.n_faces == len(own)
    means = _weighted_means(groups)
    for name, mean in zip(
        ("irradiation_kwh_m2_yr", "roof_irradiation_kwh_m2_yr", "shading_loss_pct"),
        means,
        strict=True,
    ):
        expected = [
            float(
                np.average(
                    [getattr(f, name) for f in group],
                    weights=np.array([max(f.area_m2, 1e-9) for f in group]),
                )
            )
            if group
            else 0.0
            for group in groups
        ]
        assert mean == expected, name
    assert [r.shading_loss_pct for r in records] == [round(v, 2) for v in means[2]]


@pytest.mark.parametrize("record_type", [FaceRecord, BuildingRecord])
def test_a_record_is_copied_as_dataclasses_replace_copies_it(record_type: type) -> None:
    """The copy of the instance's dict is replace's record only while the records have
    neither __post_init__ nor slots."""
    assert not hasattr(record_type, "__post_init__")
    assert not hasattr(record_type, "__slots__")
    faces = _faces(np.random.default_rng(2), [2])
    record: Any = (
        faces[0]
        if record_type is FaceRecord
        else building_records([Footprint("b0", shapely.box(0, 0, 1, 1))], faces, 1300.0, {})[0]
    )
    changes: dict[str, Any] = {"production_p10_kwh_yr": 1.5, "production_p90_kwh_yr": 2.5}
    copy = replaced(record, **changes)
    assert type(copy) is record_type
    assert copy == dataclasses.replace(record, **changes)
    assert copy.__dict__ == dataclasses.replace(record, **changes).__dict__
    assert record.production_p10_kwh_yr == 0.0  # the original is left as it was


@pytest.mark.parametrize(
    "spreads", [Spreads(), Spreads(0.1, 10.0, 20.0, 0.05, 0.25, 0.1, 0.5)], ids=["default", "wide"]
)
def test_the_band_samples_are_numpy_s_to_the_bit(spreads: Spreads) -> None:
    """The fused loop against the same draws through numpy's array operations."""
    rng = np.random.default_rng(5)
    n = 700
    production = rng.uniform(0.0, 9000.0, n)
    # negative tilts fold back, azimuths wrap past 360°
    tilt = rng.uniform(-10.0, 95.0, n)
    azimuth = rng.uniform(-40.0, 420.0, n)
    group = rng.integers(0, 90, n)
    bands = production_bands(production, tilt, azimuth, group, spreads=spreads, seed=3)

    draws = np.random.default_rng(3)
    factors = uncertainty._production_factors(draws, 500, tilt, azimuth, spreads, SYSTEM_LOSSES)
    factors *= np.clip(1.0 + spreads.area_sd * draws.standard_normal(factors.shape), 0.0, None)
    samples = factors * production
    totals = np.zeros((500, 90))
    np.add.at(totals.T, group, samples.T)
    assert np.array_equal(bands.faces, np.percentile(samples, (10, 50, 90), axis=0).T)
    assert np.array_equal(bands.groups, np.percentile(totals, (10, 50, 90), axis=0).T)
