"""The face records' figures are rounded at once, as Python's round() rounds each."""

from __future__ import annotations

import numpy as np
import pytest

from solar.build import tile


def _bits(values: list[float]) -> list[bytes]:
    return [np.float64(v).tobytes() for v in values]


@pytest.mark.parametrize("decimals", [1, 2, 3])
def test_the_rounding_is_python_round_bit_for_bit(decimals: int) -> None:
    rng = np.random.default_rng(decimals)
    # halves in decimal, which binary floats hold a hair above or below, and their
    # neighbours: where rounding the product by 10**decimals can go the other way
    halves = (np.arange(-20000, 20000) + 0.5) / 10.0**decimals
    neighbours = np.concatenate(
        [halves, np.nextafter(halves, np.inf), np.nextafter(halves, -np.inf)]
    )
    values = np.concatenate(
        [
            neighbours,
            rng.uniform(-1e4, 1e4, 20000),
            rng.uniform(0.0, 2.0, 20000),
            [0.0, -0.0, 1e-300, -1e-300, 1e300, -1e300, 2.0**60 + 0.5, 1e308],
        ]
    )
    expected = [round(v, decimals) for v in values.tolist()]
    assert _bits(tile._rounded(values, decimals)) == _bits(expected)


def test_special_values_stay_as_python_keeps_them() -> None:
    rounded = tile._rounded([np.inf, -np.inf, np.nan, -0.004], 2)
    assert rounded[:2] == [np.inf, -np.inf]
    assert np.isnan(rounded[2])
    assert _bits(rounded[3:]) == _bits([round(-0.004, 2)])


def test_rows_of_values_stay_rows() -> None:
    values = np.array([[0.125, 2.675], [1.005, -3.14159]])
    assert tile._rounded(values, 2) == [[round(v, 2) for v in row] for row in values.tolist()]
