"""Benchmark of ``cadastre build``: wall time and peak memory, per km², as medians.

Run from the repository root::

    python scripts/bench_build.py [--runs 3] [--json PATH] [--cases delft synthetic corons]
                                  [--umep-runs 1] [--no-umep]

Three cases:

- ``delft``: the Delft AHN3 sample through the real command path,
  ``build_cadastre(BuildInputs(laz=[...], laz_crs="EPSG:28992", buildings=bgt_pand.sqlite))``;
  the time includes opening the point clouds and reading the footprints (stage ``read``).
  The point clouds themselves are rasterised tile by tile, in ``other``.
- ``synthetic``: the seeded synthetic district of ``scripts/synthetic.py`` (1 km² at 0.5 m,
  2000 × 2000 px, in Lambert-93) through ``build_from_surface``, checked against the
  shading targets: a full build in at most 20 s with a peak RSS of at most 2 GiB.
- ``corons``: the dense district of ``scripts/synthetic.py`` (:func:`corons_district`:
  about 4,000 terraced houses on 1 km² at 0.5 m, garden trees, 3 cm of noise) through
  ``build_from_surface``, checked against the dense-district targets: at most 10 s with a
  peak RSS of at most 2 GiB. UMEP's shadow casting on the same surface, in the same run
  and in a fresh process, gives the ratio of its time to the build's (see
  :func:`measure_umep`).

Each run is a fresh process (this script, called with ``--child``), so that its time
includes loading the compiled kernels and its peak resident memory is its own (``VmHWM``,
see :func:`peak_rss_mb`). The first run of each case is a warm-up, left out of the medians:
numba compiles the kernels once per machine and caches them beside the sources; later
processes load them from that cache. Memory figures are in MiB, written MB.

The stage split is the build's own (``BuildSummary.stage_seconds``: roofs, horizon,
irradiance, pv, raster, write), plus ``read`` (wall time outside ``build_from_surface``:
reading the inputs) and ``other`` (the rest of ``build_from_surface``: the site's climate,
tiling, building totals, communes).

The machine is shared: a missed target is reported, not an error; the exit status is
non-zero only when a run crashes. On a loaded machine, run with ``--cases corons`` and
read the stage split: the stages of one build share the same load.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from solar.resources import DATA_DIR

REPO = Path(__file__).resolve().parents[1]
DELFT = DATA_DIR / "lidar" / "delft_ahn3"
DELFT_LAZ = (DELFT / "ahn3_cropped_1.laz", DELFT / "ahn3_cropped_2.laz")
DELFT_BUILDINGS = DELFT / "bgt_pand.sqlite"
DELFT_CRS = "EPSG:28992"  # Amersfoort / RD New, the CRS of AHN3

# The shading targets for the synthetic 1 km² district at 0.5 m.
TARGET_SECONDS = 20.0
TARGET_RSS_MB = 2048.0  # 2 GiB [MiB]
# The dense district's: 1 km² of corons at 0.5 m on 2 cores.
CORONS_TARGET_SECONDS = 10.0
CASES = ("delft", "synthetic", "corons")
DISTRICTS = ("synthetic", "corons")  # the generated cases
STAGES = ("read", "roofs", "horizon", "irradiance", "pv", "raster", "write", "other")
RESULT_PREFIX = "BENCH_BUILD_RESULT "


@dataclass(frozen=True)
class BuildRun:
    """One build in its own process.

    Attributes
    ----------
    case : str
        One of :data:`CASES`.
    seconds : float
        Wall time of the build call, reading the inputs included. [s]
    stage_seconds : dict of str to float
        The build's stages (see the module docstring); they add up to ``seconds``. [s]
    buildings, faces : int
    kwc : float
        Peak power placed. [kWc]
    production_mwh_yr : float
        [MWh/yr]
    area_km2 : float
        Area of the surface model's bounds. [km²]
    peak_rss_mb : float
        Peak resident memory of the process (see :func:`peak_rss_mb`). [MiB]
    """

    case: str
    seconds: float
    stage_seconds: dict[str, float]
    buildings: int
    faces: int
    kwc: float
    production_mwh_yr: float
    area_km2: float
    peak_rss_mb: float

    @property
    def seconds_per_km2(self) -> float:
        return self.seconds / self.area_km2


def peak_rss_mb() -> float:
    """Peak resident memory of this process. [MiB]

    On Linux, ``VmHWM`` of ``/proc/self/status``: the high-water mark of this process's own
    address space. ``ru_maxrss`` is not: across ``execve`` Linux keeps the larger of the
    parent's peak and the child's, and ``subprocess`` and ``multiprocessing`` start
    children by fork (or vfork) and exec, so a child of a 500 MB process reports at least
    500 MB. ``ru_maxrss`` is the fallback elsewhere.
    """
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024  # kB in the file, in fact KiB
    # ru_maxrss is in kibibytes on Linux, in bytes on macOS.
    scale = 1024 * 1024 if sys.platform == "darwin" else 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / scale


def _run(case: str, summary: object, seconds: float) -> BuildRun:
    """Gather the figures of a finished build (``summary`` is a ``BuildSummary``)."""
    import rasterio

    from solar.build import BuildSummary

    assert isinstance(summary, BuildSummary)
    stages = {"read": seconds - summary.seconds, **summary.stage_seconds}
    stages["other"] = summary.seconds - sum(summary.stage_seconds.values())
    # The irradiation raster lies on the whole surface model's grid.
    assert summary.raster_path is not None
    with rasterio.open(summary.raster_path) as raster:
        left, bottom, right, top = raster.bounds
    return BuildRun(
        case=case,
        seconds=seconds,
        stage_seconds=stages,
        buildings=summary.buildings,
        faces=summary.faces,
        kwc=summary.kwc,
        production_mwh_yr=summary.production_mwh_yr,
        area_km2=(right - left) * (top - bottom) / 1e6,
        peak_rss_mb=peak_rss_mb(),
    )


def build_delft(out_dir: Path) -> BuildRun:
    """Build the Delft AHN3 sample from its files, as ``cadastre build --laz`` does."""
    from solar.build import BuildInputs, build_cadastre

    start = time.perf_counter()
    summary = build_cadastre(
        BuildInputs(laz=DELFT_LAZ, laz_crs=DELFT_CRS, buildings=DELFT_BUILDINGS),
        out=out_dir / "delft.gpkg",
    )
    return _run("delft", summary, time.perf_counter() - start)


def build_district(
    out_dir: Path, case: str, seed: int, size_m: float, resolution: float
) -> BuildRun:
    """Build a generated district (``synthetic`` or ``corons``) from memory; generating it
    is not timed."""
    from solar.build import Territory, build_from_surface

    surface, footprints = _district_surface(case, seed, size_m, resolution)
    start = time.perf_counter()
    summary = build_from_surface(Territory(surface, footprints), out=out_dir / f"{case}.gpkg")
    return _run(case, summary, time.perf_counter() - start)


def _district_surface(case: str, seed: int, size_m: float, resolution: float) -> tuple:
    """The surface and footprints of a generated district, in Lambert-93."""
    # synthetic.py sits beside this script, so on sys.path when either benchmark runs.
    from synthetic import corons_surface, synthetic_surface

    generate = corons_surface if case == "corons" else synthetic_surface
    return generate(seed, size_m, resolution)


@dataclass(frozen=True)
class UmepRun:
    """UMEP's shadow casting on a generated district, scaled to a SEBE run.

    Attributes
    ----------
    case : str
        The district.
    estimates_s : list of float
        One estimate of 145 sky patches per run. [s]
    band_seconds : dict of str to float
        Median time of one sun position at each band's altitude (keys in degrees). [s]
    peak_rss_mb : float
        [MiB]
    """

    case: str
    estimates_s: list[float]
    band_seconds: dict[str, float]
    peak_rss_mb: float

    @property
    def seconds(self) -> float:
        return statistics.median(self.estimates_s)


def measure_umep(case: str, seed: int, size_m: float, resolution: float, runs: int) -> UmepRun:
    """UMEP's shadow casting on the district, one sun position per Tregenza band, scaled
    to 145 patches: the method of ``bench_shading.measure_umep``, on any district.

    UMEP gets heights above the grid's lowest point, its best case (see
    ``bench_shading.py``).
    """
    from bench_shading import umep_patch_estimates

    surface, _ = _district_surface(case, seed, size_m, resolution)
    heights = surface.elevation - surface.elevation.min()
    estimates, per_band = umep_patch_estimates(heights, resolution, runs)
    bands = {str(a): statistics.median(t) for a, t in per_band.items()}
    return UmepRun(case, estimates, bands, peak_rss_mb())


def run_isolated(
    case: str, seed: int = 0, size_m: float = 1000.0, resolution: float = 0.5
) -> BuildRun:
    """Run one build of ``case`` in a fresh Python process and return its figures.

    Raises
    ------
    RuntimeError
        The build crashed; the message holds the end of its error output.
    """
    return BuildRun(**_in_child(["--child", case], seed, size_m, resolution))


def umep_isolated(
    case: str, seed: int, size_m: float, resolution: float, runs: int
) -> UmepRun | None:
    """:func:`measure_umep` in a fresh Python process; None when UMEP is not installed."""
    if importlib.util.find_spec("umep") is None:
        return None
    figures = _in_child(["--child-umep", case, "--umep-runs", str(runs)], seed, size_m, resolution)
    return UmepRun(**figures)


def _in_child(arguments: list[str], seed: int, size_m: float, resolution: float) -> dict[str, Any]:
    """Run this script with ``arguments`` in a fresh process; the figures it prints."""
    command = [
        sys.executable,
        str(Path(__file__).resolve()),
        *arguments,
        "--seed",
        str(seed),
        "--size-m",
        str(size_m),
        "--resolution",
        str(resolution),
    ]
    done = subprocess.run(command, capture_output=True, text=True, cwd=REPO, check=False)
    results = [
        line.removeprefix(RESULT_PREFIX)
        for line in done.stdout.splitlines()
        if line.startswith(RESULT_PREFIX)
    ]
    if done.returncode != 0 or not results:
        raise RuntimeError(
            f"{' '.join(arguments)} crashed (exit {done.returncode}):\n{done.stderr[-4000:]}"
        )
    figures: dict[str, Any] = json.loads(results[-1])
    return figures


@dataclass(frozen=True)
class CaseResult:
    """The warm-up and the timed runs of one case, and their medians."""

    case: str
    warmup: BuildRun
    runs: list[BuildRun]

    @property
    def seconds(self) -> float:
        return statistics.median(r.seconds for r in self.runs)

    @property
    def peak_rss_mb(self) -> float:
        return statistics.median(r.peak_rss_mb for r in self.runs)

    @property
    def area_km2(self) -> float:
        return self.runs[0].area_km2

    def stage(self, name: str) -> float:
        return statistics.median(r.stage_seconds.get(name, 0.0) for r in self.runs)

    def as_dict(self) -> dict[str, object]:
        first = self.runs[0]
        return {
            "case": self.case,
            "median_seconds": self.seconds,
            "median_seconds_per_km2": self.seconds / self.area_km2,
            "median_peak_rss_mb": self.peak_rss_mb,
            "max_peak_rss_mb": max(r.peak_rss_mb for r in self.runs),
            "median_stage_seconds": {s: self.stage(s) for s in STAGES},
            "area_km2": self.area_km2,
            "buildings": first.buildings,
            "faces": first.faces,
            "kwc": first.kwc,
            "production_mwh_yr": first.production_mwh_yr,
            "warmup": asdict(self.warmup),
            "runs": [asdict(r) for r in self.runs],
        }


def measure_case(case: str, runs: int, seed: int, size_m: float, resolution: float) -> CaseResult:
    """A warm-up run, then ``runs`` timed runs, each in a fresh process."""
    warmup = run_isolated(case, seed, size_m, resolution)
    print(f"  {case}: warm-up {warmup.seconds:.1f}s", flush=True)
    timed = []
    for i in range(runs):
        timed.append(run_isolated(case, seed, size_m, resolution))
        print(f"  {case}: run {i + 1}/{runs} {timed[-1].seconds:.1f}s", flush=True)
    return CaseResult(case, warmup, timed)


def target_checks(
    seconds: float, peak_rss_mb: float, case: str = "synthetic"
) -> list[tuple[str, bool]]:
    """A generated district's targets: (description with the figure, met)."""
    target = CORONS_TARGET_SECONDS if case == "corons" else TARGET_SECONDS
    return [
        (f"wall time {seconds:.1f}s <= {target:.0f}s", seconds <= target),
        (
            f"peak RSS {peak_rss_mb:.0f}MB <= {TARGET_RSS_MB:.0f}MB (2 GiB)",
            peak_rss_mb <= TARGET_RSS_MB,
        ),
    ]


def print_table(results: list[CaseResult], umep: UmepRun | None = None) -> None:
    """Medians per case, the stage split, each run, the generated districts' targets, and
    the ratio of UMEP's time to the build's on the same district."""
    header = (
        f"{'case':<11} {'area':>9} {'median':>8} {'per km²':>9} {'peak RSS':>9} "
        f"{'buildings':>9} {'faces':>6} {'kWc':>9} {'MWh/yr':>9}"
    )
    print(header)
    print("-" * len(header))
    for c in results:
        first = c.runs[0]
        print(
            f"{c.case:<11} {c.area_km2:>6.3f}km² {c.seconds:>7.2f}s "
            f"{c.seconds / c.area_km2:>7.1f}s {c.peak_rss_mb:>7.0f}MB {first.buildings:>9} "
            f"{first.faces:>6} {first.kwc:>9.1f} {first.production_mwh_yr:>9.1f}"
        )
    print()
    header = f"{'stage (median)':<15}" + "".join(f"{c.case:>12}" for c in results)
    print(header)
    print("-" * len(header))
    for stage in STAGES:
        print(f"{stage:<15}" + "".join(f"{c.stage(stage):>11.2f}s" for c in results))
    print(f"{'total':<15}" + "".join(f"{c.seconds:>11.2f}s" for c in results))
    print()
    for c in results:
        runs = ", ".join(f"{r.seconds:.2f}s/{r.peak_rss_mb:.0f}MB" for r in c.runs)
        print(
            f"{c.case}: runs {runs}; warm-up {c.warmup.seconds:.2f}s/"
            f"{c.warmup.peak_rss_mb:.0f}MB (not in the medians)"
        )
    for c in results:
        if c.case in DISTRICTS:
            print()
            print(f"{c.case} district targets ({c.seconds / c.area_km2:.1f} s/km²):")
            for text, met in target_checks(c.seconds, c.peak_rss_mb, c.case):
                print(f"  {'PASS' if met else 'FAIL'}  {text}")
            if umep is not None and umep.case == c.case:
                print(
                    f"  UMEP shadow casting, 145 patches: {umep.seconds:.1f}s, "
                    f"{umep.seconds / c.seconds:.1f} times the whole build's wall time "
                    f"(one sun position: "
                    + ", ".join(f"{a}°: {t:.2f}s" for a, t in umep.band_seconds.items())
                    + ")"
                )


def _child(case: str, seed: int, size_m: float, resolution: float) -> None:
    with tempfile.TemporaryDirectory(prefix="bench_build_") as tmp:
        if case == "delft":
            run = build_delft(Path(tmp))
        else:
            run = build_district(Path(tmp), case, seed, size_m, resolution)
    print(RESULT_PREFIX + json.dumps(asdict(run)), flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=3, help="timed runs per case")
    parser.add_argument("--json", type=Path, help="write the figures to this JSON file")
    parser.add_argument("--cases", nargs="+", choices=CASES, default=list(CASES))
    parser.add_argument("--skip-delft", action="store_true", help="leave the delft case out")
    parser.add_argument("--seed", type=int, default=0, help="seed of the generated districts")
    parser.add_argument("--size-m", type=float, default=1000.0, help="their side [m]")
    parser.add_argument("--resolution", type=float, default=0.5, help="their pixel size [m]")
    parser.add_argument("--umep-runs", type=int, default=1, help="runs of UMEP on the corons")
    parser.add_argument("--no-umep", action="store_true", help="skip UMEP")
    parser.add_argument("--child", choices=CASES, help=argparse.SUPPRESS)
    parser.add_argument("--child-umep", choices=DISTRICTS, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        _child(args.child, args.seed, args.size_m, args.resolution)
        return 0
    if args.child_umep:
        umep_run = measure_umep(
            args.child_umep, args.seed, args.size_m, args.resolution, args.umep_runs
        )
        print(RESULT_PREFIX + json.dumps(asdict(umep_run)), flush=True)
        return 0

    load = os.getloadavg()
    print(
        f"bench_build: {args.runs} timed runs per case after a warm-up, each in a fresh "
        f"process; {os.cpu_count()} cores, load average {load[0]:.2f} at start",
        flush=True,
    )
    cases = [c for c in args.cases if not (args.skip_delft and c == "delft")]
    district = (args.seed, args.size_m, args.resolution)
    umep = None
    try:
        results = [measure_case(case, args.runs, *district) for case in cases]
        if "corons" in cases and not args.no_umep:
            umep = umep_isolated("corons", *district, args.umep_runs)
            if umep is None:
                print("UMEP is not installed: `pip install -e '.[bench]'` to compare.")
    except RuntimeError as error:
        print(error, file=sys.stderr)
        return 1
    print()
    print_table(results, umep)
    if args.json:
        payload = {
            "runs": args.runs,
            "cpu_count": os.cpu_count(),
            "load_average_at_start": load,
            "load_average_at_end": os.getloadavg(),
            "districts": {"seed": args.seed, "size_m": args.size_m, "resolution": args.resolution},
            "targets": {
                "synthetic_seconds": TARGET_SECONDS,
                "corons_seconds": CORONS_TARGET_SECONDS,
                "peak_rss_mb": TARGET_RSS_MB,
            },
            "cases": [c.as_dict() for c in results],
            "target_checks": [
                {"case": c.case, "check": text, "pass": met}
                for c in results
                if c.case in DISTRICTS
                for text, met in target_checks(c.seconds, c.peak_rss_mb, c.case)
            ],
        }
        if umep is not None:
            corons = next(c for c in results if c.case == "corons")
            payload["umep"] = {**asdict(umep), "ratio_to_build": umep.seconds / corons.seconds}
        args.json.write_text(json.dumps(payload, indent=2) + "\n")
        print(f"\nfigures written to {args.json}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
