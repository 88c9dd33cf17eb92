"""Benchmark of the shading engine against UMEP on a synthetic 1 km² district at 0.5 m.

Run from the repository root::

    python scripts/bench_shading.py [--runs 3] [--umep-runs 3] [--no-umep] [--no-build]

Each measured thing is one function ``measure_*(seed, size_m, resolution, runs) ->
Measure`` that returns its wall times (one per run, after a warm-up call) and runs in a
fresh process, so that its peak resident memory is its own. The full build
(``measure_full_build``: segmentation, horizons, irradiance, production and writing,
through ``build_from_surface``) goes further: each of its runs, warm-up included, is a
fresh process of ``bench_build.py``, so that loading the compiled kernels counts as it does
in ``cadastre build``. It includes the shading, so it stays out of the shading total. The
table gives medians and the ratio of UMEP's 145-patch estimate to each time, then checks
the full build against the shading engine's targets: at most 20 s, at least 12 times faster
than UMEP's 145 patches in the same run, at most 2 GiB of peak RSS.

UMEP's ``shadowingfunctionglobalradiation`` casts the shadow of the whole grid for one sun
position: it shifts the grid one pixel at a time toward the sun, lowering it by the sun's
rise, until the rise exceeds the highest point. Its cost therefore grows as the sun gets
lower. A SEBE run uses the 145 sky patches of Tregenza (1987), in bands of 12° altitude
holding 30, 30, 24, 24, 18, 12, 6 and 1 patches; the estimate times one sun position per
band and weights it by the band's patch count. UMEP receives heights above the grid's
lowest point (its best case: with absolute heights it would iterate until the shift
exceeds the absolute altitude).

Reference: P. R. Tregenza, "Subdivision of the sky hemisphere for luminance
measurements", Lighting Research and Technology 19(1), 13-14, 1987.
"""

from __future__ import annotations

import argparse
import multiprocessing
import resource
import statistics
import sys
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_build import TARGET_RSS_MB, TARGET_SECONDS, run_isolated
from synthetic import synthetic_district

from solar.resources import DATA_DIR

# Tregenza's sky patches: altitude of each band's centre [°] and patches in the band.
TREGENZA_BANDS = ((6, 30), (18, 30), (30, 24), (42, 24), (54, 18), (66, 12), (78, 6), (90, 1))
LENS = (50.43, 2.83)  # latitude, longitude of Lens [°]
N_SECTORS = 72
REPO = Path(__file__).resolve().parents[1]
TMY = DATA_DIR / "weather" / "tmy_50.911_3.192_2005_2020.csv"  # PVGIS typical year near Lens
TARGET_UMEP_RATIO = 12.0  # the full build against UMEP's 145 patches
FULL_BUILD = "full build (not in total)"


@dataclass(frozen=True)
class Measure:
    """Wall times of one measured thing, and the peak memory of its process.

    ``shading_part`` says whether the measure adds to the shading total of the table (a
    full-build measure, which includes the shading, does not).
    """

    name: str
    times_s: list[float]
    peak_rss_mb: float
    note: str = ""
    shading_part: bool = True

    @property
    def median_s(self) -> float:
        return statistics.median(self.times_s)


def _peak_rss_mb() -> float:
    # ru_maxrss is in kilobytes on Linux.
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _timed(fn: Callable[[], object], runs: int) -> list[float]:
    """Wall times of ``runs`` calls, after one call that compiles and warms caches."""
    fn()
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return times


def _district(seed: int, size_m: float, resolution: float) -> tuple[np.ndarray, np.ndarray]:
    """Elevation, and the 1-based building id of each pixel (0 off the buildings)."""
    from rasterio.features import rasterize
    from rasterio.transform import from_origin

    elevation, footprints = synthetic_district(seed, size_m, resolution)
    labels = rasterize(
        [(fp, i + 1) for i, fp in enumerate(footprints)],
        out_shape=elevation.shape,
        transform=from_origin(0.0, size_m, resolution, resolution),
        dtype="int32",
    )
    return elevation, labels


@dataclass(frozen=True)
class _Faces:
    """The benchmark's faces: one per building, with a seeded random orientation (the
    cost depends on the pixels and on the hours in front of each face)."""

    pixels: list[np.ndarray]  # indices into the horizons, per face
    of_pixel: np.ndarray  # face of each stored pixel
    tilt: np.ndarray
    azimuth: np.ndarray


def _faces(labels: np.ndarray, rows: np.ndarray, cols: np.ndarray, seed: int) -> _Faces:
    face = labels[rows, cols] - 1
    order = np.argsort(face, kind="stable")
    pixels = np.split(order, np.flatnonzero(np.diff(face[order])) + 1)
    rng = np.random.default_rng(seed)
    n = int(face.max()) + 1
    return _Faces(pixels, face, rng.uniform(25.0, 45.0, n), rng.uniform(0.0, 360.0, n))


def _sun_hours() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Hourly sun azimuth and apparent elevation at Lens over a year, the months, and the
    direct normal irradiance of the PVGIS typical year, taken row by row. [°, °, -, W m-2]"""
    import pandas as pd
    import pvlib

    times = pd.date_range("2025-01-01 00:30", periods=8760, freq="h", tz="UTC")
    position = pvlib.solarposition.get_solarposition(times, *LENS)
    dni = pd.read_csv(TMY, usecols=["Gb(n)"])["Gb(n)"].to_numpy()[:8760]
    return (
        position["azimuth"].to_numpy(),
        position["apparent_elevation"].to_numpy(),
        times.month.to_numpy(),
        dni,
    )


def measure_horizons(seed: int, size_m: float, resolution: float, runs: int) -> Measure:
    """Horizons of every roof pixel in 72 sectors over the whole district."""
    from solar.horizon import horizon_angles

    elevation, labels = _district(seed, size_m, resolution)
    mask = labels > 0
    times = _timed(
        lambda: horizon_angles(elevation, resolution, n_sectors=N_SECTORS, mask=mask), runs
    )
    return Measure(
        "horizons, 72 sectors",
        times,
        _peak_rss_mb(),
        f"{elevation.shape[0]}x{elevation.shape[1]} px, {int(mask.sum())} roof px stored",
    )


def measure_face_shading(seed: int, size_m: float, resolution: float, runs: int) -> Measure:
    """Hourly lit fractions, sky views and band shares of every face over a year."""
    from solar.horizon import horizon_angles
    from solar.shading import face_shading

    elevation, labels = _district(seed, size_m, resolution)
    horizons = horizon_angles(elevation, resolution, n_sectors=N_SECTORS, mask=labels > 0)
    faces = _faces(labels, horizons.rows, horizons.cols, seed)
    azimuth, elevation_sun, _, dni = _sun_hours()
    times = _timed(
        lambda: face_shading(
            horizons,
            faces.pixels,
            azimuth,
            elevation_sun,
            faces.tilt,
            faces.azimuth,
            hour_mask=dni > 0,
        ),
        runs,
    )
    return Measure("face shading, 8760 h", times, _peak_rss_mb(), f"{len(faces.pixels)} faces")


def measure_pixel_sums(seed: int, size_m: float, resolution: float, runs: int) -> Measure:
    """Per-pixel yearly and monthly beam irradiation over the lit hours."""
    import pvlib

    from solar.horizon import horizon_angles
    from solar.shading import pixel_lit_sums

    elevation, labels = _district(seed, size_m, resolution)
    horizons = horizon_angles(elevation, resolution, n_sectors=N_SECTORS, mask=labels > 0)
    faces = _faces(labels, horizons.rows, horizons.cols, seed)
    azimuth, elevation_sun, month, dni = _sun_hours()
    beam = np.empty((faces.tilt.size, dni.size))
    for first in range(0, faces.tilt.size, 256):
        part = slice(first, first + 256)
        projection = pvlib.irradiance.aoi_projection(
            faces.tilt[part, None], faces.azimuth[part, None], 90.0 - elevation_sun, azimuth
        )
        beam[part] = dni * np.clip(projection, 0.0, None) * (elevation_sun > 0)
    times = _timed(
        lambda: pixel_lit_sums(horizons, azimuth, elevation_sun, beam, month, faces.of_pixel),
        runs,
    )
    return Measure("pixel beam sums, 13 bands", times, _peak_rss_mb())


def umep_patch_estimates(
    heights: np.ndarray, resolution: float, runs: int
) -> tuple[list[float], dict[int, list[float]]]:
    """UMEP's shadow casting on ``heights``, one sun position per Tregenza band, scaled to
    145 patches: each run's 145-patch estimate [s], and each band's times of one sun
    position [s], by altitude [°]."""
    from umep.util.shadowingfunctions import shadowingfunctionglobalradiation

    scale = 1.0 / resolution  # UMEP's scale: pixels per metre
    per_band: dict[int, list[float]] = {altitude: [] for altitude, _ in TREGENZA_BANDS}
    estimates = []
    for run in range(runs):
        total = 0.0
        for band, (altitude, patches) in enumerate(TREGENZA_BANDS):
            # Azimuths off the grid axes (UMEP divides by sin(azimuth)), varied per run.
            azimuth = 17.0 + (37.0 * band + 113.0 * run) % 320.0
            start = time.perf_counter()
            shadowingfunctionglobalradiation(heights, azimuth, float(altitude), scale, 1)
            elapsed = time.perf_counter() - start
            per_band[altitude].append(elapsed)
            total += patches * elapsed
        estimates.append(total)
    return estimates, per_band


def measure_umep(seed: int, size_m: float, resolution: float, runs: int) -> Measure | None:
    """UMEP's shadow casting, one sun position per Tregenza band, scaled to 145 patches.

    The times returned are the 145-patch estimates of each run; the note gives the
    median time of one sun position in each band. None when UMEP is not installed.
    """
    try:
        import umep.util.shadowingfunctions  # noqa: F401
    except ImportError:
        return None
    elevation, _ = _district(seed, size_m, resolution)
    estimates, per_band = umep_patch_estimates(elevation - elevation.min(), resolution, runs)
    bands = ", ".join(f"{a}°: {statistics.median(t):.2f}s" for a, t in per_band.items())
    return Measure("UMEP, 145 patches (scaled)", estimates, _peak_rss_mb(), bands)


def measure_full_build(seed: int, size_m: float, resolution: float, runs: int) -> Measure:
    """The whole build of the district through ``build_from_surface``, GeoPackage and
    irradiation raster written; each run in a fresh process, after a warm-up run.

    The peak RSS is the median of the runs' own peaks; the note gives the size of the
    result and the median time of each stage.
    """
    run_isolated("synthetic", seed, size_m, resolution)
    builds = [run_isolated("synthetic", seed, size_m, resolution) for _ in range(runs)]
    stages = ", ".join(
        f"{stage} {statistics.median(b.stage_seconds[stage] for b in builds):.2f}s"
        for stage in builds[0].stage_seconds
    )
    first = builds[0]
    return Measure(
        FULL_BUILD,
        [b.seconds for b in builds],
        statistics.median(b.peak_rss_mb for b in builds),
        f"{first.buildings} buildings, {first.faces} faces, {first.kwc:.0f} kWc; {stages}",
        shading_part=False,
    )


def _isolated(fn: Callable[..., Measure | None], *args: object) -> Measure | None:
    """Run one measure in a fresh process, for its own peak memory."""
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
        return pool.submit(fn, *args).result()


def print_table(measures: list[Measure], umep: Measure | None) -> None:
    """Medians, peak memory, and how many times faster than UMEP's 145 patches.

    The shading total adds the medians of the measures that are shading parts.
    """
    header = f"{'measure':<32} {'median':>9} {'peak RSS':>9} {'UMEP ÷':>8}   runs [s]"
    print(header)
    print("-" * len(header))

    def row(name: str, seconds: float, rss: str = "", runs: str = "") -> None:
        ratio = f"{umep.median_s / seconds:8.1f}" if umep else f"{'-':>8}"
        print(f"{name:<32} {seconds:>8.3f}s {rss:>9} {ratio}   {runs}")

    def measure_row(m: Measure) -> None:
        runs = ", ".join(f"{t:.2f}" for t in m.times_s)
        row(m.name, m.median_s, f"{m.peak_rss_mb:.0f}MB", runs)
        if m.name.startswith("horizons"):
            print(f"{'  per azimuth':<32} {m.median_s / N_SECTORS * 1000:>7.1f}ms")

    for m in measures:
        if m.shading_part:
            measure_row(m)
    row("shading total", sum(m.median_s for m in measures if m.shading_part))
    for m in measures:
        if not m.shading_part:
            measure_row(m)
    if umep:
        runs = ", ".join(f"{t:.1f}" for t in umep.times_s)
        print(
            f"{umep.name:<32} {umep.median_s:>8.1f}s {umep.peak_rss_mb:>7.0f}MB {'1.0':>8}   {runs}"
        )
        print(f"{'  per sun position (mean)':<32} {umep.median_s / 145:>8.3f}s")
    for m in [*measures, *([umep] if umep else [])]:
        if m.note:
            print(f"  {m.name}: {m.note}")


def print_targets(full_build: Measure, umep: Measure | None) -> None:
    """PASS or FAIL of the full build against each target."""
    ratio = umep.median_s / full_build.median_s if umep else None
    checks = [
        (
            f"full build {full_build.median_s:.1f}s <= {TARGET_SECONDS:.0f}s",
            full_build.median_s <= TARGET_SECONDS,
        ),
        (
            f"UMEP 145 patches / full build = {ratio:.1f} >= {TARGET_UMEP_RATIO:.0f}"
            if ratio is not None
            else f"UMEP 145 patches / full build >= {TARGET_UMEP_RATIO:.0f}: no UMEP figure",
            None if ratio is None else ratio >= TARGET_UMEP_RATIO,
        ),
        (
            f"peak RSS {full_build.peak_rss_mb:.0f}MB <= {TARGET_RSS_MB:.0f}MB (2 GiB)",
            full_build.peak_rss_mb <= TARGET_RSS_MB,
        ),
    ]
    print("targets:")
    for text, met in checks:
        verdict = "n/a" if met is None else ("PASS" if met else "FAIL")
        print(f"  {verdict:<4}  {text}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=5, help="timed runs per measure")
    parser.add_argument("--umep-runs", type=int, default=3, help="timed runs of UMEP")
    parser.add_argument("--no-umep", action="store_true", help="skip UMEP")
    parser.add_argument("--no-build", action="store_true", help="skip the full build")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--size-m", type=float, default=1000.0)
    parser.add_argument("--resolution", type=float, default=0.5)
    args = parser.parse_args(argv)
    district = (args.seed, args.size_m, args.resolution)
    measures = []
    functions = [measure_horizons, measure_face_shading, measure_pixel_sums]
    if not args.no_build:
        functions.append(measure_full_build)
    for fn in functions:
        measure = _isolated(fn, *district, args.runs)
        if measure is not None:
            measures.append(measure)
    umep = None
    if args.no_umep:
        print("UMEP skipped (--no-umep).")
    else:
        umep = _isolated(measure_umep, *district, args.umep_runs)
        if umep is None:
            print("UMEP is not installed: `pip install umep` (the bench extra) to compare.")
    print_table(measures, umep)
    full_build = [m for m in measures if m.name == FULL_BUILD]
    if full_build:
        print()
        print_targets(full_build[0], umep)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
