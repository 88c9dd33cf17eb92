"""The demo territory: the real LiDAR samples shipped in ``data/``, built and merged.

No open LiDAR of the Artois fits in a repository, so the demo is made of three real samples
(DESIGN.md): Delft row houses (AHN3, much like the Artois corons), an IGN LiDAR HD village in
Burgundy with its BD UNI footprints, and the IGN LiDAR HD Montpellier sample in IGN's own
"MNS LiDAR HD" DSM layout. Each is built in its own CRS, then the three are merged into one
cadastre in Lambert-93. The weather is the Artois typical year for all of them: the demo
shows what these roofs would give in the Artois.

The samples carry no addresses. One address per building is generated in the BAN layout and
marked as demo data: ids start with ``demo_``, ``source_position`` is ``demo`` and the
commune name ends in "(démo)". The real BAN file (adresses-62.csv.gz) replaces them in a
real build (``cadastre build --addresses``).
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, replace
from pathlib import Path

from rasterio.crs import CRS

from solar import addresses, cadastre
from solar.build import BuildOptions, BuildSummary, Progress, build_cadastre
from solar.footprints import footprints_from_classes, read_footprints, write_footprints
from solar.resources import LIDAR_DIR
from solar.surface import rasterize_laz

DEMO_DIR = Path("build") / "demo"
DEMO_CADASTRE = DEMO_DIR / "cadastre.gpkg"
LIDAR = LIDAR_DIR
MONTPELLIER = LIDAR / "ign_lidarhd_montpellier_77055_627760"


@dataclass(frozen=True)
class DemoSample:
    """One real sample of the demo, and the commune its demo addresses are given."""

    name: str
    buildings: Path | None = None
    laz: tuple[Path, ...] = ()
    trace_footprints_from: tuple[Path, ...] = ()
    dsm: tuple[Path, ...] = ()
    laz_crs: str | None = None
    commune_insee: str = ""
    nom_commune: str = ""
    code_postal: str = ""


SAMPLES = (
    DemoSample(
        name="delft",
        buildings=LIDAR / "delft_ahn3" / "bgt_pand.sqlite",
        laz=(
            LIDAR / "delft_ahn3" / "ahn3_cropped_1.laz",
            LIDAR / "delft_ahn3" / "ahn3_cropped_2.laz",
        ),
        laz_crs="EPSG:28992",
        nom_commune="Delft (démo)",
        code_postal="2611",
    ),
    DemoSample(
        name="burgundy",
        buildings=LIDAR
        / "ign_lidarhd_burgundy_870000_6618000"
        / "870000_6618000.subset.postIA.shp",
        laz=(
            LIDAR
            / "ign_lidarhd_burgundy_870000_6618000"
            / "870000_6618000.subset.postValidation.laz",
        ),
        commune_insee="71263",
        nom_commune="Louhans (démo)",
        code_postal="71500",
    ),
    DemoSample(
        name="montpellier",
        dsm=(MONTPELLIER / "DSM_test_data_77055_627760_LA93_IGN69_50CM.tif",),
        trace_footprints_from=(MONTPELLIER / "test_data_77055_627760_LA93_IGN69.laz",),
        commune_insee="34172",
        nom_commune="Montpellier (démo)",
        code_postal="34000",
    ),
)


def build_demo(
    *, out: Path = DEMO_CADASTRE, progress: Progress | None = None
) -> list[BuildSummary]:
    """Build every sample, then merge them into ``out`` in EPSG:2154.

    Returns
    -------
    list of BuildSummary
        One per sample.
    """
    out.parent.mkdir(parents=True, exist_ok=True)
    summaries = []
    with tempfile.TemporaryDirectory(dir=out.parent) as tmp:
        parts = []
        for sample in SAMPLES:
            buildings = sample.buildings or _traced_footprints(sample, Path(tmp))
            # In the sample's own CRS: a detour through another datum (Amersfoort → RGF93)
            # would move the points by metres, off the narrow Delft houses.
            crs = CRS.from_user_input(sample.laz_crs or "EPSG:2154")
            footprints = read_footprints(buildings, target_crs=crs)
            demo = addresses.demo_addresses(
                footprints.footprints,
                crs,
                commune_insee=sample.commune_insee,
                nom_commune=sample.nom_commune,
                code_postal=sample.code_postal,
            )
            ban = out.parent / f"adresses-demo-{sample.name}.csv"
            addresses.write_ban_csv(demo, ban)
            part = Path(tmp) / f"{sample.name}.gpkg"
            summary = build_cadastre(
                buildings=buildings,
                out=part,
                dsm=sample.dsm,
                laz=sample.laz,
                laz_crs=sample.laz_crs,
                addresses=ban,
                options=BuildOptions(),
                progress=progress,
            )
            raster = out.parent / f"irradiation-{sample.name}.tif"
            if summary.raster_path is not None:
                summary.raster_path.replace(raster)
            summaries.append(replace(summary, path=out, raster_path=raster))
            parts.append(part)
        cadastre.merge_cadastres(parts, out, crs=CRS.from_epsg(2154))
    return summaries


def _traced_footprints(sample: DemoSample, folder: Path) -> Path:
    """Trace the sample's footprints from its LAZ building class into a GeoPackage.

    IGN's DSM sample comes without footprints; the point cloud of the same 50 m square
    says where the buildings are.
    """
    surface = rasterize_laz(sample.trace_footprints_from)
    traced = footprints_from_classes(surface, prefix=f"{sample.name}-lidar")
    return write_footprints(
        traced.footprints, folder / f"footprints-{sample.name}.gpkg", crs=surface.crs
    )
