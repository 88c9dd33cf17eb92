"""The build's fused sums are the hours a reader is served, summed.

A build keeps no hourly array: stage 3 sums each face's irradiance into months as it
computes it (:func:`solar.irradiance.poa_sums`), and stage 5 its production
(:func:`solar.pv.monthly_specific_production`). The figures it writes must be those of the
hourly functions the service uses, :func:`solar.irradiance.poa_irradiance` and
:func:`solar.pv.specific_production`, given the same shading: here through the tile's
stages, on a gable with a chimney and on a flat roof's racked modules.
"""

from __future__ import annotations

import numpy as np
import pytest

from solar import irradiance, pv
from solar.build import tile
from solar.calendar import monthly_sums
from tests import scenes
from tests.build.test_tile_modules import Staged, stages


@pytest.fixture(scope="module", params=["chimney", "flat"])
def staged(request: pytest.FixtureRequest) -> Staged:
    if request.param == "flat":
        return stages(scenes.flat())
    return stages(scenes.gable(35.0, 180.0, chimney=(1.0, 1.5)))


def test_the_rows_are_the_served_hours_summed(staged: Staged) -> None:
    records, _ = tile._rows(
        staged.faces,
        staged.light,
        staged.placements,
        staged.production_shading,
        staged.climate,
        staged.options,
    )
    tilts, azimuths = tile._module_planes(staged.faces)
    hours = pv.specific_production(
        staged.climate.weather,
        staged.climate.solpos,
        tilts,
        azimuths,
        staged.production_shading,
        module=staged.climate.module,
        albedo=staged.options.albedo,
        system_losses=staged.options.system_losses,
    ).astype(np.float64)
    plane = irradiance.poa_irradiance(
        staged.climate.weather,
        staged.climate.solpos,
        tilts,
        azimuths,
        shading=staged.light.shading,
        albedo=staged.options.albedo,
        with_open=True,
    )
    assert plane.open_annual_kwh_m2 is not None
    with_modules = 0
    for i, record in enumerate(records):
        # rounded figures: within one unit of their last digit
        assert record.irradiation_kwh_m2_yr == pytest.approx(plane.annual_kwh_m2[i], abs=0.051)
        assert record.irradiation_monthly_kwh_m2 == pytest.approx(
            tuple(plane.monthly_kwh_m2[i]), abs=0.0051
        )
        assert staged.light.open_annual_kwh_m2[i] == pytest.approx(
            plane.open_annual_kwh_m2[i], rel=1e-9
        )
        assert record.specific_yield_kwh_kwc == pytest.approx(hours[i].sum(), abs=0.051)
        kwc = staged.placements[i].kwc
        assert record.production_monthly_kwh == pytest.approx(
            tuple(monthly_sums(hours[i]) * kwc), abs=0.0051
        )
        with_modules += record.panels > 0
    assert with_modules >= 1
