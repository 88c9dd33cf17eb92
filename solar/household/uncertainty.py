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
  relative annual plane-of-array irradiation of :func:`orientation_factors`, computed
  for the Artois (see there).
- **System losses**: Uniform(L0 - 4 %, L0 + 4 %) around the nominal losses L0 the
  production was computed with (:data:`solar.pv.SYSTEM_LOSSES` by default, itemised in
  ``solar/data/losses.toml``): production x (1 - L) / (1 - L0). The ±4 points span the
  spread of soiling, mismatch and wiring losses between installations.
- **Consumption**: Normal(1, 15 %) on the annual load (a declared annual kWh and a
  standard profile). With a measured Linky curve, set ``consumption_sd=0``
  (:meth:`Spreads.for_measured_load`).
- **Segmentation, for the cadastre's potential only**: Normal(1, 3 %) on each face's
  area, hence on its modules and production (:func:`production_bands`). On the analytic
  scenes of the tests, the faces' areas come out within 0.3 % rms of the truth (43 faces,
  0.9 % at most), and within 1.1 % once a footprint 0.9 m off its roof is moved back;
  real roofs add LiDAR occlusion, vegetation and merged faces, which no reference here
  measures: 3 % is an assumption. A simulation sizes a given number of modules, so the
  term does not enter :func:`monte_carlo`.

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

import functools
from dataclasses import dataclass
from typing import NamedTuple

import numba
import numpy as np

from solar import irradiance
from solar.errors import InputError
from solar.household import economics
from solar.household.selfconsumption import Battery, annual_energy
from solar.pv import SYSTEM_LOSSES
from solar.resources import DEFAULT_WEATHER
from solar.weather import read_weather, solar_position

#: Tilts [°] and azimuths [°, clockwise from north] of :func:`orientation_factors`.
ORIENTATION_TILTS = np.arange(0.0, 90.1, 5.0)
ORIENTATION_AZIMUTHS = np.arange(0.0, 360.1, 15.0)


class _Draws(NamedTuple):
    """The random draws behind the production's spread, from :func:`_draws`."""

    weather: np.ndarray  # (n_samples,) the weather year's factor [-]
    tilt: np.ndarray  # (n_samples, n_faces) standard normal draws of the tilt's error
    azimuth: np.ndarray  # (n_samples, n_faces) standard normal draws of the azimuth's error
    losses: np.ndarray  # (n_samples,) the system losses [-]

    def scale(self, nominal_losses: float) -> np.ndarray:
        """(n_samples,) each sample's weather and losses against the nominal ones. [-]"""
        return self.weather * (1.0 - self.losses) / (1.0 - nominal_losses)


def _draws(rng: np.random.Generator, n_samples: int, n_faces: int, spreads: Spreads) -> _Draws:
    """One weather year and one loss rate per sample, shared by the faces; an orientation
    error per sample and face. The draws come in this order, so a seed gives the same
    samples to :func:`monte_carlo` and :func:`production_bands`."""
    weather = np.clip(1.0 + spreads.weather_sd * rng.standard_normal(n_samples), 0.5, 1.5)
    tilt = rng.standard_normal((n_samples, n_faces))
    azimuth = rng.standard_normal((n_samples, n_faces))
    losses = rng.uniform(spreads.losses_min, spreads.losses_max, n_samples)
    return _Draws(weather, tilt, azimuth, losses)


def _production_factors(
    rng: np.random.Generator,
    n_samples: int,
    surface_tilt: np.ndarray,
    surface_azimuth: np.ndarray,
    spreads: Spreads,
    nominal_losses: float,
) -> np.ndarray:
    """(n_samples, n_faces) production of each face relative to its nominal one, from
    :func:`_draws`."""
    draws = _draws(rng, n_samples, surface_tilt.size, spreads)
    nominal = orientation_factor(surface_tilt, surface_azimuth)
    ratio = orientation_factor(
        surface_tilt + spreads.tilt_sd_deg * draws.tilt,
        surface_azimuth + spreads.azimuth_sd_deg * draws.azimuth,
    ) / np.maximum(nominal, 1e-9)
    return ratio * draws.scale(nominal_losses)[:, None]


@dataclass(frozen=True, eq=False)
class ProductionBands:
    """P10, P50 and P90 of the annual production of faces, and of groups of them.

    Attributes
    ----------
    faces : numpy.ndarray
        (n_faces, 3) P10, P50 and P90 of each face. [kWh yr-1]
    groups : numpy.ndarray
        (n_groups, 3) the same for each group's total (a building's faces). [kWh yr-1]
    """

    faces: np.ndarray
    groups: np.ndarray


def production_bands(
    production_kwh_yr: np.ndarray,
    surface_tilt: np.ndarray,
    surface_azimuth: np.ndarray,
    group: np.ndarray,
    *,
    spreads: Spreads | None = None,
    nominal_losses: float = SYSTEM_LOSSES,
    n_samples: int = 500,
    seed: int = 0,
) -> ProductionBands:
    """The cadastre's bands: :func:`monte_carlo`'s production terms, and the faces' areas.

    Each sample draws the weather, the losses and every face's orientation as
    :func:`monte_carlo` does, then each face's area (``Spreads.area_sd``). A group's total
    sums its faces sample by sample, so the weather and losses, shared, do not average
    out, while the faces' own errors partly do.

    Parameters
    ----------
    production_kwh_yr : array_like
        (n_faces,) nominal annual production of each face. [kWh yr-1]
    surface_tilt, surface_azimuth : array_like
        (n_faces,) orientation of each face's modules. [°]
    group : array_like
        (n_faces,) int, the group of each face, 0 to n_groups - 1.
    spreads : Spreads, optional
    nominal_losses : float
        System losses assumed in ``production_kwh_yr``. [-]
    n_samples : int
        Monte Carlo samples; 500 put the P10 and P90 within about 0.3 % of their limit.
    seed : int

    Returns
    -------
    ProductionBands

    Examples
    --------
    Two south faces of one building, with the weather alone uncertain:

    >>> bands = production_bands(
    ...     np.array([1000.0, 1000.0]), np.array([40.0, 40.0]), np.array([180.0, 180.0]),
    ...     np.array([0, 0]), spreads=Spreads(0.05, 0, 0, SYSTEM_LOSSES, SYSTEM_LOSSES, 0, 0),
    ... )
    >>> [round(float(v), -1) for v in bands.groups[0]]
    [1870.0, 1990.0, 2130.0]
    """
    spreads = spreads or Spreads()
    production = np.asarray(production_kwh_yr, dtype=np.float64)
    tilt = np.asarray(surface_tilt, dtype=np.float64)
    azimuth = np.asarray(surface_azimuth, dtype=np.float64)
    group = np.asarray(group, dtype=np.int64)
    n_groups = int(group.max()) + 1 if group.size else 0
    if production.size == 0:
        return ProductionBands(np.zeros((0, 3)), np.zeros((n_groups, 3)))
    rng = np.random.default_rng(seed)
    draws = _draws(rng, n_samples, production.size, spreads)
    d_area = rng.standard_normal((n_samples, production.size))
    samples = np.empty((n_samples, production.size))
    totals = np.zeros((n_samples, n_groups))
    _band_samples(
        orientation_factors(),
        production,
        tilt,
        azimuth,
        group,
        np.array([spreads.tilt_sd_deg, spreads.azimuth_sd_deg, spreads.area_sd]),
        draws.scale(nominal_losses),
        (draws.tilt, draws.azimuth, d_area),
        samples,
        totals,
    )
    return ProductionBands(
        faces=np.percentile(samples, _PERCENTILES, axis=0).T,
        groups=np.percentile(totals, _PERCENTILES, axis=0).T,
    )


@functools.cache
def orientation_factors() -> np.ndarray:
    """Annual irradiation of the planes of a tilt x azimuth grid, relative to the best.

    The planes are :data:`ORIENTATION_TILTS` x :data:`ORIENTATION_AZIMUTHS`, unshaded, on
    the default Artois weather (:data:`solar.resources.DEFAULT_WEATHER`), transposed as the
    cadastre's faces are (:func:`solar.irradiance.poa_sums`: Perez, albedo 0.2, the
    sun where :func:`solar.weather.solar_position` puts it). All 475 planes go through
    one vectorised pass, on first use: about 0.3 s once per process, most of it loading
    the compiled kernel. The best plane of the grid, 40° facing 180°, is the site's
    optimum (40° facing 182°, :func:`solar.irradiance.optimal_orientation`) to within
    0.02 %.

    Returns
    -------
    numpy.ndarray
        (19, 25) read-only, one row per tilt; 1 at the best plane of the grid. [-]
    """
    weather = read_weather(DEFAULT_WEATHER)
    tilt, azimuth = np.meshgrid(ORIENTATION_TILTS, ORIENTATION_AZIMUTHS, indexing="ij")
    planes = irradiance.poa_sums(weather, solar_position(weather), tilt.ravel(), azimuth.ravel())
    annual = planes.annual_kwh_m2.reshape(tilt.shape)
    factors = annual / annual.max()
    factors.setflags(write=False)
    return factors


# 7 x 7 exact simulations: bilinear interpolation between them stays within 0.3 % of the
# exact balance over the sampled range (tests/household/test_uncertainty.py), at 49 hourly runs.
_GRID_NODES = 7
_PERCENTILES = (10.0, 50.0, 90.0)


def orientation_factor(surface_tilt: np.ndarray, surface_azimuth: np.ndarray) -> np.ndarray:
    """Annual irradiation of a plane relative to the best one in the Artois, [0, 1].

    Bilinear interpolation in :func:`orientation_factors`. A negative tilt is the same
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
    >>> float(orientation_factor(40.0, 180.0))
    1.0
    """
    tilt, azimuth = np.broadcast_arrays(
        np.asarray(surface_tilt, dtype=np.float64), np.asarray(surface_azimuth, dtype=np.float64)
    )
    out = np.empty(tilt.shape)
    _bilinear_orientation(orientation_factors(), tilt.ravel(), azimuth.ravel(), out.reshape(-1))
    return out


@numba.njit(cache=True)
def _bilinear_orientation(
    factors: np.ndarray, tilt: np.ndarray, azimuth: np.ndarray, out: np.ndarray
) -> None:  # pragma: no cover - numba
    """:func:`orientation_factor` element by element: the cadastre's bands call it on
    millions of perturbed planes, where numpy's ten temporaries cost four times more."""
    n_tilts, n_azimuths = factors.shape
    for n in range(tilt.size):
        t, a = tilt[n], azimuth[n]
        if t < 0.0:
            t, a = -t, a + 180.0
        i = min(max(t / 5.0, 0.0), n_tilts - 1 - 1e-9)
        j = min(max((a % 360.0) / 15.0, 0.0), n_azimuths - 1 - 1e-9)
        i0, j0 = int(i), int(j)
        di, dj = i - i0, j - j0
        out[n] = (
            factors[i0, j0] * (1 - di) * (1 - dj)
            + factors[i0 + 1, j0] * di * (1 - dj)
            + factors[i0, j0 + 1] * (1 - di) * dj
            + factors[i0 + 1, j0 + 1] * di * dj
        )


@numba.njit(cache=True, nogil=True)
def _band_samples(
    factors: np.ndarray,
    production: np.ndarray,
    tilt: np.ndarray,
    azimuth: np.ndarray,
    group: np.ndarray,
    spreads: np.ndarray,
    scale: np.ndarray,
    draws: tuple[np.ndarray, np.ndarray, np.ndarray],
    samples: np.ndarray,
    totals: np.ndarray,
) -> None:  # pragma: no cover - numba
    """:func:`production_bands`' samples and group totals, one sample at a time, without
    the GIL (the build writes its raster on a thread meanwhile).

    The operations of :func:`_production_factors` and of the area term, in their order,
    so the samples are theirs to the bit; a group's total adds its faces in their order,
    from 0, as ``numpy.add.at`` does. Numpy's dozen temporaries of (n_samples, n_faces)
    cost about twice the loop.

    ``spreads`` holds the tilt's, the azimuth's [°] and the area's standard deviations,
    ``scale`` each sample's weather and losses factor, ``draws`` the standard normal
    draws of the tilt, the azimuth and the area, (n_samples, n_faces) each; ``samples``
    and ``totals`` (zeros) are filled.
    """
    d_tilt, d_azimuth, d_area = draws
    n_samples, n_faces = samples.shape
    nominal = np.empty(n_faces)
    _bilinear_orientation(factors, tilt, azimuth, nominal)
    nominal = np.maximum(nominal, 1e-9)
    perturbed_tilt = np.empty(n_faces)
    perturbed_azimuth = np.empty(n_faces)
    perturbed = np.empty(n_faces)
    for s in range(n_samples):
        for f in range(n_faces):
            perturbed_tilt[f] = tilt[f] + spreads[0] * d_tilt[s, f]
            perturbed_azimuth[f] = azimuth[f] + spreads[1] * d_azimuth[s, f]
        _bilinear_orientation(factors, perturbed_tilt, perturbed_azimuth, perturbed)
        for f in range(n_faces):
            area = max(1.0 + spreads[2] * d_area[s, f], 0.0)
            value = perturbed[f] / nominal[f] * scale[s] * area * production[f]
            samples[s, f] = value
            totals[s, group[f]] += value


#: Half-width of the uniform draw of the system losses around their nominal value. [-]
LOSSES_HALF_RANGE = 0.04


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
    area_sd : float
        Relative standard deviation of each face's area, from the segmentation; used by
        :func:`production_bands` only. [-]
    """

    weather_sd: float = 0.045
    tilt_sd_deg: float = 3.0
    azimuth_sd_deg: float = 5.0
    losses_min: float = SYSTEM_LOSSES - LOSSES_HALF_RANGE
    losses_max: float = SYSTEM_LOSSES + LOSSES_HALF_RANGE
    consumption_sd: float = 0.15
    area_sd: float = 0.03

    def __post_init__(self) -> None:
        for name in ("weather_sd", "tilt_sd_deg", "azimuth_sd_deg", "consumption_sd", "area_sd"):
            if not getattr(self, name) >= 0:
                raise InputError(f"must be >= 0, got {getattr(self, name)!r}", source=name)
        if not 0 <= self.losses_min <= self.losses_max < 1:
            raise InputError(
                f"need 0 <= losses_min <= losses_max < 1, got {self.losses_min}, {self.losses_max}",
                source="losses",
            )

    @classmethod
    def certain(cls, nominal_losses: float = SYSTEM_LOSSES) -> Spreads:
        """No uncertainty at all: every sample equals the nominal case."""
        return cls(0.0, 0.0, 0.0, nominal_losses, nominal_losses, 0.0, 0.0)

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
    nominal_losses: float = SYSTEM_LOSSES,
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
    a = _production_factors(rng, n_samples, tilt, azimuth, spreads, nominal_losses) @ weights
    b = np.clip(1.0 + spreads.consumption_sd * rng.standard_normal(n_samples), 0.2, None)

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
