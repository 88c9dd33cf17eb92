"""The packed light of a face, and the weather stored with the cadastre."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from solar import irradiance, profiles, pv
from solar.resources import DEFAULT_WEATHER
from solar.weather import read_weather


def _partial_shade(seed: int) -> np.ndarray:
    """A year of hourly factors: night, full sun, and a shade that creeps day by day."""
    rng = np.random.default_rng(seed)
    hour = np.arange(8760) % 24
    day = np.arange(8760) // 24
    factor = ((hour >= 7) & (hour <= 18)).astype(np.float64)
    edge = (hour == 8) | (hour == 17)
    factor[edge] = 0.5 + 0.4 * np.sin(day[edge] / 58.0) + rng.uniform(-0.05, 0.05, edge.sum())
    return np.clip(factor, 0.0, 1.0)


def test_light_round_trips_within_half_a_step() -> None:
    factor = _partial_shade(0)
    light = profiles.decode_light(profiles.encode_light(factor, 0.8125, 0.375))
    assert light.beam_factor.shape == (8760,)
    assert_allclose(light.beam_factor, factor, atol=0.5 / profiles.FACTOR_STEPS + 1e-7)
    # wholly lit and wholly shaded hours come back exactly
    whole = (factor == 0.0) | (factor == 1.0)
    assert_array_equal(light.beam_factor[whole], factor[whole])
    assert (light.sky_view, light.horizon_band_open) == (0.8125, 0.375)


def test_any_factor_in_the_unit_interval_round_trips() -> None:
    # jumps of any size from one day to the next, the worst case of the day-to-day changes
    factor = np.random.default_rng(3).uniform(0.0, 1.0, 8760)
    light = profiles.decode_light(profiles.encode_light(factor, 1.0, 1.0))
    assert_allclose(light.beam_factor, factor, atol=0.5 / profiles.FACTOR_STEPS + 1e-7)


def test_a_face_that_nothing_shades_packs_into_a_few_bytes() -> None:
    hour = np.arange(8760) % 24
    sunny = ((hour >= 6) & (hour <= 19)).astype(np.float64)
    assert len(profiles.encode_light(sunny, 1.0, 1.0)) < 60
    # a slowly moving shade changes a few values a day: well under a tenth of the raw bytes
    assert len(profiles.encode_light(_partial_shade(1), 0.9, 0.9)) < 876


def _faces_shading(n_faces: int) -> irradiance.Shading:
    rng = np.random.default_rng(n_faces)
    return irradiance.Shading(
        np.stack([_partial_shade(seed) for seed in range(n_faces)]).astype(np.float32),
        rng.uniform(0.5, 1.0, n_faces),
        rng.uniform(0.5, 1.0, n_faces),
    )


def test_a_block_packs_each_face_as_alone() -> None:
    # several chunks of faces, packed on several threads, come back in the faces' order
    shading = _faces_shading(3 * 128 + 5)
    blobs = profiles.encode_shading(shading)
    alone = [
        profiles.encode_light(factor, sky, band)
        for factor, sky, band in zip(
            shading.lit_fraction, shading.sky_view, shading.horizon_band_open, strict=True
        )
    ]
    assert blobs == alone
    last = profiles.decode_light(blobs[-1])
    assert_allclose(
        last.beam_factor, shading.lit_fraction[-1], atol=0.5 / profiles.FACTOR_STEPS + 1e-7
    )


def test_a_wrong_factor_in_a_later_chunk_is_refused() -> None:
    shading = _faces_shading(2 * 128 + 1)
    shading.lit_fraction[-1, 100] = 1.5
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        profiles.encode_shading(shading)


@pytest.mark.parametrize("bad", [np.zeros(8784), np.full(8760, 1.5), np.full(8760, np.nan)])
def test_a_wrong_factor_is_refused(bad: np.ndarray) -> None:
    with pytest.raises(ValueError, match=r"8760|\[0, 1\]"):
        profiles.encode_light(bad, 1.0, 1.0)


def test_the_weather_is_stored_exactly() -> None:
    weather = read_weather(DEFAULT_WEATHER)
    site = profiles.ProductionSite(weather, pv.load_module(None), 0.1, 0.2)
    back = profiles.site_from_fields(profiles.site_fields(site)).weather
    assert_array_equal(
        back.data[list(profiles.WEATHER_COLUMNS)].to_numpy(),
        weather.data[list(profiles.WEATHER_COLUMNS)].to_numpy(),
    )
    assert back.data.index.equals(weather.data.index)
    # values that are not whole hundredths (a converted file) are kept as they are too
    odd = dataclasses.replace(weather, data=weather.data * (1.0 + 1e-9))
    fields = profiles.site_fields(dataclasses.replace(site, weather=odd))
    restored = profiles.site_from_fields(fields).weather.data
    assert_array_equal(restored["dni"].to_numpy(), odd.data["dni"].to_numpy())
