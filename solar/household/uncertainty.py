"""P10 / P50 / P90 bands on production, savings and payback, by a seeded Monte Carlo.

Each sample draws the inputs below, scales the hourly production and load, and
recomputes the balance and the cash flows. ``Pxx`` is the xx-th percentile of the
samples, so ``P10 <= P50 <= P90`` (for the payback, P90 is the slow case). PV yield
reports often call "P90" the value exceeded with 90 % probability: that is P10 here.

Inputs and their spreads (:class:`Spreads`)
-------------------------------------------
- **Weather, year to year.** Annual irradiation ~ Normal(1, 4.5 %). The year-to-year
  standard deviation of annual global irradiation is a few percent and grows as the
  climate gets cloudier (Ineichen 2011, 30 sites, used as the PVsyst default); Thevenard
  and Pelland (2013) find 3.9 % at Toronto (1,350 kWh m-2 yr-1). Northern France, at
  about 1,100 kWh m-2 yr-1, is taken at 4.5 %. Production is taken as proportional to
  irradiation.
- **Tilt and azimuth of each face**, from the fitted roof planes: Normal(0, 3°) and
  Normal(0, 5°), independent per face. Their effect on production goes through the
  relative annual plane-of-array irradiation of :data:`ORIENTATION_FACTOR`, computed for
  the Artois (see there).
- **System losses**: Uniform(10 %, 18 %) against the nominal losses the production was
  computed with (14 % by default, PVWatts' default): production x (1 - L) / (1 - L0).
- **Consumption**: Normal(1, 15 %) on the annual load (a declared annual kWh and a
  standard profile). With a measured Linky curve, set ``consumption_sd=0``
  (:meth:`Spreads.for_measured_load`).

Method
------
Production is ``a x P`` and load ``b x L`` per sample. The yearly balance is computed
exactly (hourly, battery included) on a grid of (a, b) spanning the samples, then
interpolated bilinearly for each sample: a few hundred hourly simulations serve
thousands of samples. The cash flows are then computed for all samples at once.

References
----------
.. [1] P. Ineichen, "Global irradiation: average and typical year, and year to year
   annual variability", research report, University of Geneva, 2011.
.. [2] D. Thevenard and S. Pelland, "Estimating the uncertainty in long-term
   photovoltaic yield predictions", Solar Energy 91, 432-445, 2013.
   :doi:`10.1016/j.solener.2011.05.006`
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from solar.errors import InputError
from solar.household import economics
from solar.household.selfconsumption import Battery, annual_energy

#: Tilts [°] and azimuths [°, clockwise from north] of :data:`ORIENTATION_FACTOR`.
ORIENTATION_TILTS = np.arange(0.0, 90.1, 5.0)
ORIENTATION_AZIMUTHS = np.arange(0.0, 360.1, 15.0)

# Annual plane-of-array irradiation relative to the best orientation (40°, 195°), one
# row of 25 azimuths (0, 15, ..., 360) per tilt (0, 5, ..., 90), read row by row.
# Computed with pvlib 0.16 (solar position at mid-hour, Perez transposition of the
# TMY's GHI, DNI and DHI, albedo 0.2) on the PVGIS TMY 2005-2020 at
# 50.811 N 3.310 E in data/weather, 55 km from Lens. The best plane receives
# 1,327 kWh m-2 yr-1; flat receives 82.8 % of it.
_ORIENTATION_TEXT = """
0.828 0.828 0.828 0.828 0.828 0.828 0.828 0.828 0.828 0.828 0.828 0.828 0.828
0.828 0.828 0.828 0.828 0.828 0.828 0.828 0.828 0.828 0.828 0.828 0.828
0.787 0.787 0.789 0.794 0.801 0.810 0.820 0.830 0.841 0.850 0.858 0.863 0.866
0.867 0.865 0.860 0.853 0.844 0.834 0.823 0.813 0.804 0.796 0.790 0.787
0.743 0.742 0.747 0.758 0.773 0.791 0.810 0.831 0.851 0.869 0.883 0.894 0.901
0.901 0.897 0.887 0.873 0.856 0.836 0.815 0.794 0.776 0.760 0.749 0.743
0.696 0.696 0.704 0.720 0.743 0.770 0.799 0.829 0.858 0.884 0.905 0.921 0.930
0.931 0.925 0.911 0.890 0.864 0.835 0.804 0.773 0.745 0.722 0.705 0.696
0.651 0.651 0.661 0.682 0.713 0.748 0.787 0.825 0.862 0.895 0.923 0.943 0.954
0.956 0.947 0.929 0.903 0.870 0.831 0.791 0.750 0.714 0.683 0.662 0.651
0.608 0.607 0.619 0.645 0.683 0.727 0.774 0.820 0.864 0.903 0.935 0.959 0.973
0.975 0.965 0.944 0.912 0.872 0.826 0.776 0.727 0.682 0.645 0.621 0.608
0.564 0.563 0.578 0.609 0.654 0.705 0.759 0.812 0.862 0.906 0.943 0.971 0.986
0.989 0.978 0.953 0.917 0.871 0.818 0.762 0.704 0.650 0.608 0.579 0.564
0.520 0.521 0.539 0.576 0.627 0.684 0.744 0.803 0.857 0.906 0.947 0.977 0.994
0.997 0.985 0.959 0.918 0.867 0.809 0.746 0.681 0.620 0.571 0.538 0.520
0.478 0.479 0.502 0.544 0.601 0.663 0.728 0.791 0.849 0.901 0.945 0.977 0.997
1.000 0.988 0.958 0.916 0.861 0.798 0.729 0.659 0.592 0.536 0.498 0.478
0.438 0.441 0.467 0.516 0.577 0.643 0.711 0.777 0.838 0.893 0.938 0.973 0.993
0.997 0.985 0.954 0.909 0.852 0.785 0.713 0.638 0.566 0.503 0.460 0.438
0.402 0.406 0.437 0.490 0.553 0.622 0.692 0.760 0.824 0.880 0.927 0.964 0.985
0.988 0.976 0.946 0.898 0.839 0.770 0.695 0.617 0.542 0.474 0.426 0.402
0.371 0.376 0.412 0.467 0.531 0.601 0.672 0.741 0.807 0.863 0.912 0.949 0.970
0.975 0.962 0.932 0.884 0.824 0.753 0.676 0.597 0.520 0.449 0.396 0.371
0.346 0.353 0.391 0.446 0.509 0.579 0.650 0.721 0.786 0.843 0.892 0.928 0.950
0.956 0.944 0.913 0.867 0.805 0.734 0.657 0.576 0.499 0.428 0.372 0.346
0.327 0.336 0.373 0.426 0.488 0.557 0.628 0.698 0.762 0.820 0.867 0.903 0.925
0.932 0.921 0.890 0.844 0.784 0.713 0.636 0.556 0.479 0.410 0.355 0.327
0.314 0.323 0.357 0.407 0.467 0.534 0.605 0.672 0.737 0.792 0.838 0.873 0.895
0.903 0.893 0.864 0.818 0.760 0.690 0.613 0.535 0.460 0.393 0.341 0.314
0.303 0.311 0.343 0.390 0.447 0.512 0.579 0.646 0.708 0.761 0.805 0.839 0.860
0.868 0.860 0.834 0.790 0.733 0.666 0.590 0.514 0.441 0.377 0.328 0.303
0.293 0.299 0.329 0.373 0.426 0.488 0.553 0.617 0.675 0.727 0.769 0.801 0.821
0.830 0.824 0.799 0.759 0.703 0.639 0.567 0.493 0.424 0.362 0.316 0.293
0.284 0.289 0.316 0.356 0.407 0.464 0.527 0.586 0.642 0.691 0.730 0.758 0.778
0.787 0.783 0.762 0.724 0.673 0.609 0.543 0.472 0.406 0.348 0.305 0.284
0.275 0.279 0.303 0.340 0.387 0.441 0.498 0.554 0.607 0.652 0.687 0.713 0.731
0.741 0.740 0.721 0.687 0.639 0.581 0.516 0.451 0.388 0.334 0.294 0.275
"""

#: (19, 25) relative annual irradiation on (tilt, azimuth) planes; see the comment above.
ORIENTATION_FACTOR = np.array(_ORIENTATION_TEXT.split(), dtype=np.float64).reshape(
    ORIENTATION_TILTS.size, ORIENTATION_AZIMUTHS.size
)
ORIENTATION_FACTOR.setflags(write=False)

# 7 x 7 exact simulations: bilinear interpolation between them stays within 0.3 % of the
# exact balance over the sampled range (tests/test_uncertainty.py), at 49 hourly runs.
_GRID_NODES = 7
_PERCENTILES = (10.0, 50.0, 90.0)


def orientation_factor(surface_tilt: np.ndarray, surface_azimuth: np.ndarray) -> np.ndarray:
    """Annual irradiation of a plane relative to the best one in the Artois, [0, 1].

    Bilinear interpolation in :data:`ORIENTATION_FACTOR`. A negative tilt is the same
    plane turned by 180°, so it is folded back; tilts beyond 90° are clipped.

    Parameters
    ----------
    surface_tilt : array_like
        [°] from horizontal.
    surface_azimuth : array_like
        [°] clockwise from north.

    Returns
    -------
    numpy.ndarray
        Broadcast shape of the inputs. [-]

    Examples
    --------
    >>> float(orientation_factor(40.0, 195.0))
    1.0
    """
    tilt = np.asarray(surface_tilt, dtype=np.float64)
    azimuth = np.asarray(surface_azimuth, dtype=np.float64)
    azimuth = np.where(tilt < 0, azimuth + 180.0, azimuth) % 360.0
    tilt = np.clip(np.abs(tilt), 0.0, 90.0)
    i = np.clip(tilt / 5.0, 0, ORIENTATION_TILTS.size - 1 - 1e-9)
    j = np.clip(azimuth / 15.0, 0, ORIENTATION_AZIMUTHS.size - 1 - 1e-9)
    i0, j0 = np.floor(i).astype(np.int64), np.floor(j).astype(np.int64)
    di, dj = i - i0, j - j0
    f = ORIENTATION_FACTOR
    return (
        f[i0, j0] * (1 - di) * (1 - dj)
        + f[i0 + 1, j0] * di * (1 - dj)
        + f[i0, j0 + 1] * (1 - di) * dj
        + f[i0 + 1, j0 + 1] * di * dj
    )


@dataclass(frozen=True)
class Spreads:
    """Spread of each uncertain input; see the module docstring for the sources.

    Attributes
    ----------
    weather_sd : float
        Relative standard deviation of annual irradiation. [-]
    tilt_sd_deg, azimuth_sd_deg : float
        Standard deviations of each face's tilt and azimuth. [°]
    losses_min, losses_max : float
        Range of the system losses, drawn uniformly. [-]
    consumption_sd : float
        Relative standard deviation of the annual consumption. [-]
    """

    weather_sd: float = 0.045
    tilt_sd_deg: float = 3.0
    azimuth_sd_deg: float = 5.0
    losses_min: float = 0.10
    losses_max: float = 0.18
    consumption_sd: float = 0.15

    def __post_init__(self) -> None:
        for name in ("weather_sd", "tilt_sd_deg", "azimuth_sd_deg", "consumption_sd"):
            if not getattr(self, name) >= 0:
                raise InputError(f"must be >= 0, got {getattr(self, name)!r}", source=name)
        if not 0 <= self.losses_min <= self.losses_max < 1:
            raise InputError(
                f"need 0 <= losses_min <= losses_max < 1, got {self.losses_min}, {self.losses_max}",
                source="losses",
            )

    @classmethod
    def certain(cls, nominal_losses: float = 0.14) -> Spreads:
        """No uncertainty at all: every sample equals the nominal case."""
        return cls(0.0, 0.0, 0.0, nominal_losses, nominal_losses, 0.0)

    @classmethod
    def for_measured_load(cls) -> Spreads:
        """The default spreads, without consumption uncertainty (a Linky curve)."""
        return cls(consumption_sd=0.0)


@dataclass(frozen=True)
class Band:
    """10th, 50th and 90th percentiles of one output.

    A payback that is not reached within the horizon counts as infinitely long; a
    percentile that falls among those samples is None.
    """

    p10: float | None
    p50: float | None
    p90: float | None


@dataclass(frozen=True)
class Uncertainty:
    """Percentile bands of one installation's results.

    Attributes
    ----------
    production_kwh_yr : Band
        [kWh yr-1]
    annual_savings_eur : Band
        Year-1 saving on the bill. [€ yr-1]
    payback_years : Band
        [yr]
    self_consumption_rate : Band
        [-]
    n_samples, seed : int
        The draw, reproducible from these and the inputs.
    spreads : Spreads
    """

    production_kwh_yr: Band
    annual_savings_eur: Band
    payback_years: Band
    self_consumption_rate: Band
    n_samples: int
    seed: int
    spreads: Spreads


def _band(values: np.ndarray) -> Band:
    # inverted_cdf picks sample values (no interpolation), so infinite paybacks stay inf.
    p10, p50, p90 = np.percentile(values, _PERCENTILES, method="inverted_cdf")
    return Band(*(float(p) if np.isfinite(p) else None for p in (p10, p50, p90)))


def _nodes(values: np.ndarray) -> np.ndarray:
    low, high = float(values.min()), float(values.max())
    if high - low < 1e-12:
        return np.array([low])
    return np.linspace(low, high, _GRID_NODES)


def _interpolate(
    nodes_a: np.ndarray, nodes_b: np.ndarray, grid: np.ndarray, a: np.ndarray, b: np.ndarray
) -> np.ndarray:
    """Bilinear interpolation of ``grid[i, j]`` (at ``nodes_a[i], nodes_b[j]``)."""

    def locate(nodes: np.ndarray, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        if nodes.size == 1:
            return np.zeros(x.shape, dtype=np.int64), np.zeros(x.shape)
        k = np.clip(np.searchsorted(nodes, x) - 1, 0, nodes.size - 2)
        w = (x - nodes[k]) / (nodes[k + 1] - nodes[k])
        return k, w

    i, wi = locate(nodes_a, a)
    j, wj = locate(nodes_b, b)
    i1 = np.minimum(i + 1, nodes_a.size - 1)
    j1 = np.minimum(j + 1, nodes_b.size - 1)
    return (
        grid[i, j] * (1 - wi) * (1 - wj)
        + grid[i1, j] * wi * (1 - wj)
        + grid[i, j1] * (1 - wi) * wj
        + grid[i1, j1] * wi * wj
    )


def monte_carlo(
    production_kwh: np.ndarray,
    load_kwh: np.ndarray,
    *,
    kwc: float,
    tariffs: economics.Tariffs,
    surface_tilt: float | np.ndarray,
    surface_azimuth: float | np.ndarray,
    face_weights: np.ndarray | None = None,
    battery: Battery | None = None,
    spreads: Spreads | None = None,
    nominal_losses: float = 0.14,
    years: int = 20,
    n_samples: int = 2000,
    seed: int = 0,
) -> Uncertainty:
    """P10 / P50 / P90 of annual production, savings and payback.

    Parameters
    ----------
    production_kwh : array_like
        (8760,) nominal hourly production. [kWh]
    load_kwh : array_like
        (8760,) nominal hourly load. [kWh]
    kwc : float
        Installation size. [kWc]
    tariffs : solar.household.economics.Tariffs
        For that size, from :meth:`solar.household.economics.TariffTable.at`.
    surface_tilt, surface_azimuth : float or array_like
        Orientation of each face that produces. [°]
    face_weights : array_like, optional
        Share of the production of each face (summing to 1); equal by default.
    battery : solar.household.selfconsumption.Battery, optional
    spreads : Spreads, optional
        :class:`Spreads` defaults when omitted.
    nominal_losses : float
        System losses assumed in ``production_kwh``. [-]
    years : int
        Horizon of the payback. [yr]
    n_samples : int
        Monte Carlo samples.
    seed : int
        Seed of the random generator: the same inputs and seed give the same bands.

    Returns
    -------
    Uncertainty
    """
    spreads = spreads or Spreads()
    if abs(kwc - tariffs.kwc) > 1e-9:
        raise InputError(
            f"the tariffs were looked up for {tariffs.kwc:g} kWc, not {kwc:g}", source="kwc"
        )
    if n_samples < 10:
        raise InputError(f"must be >= 10, got {n_samples}", source="n_samples")
    production = np.ascontiguousarray(production_kwh, dtype=np.float64)
    load = np.ascontiguousarray(load_kwh, dtype=np.float64)
    tilt = np.atleast_1d(np.asarray(surface_tilt, dtype=np.float64))
    azimuth = np.atleast_1d(np.asarray(surface_azimuth, dtype=np.float64))
    if tilt.shape != azimuth.shape or tilt.ndim != 1:
        raise InputError("one tilt and one azimuth per face", source="surface_tilt")
    weights = (
        np.full(tilt.size, 1.0 / tilt.size)
        if face_weights is None
        else np.asarray(face_weights, dtype=np.float64) / np.sum(face_weights)
    )

    rng = np.random.default_rng(seed)
    weather = np.clip(1.0 + spreads.weather_sd * rng.standard_normal(n_samples), 0.5, 1.5)
    d_tilt = spreads.tilt_sd_deg * rng.standard_normal((n_samples, tilt.size))
    d_azimuth = spreads.azimuth_sd_deg * rng.standard_normal((n_samples, tilt.size))
    nominal = orientation_factor(tilt, azimuth)
    ratio = orientation_factor(tilt + d_tilt, azimuth + d_azimuth) / np.maximum(nominal, 1e-9)
    orientation = ratio @ weights
    losses = rng.uniform(spreads.losses_min, spreads.losses_max, n_samples)
    consumption = np.clip(1.0 + spreads.consumption_sd * rng.standard_normal(n_samples), 0.2, None)
    a = weather * orientation * (1.0 - losses) / (1.0 - nominal_losses)
    b = consumption

    nodes_a, nodes_b = _nodes(a), _nodes(b)
    supplied = np.empty((nodes_a.size, nodes_b.size))
    surplus = np.empty_like(supplied)
    for i, scale_a in enumerate(nodes_a):
        scaled_production = production * scale_a
        for j, scale_b in enumerate(nodes_b):
            energy = annual_energy(scaled_production, load * scale_b, battery)
            supplied[i, j] = energy.self_supplied_kwh
            surplus[i, j] = energy.surplus_kwh
    self_supplied = _interpolate(nodes_a, nodes_b, supplied, a, b)
    sold = _interpolate(nodes_a, nodes_b, surplus, a, b)
    produced = a * production.sum()

    flows = economics.cash_flows(kwc, self_supplied, sold, tariffs, years)
    back = economics.payback(flows)
    rate = np.divide(produced - sold, produced, out=np.zeros_like(produced), where=produced > 0)
    return Uncertainty(
        production_kwh_yr=_band(produced),
        annual_savings_eur=_band(self_supplied * tariffs.electricity_eur_kwh),
        payback_years=_band(np.where(np.isnan(back), np.inf, back)),
        self_consumption_rate=_band(rate),
        n_samples=n_samples,
        seed=seed,
        spreads=spreads,
    )
