"""The validation report: each figure of the cadastre against a reference it does not share.

    python scripts/validate.py                  # writes docs/validation.md
    python scripts/validate.py --out -          # prints it

References, each independent of the code it checks:

- analytic roof scenes (``tests/scenes.py``): roofs rendered from their true planes,
  with LiDAR-like noise, whose faces, areas and footprint offsets are known;
- the brute-force horizon oracle of the tests (``tests/horizon_reference.py``), which
  follows the definition of a horizon and shares no code with the sweep, on a real IGN
  LiDAR HD surface model (Montpellier, 0.5 m);
- pvlib's Perez transposition (``pvlib.irradiance.get_total_irradiance``) for an open face;
- for a chimney's shadow on the modules of a gable, Martinez's bypass-diode formula applied
  by hand in the tests (``tests/build/test_tile_modules.py``) over the exact overlaps of
  each module's blocks with the roof pixels, each pixel lit by the plain rule;
- PVGIS's method reproduced with pvlib, and a measured plant near Lens
  (``scripts/compare_yield.py``);
- the normal distribution's quantiles for the uncertainty bands;
- the OGC validity of every polygon the demo's build writes (GEOS).

The repository root goes on ``sys.path`` so that the tests' references can be imported.
Nothing here is timed; a run takes about a minute.
"""

from __future__ import annotations

import argparse
import math
import sqlite3
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
import pvlib  # noqa: E402
import rasterio  # noqa: E402
import shapely  # noqa: E402
from compare_yield import yields  # noqa: E402

from solar import build, dwellings, irradiance, pv, reconcile, roofs  # noqa: E402
from solar.cadastre import Cadastre  # noqa: E402
from solar.demo import build_demo  # noqa: E402
from solar.footprints import Footprint  # noqa: E402
from solar.horizon import horizon_angles  # noqa: E402
from solar.household.uncertainty import Spreads, production_bands  # noqa: E402
from solar.resources import DEFAULT_WEATHER, LIDAR_DIR  # noqa: E402
from solar.weather import read_weather, solar_position  # noqa: E402
from tests import scenes  # noqa: E402
from tests.build import test_tile_modules as modules_reference  # noqa: E402
from tests.geometries import translated  # noqa: E402
from tests.horizon_reference import horizon_angles_reference  # noqa: E402
from tests.test_dwellings import _doors  # noqa: E402  (the tests' doors of the row)
from tests.test_irradiance import pvlib_perez  # noqa: E402  (the tests' reference)

MONTPELLIER_DSM = (
    LIDAR_DIR
    / "ign_lidarhd_montpellier_77055_627760"
    / "DSM_test_data_77055_627760_LA93_IGN69_50CM.tif"
)


@dataclass(frozen=True)
class Row:
    """One line of the report's table."""

    quantity: str
    project: str
    reference: str
    difference: str
    against: str


def _angle_error(a: float | None, b: float | None) -> float:
    return abs(((a or 0.0) - (b or 0.0) + 180.0) % 360.0 - 180.0)


def segmentation() -> list[Row]:
    """Faces of analytic gable, hip and shed roofs against their true planes and areas."""
    cases = [
        scenes.gable(t, a, seed=s) for t in (20, 35, 45) for a in (180, 135, 100) for s in (1, 2)
    ]
    cases += [scenes.hip(), scenes.shed(), scenes.rotated_gable()]
    tilt, azimuth, area = [], [], []
    for scene in cases:
        faces = roofs.segment_roofs(scene.surface, [scene.footprint])
        for truth in scene.faces:
            point = shapely.Point(truth.point)
            face = next(f for f in faces if f.polygon.buffer(0.01).contains(point))
            tilt.append(abs(face.surface_tilt - truth.surface_tilt))
            if truth.surface_azimuth is not None:
                azimuth.append(_angle_error(face.surface_azimuth, truth.surface_azimuth))
            area.append(face.area_m2 / truth.area_m2 - 1.0)
    rms = math.sqrt(float(np.mean(np.square(area))))
    n = f"{len(area)} faces of {len(cases)} scenes"
    return [
        Row(
            "face tilt",
            "fitted plane",
            "scene's plane",
            f"≤ {max(tilt):.2f}° ({n})",
            "analytic scenes",
        ),
        Row(
            "face azimuth",
            "fitted plane",
            "scene's plane",
            f"≤ {max(azimuth):.2f}°",
            "analytic scenes",
        ),
        Row(
            "face area",
            "traced outline",
            "scene's face",
            f"{100 * rms:.2f} % rms, ≤ {100 * max(map(abs, area)):.2f} %",
            "analytic scenes",
        ),
    ]


def coregistration() -> list[Row]:
    """A footprint 0.92 m off its roof: the shift found, and the faces' areas after it."""
    scene = scenes.gable()
    offset = (0.6, -0.7)
    off = Footprint("off", translated(scene.footprint.geometry, *offset))
    (check,) = reconcile.check_footprints(scene.surface, [off])
    error = math.hypot(check.shift[0] + offset[0], check.shift[1] + offset[1])
    faces = roofs.segment_roofs(scene.surface, reconcile.reconciled([off], [check]))
    worst = max(
        abs(
            next(
                f for f in faces if _angle_error(f.surface_azimuth, t.surface_azimuth) < 10
            ).area_m2
            / t.area_m2
            - 1
        )
        for t in scene.faces
    )
    return [
        Row(
            "footprint offset",
            f"{check.shift_m:.2f} m",
            f"{math.hypot(*offset):.2f} m",
            f"{error:.2f} m",
            "analytic scene",
        ),
        Row(
            "face area after the shift",
            "segmented",
            "scene's face",
            f"≤ {100 * worst:.1f} %",
            "analytic scene",
        ),
    ]


def horizons() -> list[Row]:
    """The horizon sweep against the brute-force oracle on a real LiDAR HD surface model."""
    with rasterio.open(MONTPELLIER_DSM) as src:
        z = src.read(1, masked=True)
        resolution = src.res[0]
    z = z.filled(z.min()).astype(np.float32)
    found = horizon_angles(z, resolution)
    expected = horizon_angles_reference(z, resolution, 72, found.rows, found.cols)
    diff = np.abs(found.angles_deg() - expected)
    return [
        Row(
            "horizon angle",
            "line sweep",
            "brute-force rays",
            f"mean {diff.mean():.3f}°, max {diff.max():.3f}° ({diff.size:,} pixel-sectors)",
            "real DSM, IGN LiDAR HD Montpellier",
        )
    ]


def open_face() -> list[Row]:
    """An unshaded face: the project's Perez components against pvlib's total."""
    weather = read_weather(DEFAULT_WEATHER)
    solpos = solar_position(weather)
    rows = []
    for tilt, azimuth in ((35.0, 180.0), (35.0, 90.0), (10.0, 180.0)):
        ours = float(irradiance.poa_irradiance(weather, solpos, [tilt], [azimuth]).annual_kwh_m2[0])
        total = pvlib_perez(weather, solpos, tilt, azimuth)["poa_global"]
        reference = float(total.sum()) / 1000.0
        rows.append(
            Row(
                f"open face {tilt:g}° facing {azimuth:g}°",
                f"{ours:.1f} kWh/m²",
                f"{reference:.1f} kWh/m²",
                f"{100 * (ours / reference - 1):+.3f} %",
                "pvlib Perez",
            )
        )
    return rows


def module_shading() -> list[Row]:
    """A chimney's shadow on a 35° south gable: the yield lost by the modules."""
    staged = modules_reference.chimney_stages()
    face = modules_reference.south_face(staged)
    reference, area_weighted = modules_reference.reference_factor(staged, face)
    unshaded = modules_reference.annual_yield(staged, face, (reference > 0) | (area_weighted > 0))

    def loss(lit: np.ndarray) -> float:
        return 100.0 * (1.0 - modules_reference.annual_yield(staged, face, lit) / unshaded)

    modelled = loss(staged.production_shading.lit_fraction[face])
    by_hand = loss(reference)
    return [
        Row(
            "chimney: yield lost, module level",
            f"{modelled:.2f} %",
            f"{by_hand:.2f} %",
            f"{modelled - by_hand:+.2f} points",
            "Martinez by hand, exact block overlaps",
        ),
        Row(
            "chimney: yield lost, area-weighted light",
            f"{loss(area_weighted):.2f} % (modules' area)",
            f"{by_hand:.2f} %",
            f"{loss(area_weighted) - by_hand:+.2f} points",
            "the same reference",
        ),
        Row(
            "chimney: yield lost, face's mean light",
            f"{loss(staged.light.shading.lit_fraction[face]):.2f} % (before module level)",
            f"{by_hand:.2f} %",
            f"{loss(staged.light.shading.lit_fraction[face]) - by_hand:+.2f} points",
            "the same reference",
        ),
    ]


def specific_yield() -> list[Row]:
    """An unshaded 35° and 40° south roof: the project, PVGIS's method and a measured plant."""
    weather = read_weather(DEFAULT_WEATHER)
    rows = []
    for tilt in (35.0, 40.0):
        table = yields(weather, tilt)
        ours = table["this project (solar.pv.production)"]
        for name, value in table.items():
            if name.startswith("PVGIS") or name.startswith("measured"):
                rows.append(
                    Row(
                        f"yield, {tilt:g}° south",
                        f"{ours:.0f} kWh/kWc",
                        f"{value:.0f} kWh/kWc",
                        f"{100 * (ours / value - 1):+.1f} %",
                        name,
                    )
                )
        rows.append(
            Row(
                f"yield, {tilt:g}° south",
                f"{ours:.0f} kWh/kWc",
                "960–1,040",
                "in band" if 960 <= ours <= 1040 else "OUT OF BAND",
                "target for roof-mounted PV",
            )
        )
    return rows


def terraced_row(workdir: Path) -> list[Row]:
    """Six houses under one footprint, a tree in the west garden: each house's share."""
    scene = scenes.terrace(6)
    doors = _doors(scene)
    summary = build.build_from_surface(
        build.Territory(scene.surface, [scene.footprint], addresses=doors, communes=None),
        out=workdir / "row.gpkg",
    )
    faces = Cadastre(summary.path).faces("row")
    areas = [sum(f.area_m2 for f in faces if f.part_id == a.address_id) for a in doors]
    truth = 2 * scene.faces[0].area_m2 / 6
    production = [
        sum(f.production_kwh_yr for f in dwellings.equipped_faces(faces, a.address_id))
        for a in doors
    ]
    worst = max(abs(a / truth - 1) for a in areas)
    return [
        Row(
            "house's roof area",
            "its faces",
            f"{truth:.1f} m² each",
            f"≤ {100 * worst:.1f} %",
            "analytic terrace",
        ),
        Row(
            "shaded end house",
            f"{production[0]:.0f} kWh/yr",
            f"{production[-1]:.0f} kWh/yr (open end)",
            f"{100 * (production[0] / production[-1] - 1):+.1f} %",
            "same row, tree in the west garden",
        ),
    ]


def bands() -> list[Row]:
    """The cadastre's band with the weather alone uncertain, against the normal's quantiles."""
    certain = Spreads.certain()
    only_weather = Spreads(**{**certain.__dict__, "weather_sd": 0.045})
    band = production_bands(
        np.array([1000.0]),
        np.array([40.0]),
        np.array([180.0]),
        np.array([0]),
        spreads=only_weather,
        n_samples=20_000,
    ).faces[0]
    z90 = 1.2815516
    expected = 1000 * (1 + 0.045 * np.array([-z90, 0, z90]))
    return [
        Row(
            "P10 / P90, weather only",
            f"{band[0]:.0f} / {band[2]:.0f} kWh",
            f"{expected[0]:.0f} / {expected[2]:.0f} kWh",
            f"{100 * max(abs(band[[0, 2]] / expected[[0, 2]] - 1)):.2f} %",
            "Normal(1, 4.5 %) quantiles",
        )
    ]


def geometry(workdir: Path) -> list[Row]:
    """Every polygon of the demo's cadastre is valid (OGC)."""
    demo = build_demo(workdir / "demo")
    con = sqlite3.connect(demo.path)
    store = Cadastre(demo.path)
    ids = [r[0] for r in con.execute("SELECT building_id FROM buildings")]
    polygons = [store.building(i).geometry for i in ids]
    polygons += [f.geometry for i in ids for f in store.faces(i)]
    invalid = int(np.count_nonzero(~shapely.is_valid(np.array(polygons, dtype=object))))
    return [
        Row(
            "valid polygons",
            f"{len(polygons) - invalid:,} of {len(polygons):,}",
            "all",
            f"{invalid} invalid",
            "GEOS is_valid, demo cadastre",
        )
    ]


SECTIONS: list[tuple[str, Callable[..., list[Row]]]] = [
    ("Roof faces", segmentation),
    ("Footprints", coregistration),
    ("Horizons", horizons),
    ("Irradiance", open_face),
    ("Module shading", module_shading),
    ("Yield", specific_yield),
    ("Uncertainty", bands),
]
BUILT: list[tuple[str, Callable[[Path], list[Row]]]] = [
    ("Terraced houses", terraced_row),
    ("Geometry", geometry),
]


def report() -> str:
    """The report as Markdown."""
    lines = [
        "# Validation",
        "",
        "Each figure of the cadastre against a reference that does not share its code.",
        "Regenerate this file with `python scripts/validate.py` (about a minute);",
        "the script's docstring describes each reference.",
        "",
        "| quantity | project | reference | difference | reference from |",
        "|---|---|---|---|---|",
    ]
    with tempfile.TemporaryDirectory() as tmp:
        rows = [row for _, section in SECTIONS for row in section()]
        rows += [row for _, section in BUILT for row in section(Path(tmp))]
    for row in rows:
        cells = (row.quantity, row.project, row.reference, row.difference, row.against)
        lines.append("| " + " | ".join(cells) + " |")
    lines += [
        "",
        "The unit tests hold each of these with a tolerance; the table gives the values measured",
        f"by this run (pvlib {pvlib.__version__}, module {pv.load_module().name}).",
        "",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", default=str(ROOT / "docs" / "validation.md"), help="'-' prints it")
    args = parser.parse_args()
    text = report()
    if args.out == "-":
        print(text)
    else:
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(text, encoding="utf-8")
        print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
