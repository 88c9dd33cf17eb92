"""Benchmark of ``cadastre build``: wall time and peak memory, per km², as medians.

Run from the repository root::

    python scripts/bench_build.py [--runs 3] [--json PATH] [--skip-delft]

Two cases:

- ``delft``: the Delft AHN3 sample through the real command path,
  ``build_cadastre(BuildInputs(laz=[...], laz_crs="EPSG:28992", buildings=bgt_pand.sqlite))``;
  the time includes opening the point clouds and reading the footprints (stage ``read``).
  The point clouds themselves are rasterised tile by tile, in ``other``.
- ``synthetic``: the seeded synthetic district of ``scripts/synthetic.py`` (1 km² at 0.5 m,
  2000 × 2000 px, in Lambert-93) through ``build_from_surface``, checked against the
  shading targets: a full build in at most 20 s with a peak RSS of at most 2 GiB.

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
non-zero only when a run crashes.
"""

from __future__ import annotations

import argparse
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

from solar.resources import DATA_DIR

REPO = Path(__file__).resolve().parents[1]
DELFT = DATA_DIR / "lidar" / "delft_ahn3"
DELFT_LAZ = (DELFT / "ahn3_cropped_1.laz", DELFT / "ahn3_cropped_2.laz")
DELFT_BUILDINGS = DELFT / "bgt_pand.sqlite"
DELFT_CRS = "EPSG:28992"  # Amersfoort / RD New, the CRS of AHN3

# The shading targets for the synthetic 1 km² district at 0.5 m.
TARGET_SECONDS = 20.0
TARGET_RSS_MB = 2048.0  # 2 GiB [MiB]
STAGES = ("read", "roofs", "horizon", "irradiance", "pv", "raster", "write", "other")
RESULT_PREFIX = "BENCH_BUILD_RESULT "


@dataclass(frozen=True)
class BuildRun:
    """One build in its own process.

    Attributes
    ----------
    case : str
        ``delft`` or ``synthetic``.
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


def build_synthetic(out_dir: Path, seed: int, size_m: float, resolution: float) -> BuildRun:
    """Build the synthetic district from memory; generating it is not timed."""
    # synthetic.py sits beside this script, so on sys.path when either benchmark runs.
    from synthetic import synthetic_surface

    from solar.build import Territory, build_from_surface

    surface, footprints = synthetic_surface(seed, size_m, resolution)
    start = time.perf_counter()
    summary = build_from_surface(Territory(surface, footprints), out=out_dir / "synthetic.gpkg")
    return _run("synthetic", summary, time.perf_counter() - start)


def run_isolated(
    case: str, seed: int = 0, size_m: float = 1000.0, resolution: float = 0.5
) -> BuildRun:
    """Run one build of ``case`` in a fresh Python process and return its figures.

    Raises
    ------
    RuntimeError
        The build crashed; the message holds the end of its error output.
    """
    command = [
        sys.executable,
        str(Path(__file__).resolve()),
        "--child",
        case,
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
            f"the {case} build crashed (exit {done.returncode}):\n{done.stderr[-4000:]}"
        )
    return BuildRun(**json.loads(results[-1]))


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


def target_checks(seconds: float, peak_rss_mb: float) -> list[tuple[str, bool]]:
    """The synthetic district's targets: (description with the figure, met)."""
    return [
        (f"wall time {seconds:.1f}s <= {TARGET_SECONDS:.0f}s", seconds <= TARGET_SECONDS),
        (
            f"peak RSS {peak_rss_mb:.0f}MB <= {TARGET_RSS_MB:.0f}MB (2 GiB)",
            peak_rss_mb <= TARGET_RSS_MB,
        ),
    ]


def print_table(results: list[CaseResult]) -> None:
    """Medians per case, the stage split, each run, and the synthetic district's targets."""
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
        if c.case == "synthetic":
            print()
            print("synthetic district targets:")
            for text, met in target_checks(c.seconds, c.peak_rss_mb):
                print(f"  {'PASS' if met else 'FAIL'}  {text}")


def _child(case: str, seed: int, size_m: float, resolution: float) -> None:
    with tempfile.TemporaryDirectory(prefix="bench_build_") as tmp:
        if case == "delft":
            run = build_delft(Path(tmp))
        else:
            run = build_synthetic(Path(tmp), seed, size_m, resolution)
    print(RESULT_PREFIX + json.dumps(asdict(run)), flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=3, help="timed runs per case")
    parser.add_argument("--json", type=Path, help="write the figures to this JSON file")
    parser.add_argument("--skip-delft", action="store_true", help="only the synthetic case")
    parser.add_argument("--seed", type=int, default=0, help="seed of the synthetic district")
    parser.add_argument("--size-m", type=float, default=1000.0, help="its side [m]")
    parser.add_argument("--resolution", type=float, default=0.5, help="its pixel size [m]")
    parser.add_argument("--child", choices=("delft", "synthetic"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        _child(args.child, args.seed, args.size_m, args.resolution)
        return 0

    load = os.getloadavg()
    print(
        f"bench_build: {args.runs} timed runs per case after a warm-up, each in a fresh "
        f"process; {os.cpu_count()} cores, load average {load[0]:.2f} at start",
        flush=True,
    )
    cases = ["synthetic"] if args.skip_delft else ["delft", "synthetic"]
    try:
        results = [
            measure_case(case, args.runs, args.seed, args.size_m, args.resolution) for case in cases
        ]
    except RuntimeError as error:
        print(error, file=sys.stderr)
        return 1
    print()
    print_table(results)
    if args.json:
        payload = {
            "runs": args.runs,
            "cpu_count": os.cpu_count(),
            "load_average_at_start": load,
            "load_average_at_end": os.getloadavg(),
            "synthetic": {"seed": args.seed, "size_m": args.size_m, "resolution": args.resolution},
            "targets": {"seconds": TARGET_SECONDS, "peak_rss_mb": TARGET_RSS_MB},
            "cases": [c.as_dict() for c in results],
        }
        synthetic = [c for c in results if c.case == "synthetic"]
        if synthetic:
            payload["target_checks"] = [
                {"check": text, "pass": met}
                for text, met in target_checks(synthetic[0].seconds, synthetic[0].peak_rss_mb)
            ]
        args.json.write_text(json.dumps(payload, indent=2) + "\n")
        print(f"\nfigures written to {args.json}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
