"""The demo territory: the real LiDAR samples shipped in ``solar/data/lidar``, built and merged.

No open LiDAR of the Artois fits in a repository, so the demo is made of three real
samples: Delft row houses (AHN3, much like the Artois corons), an IGN LiDAR HD village in
Burgundy with its BD UNI footprints, and the IGN LiDAR HD Montpellier sample in IGN's own
"MNS LiDAR HD" DSM layout. Each is built in its own CRS, then the three are merged into one
cadastre in Lambert-93. The weather is the Artois typical year for all of them: the demo
shows what these roofs would give in the Artois.

The samples carry no addresses. One address per building is generated in the BAN layout and
marked as demo data: ids start with ``demo_``, ``source_position`` is ``demo`` and the
commune name ends in "(démo)". The real BAN file (adresses-62.csv.gz) replaces them in a
real build (``cadastre build --addresses``).

The demo is built into a folder the caller chooses (``cadastre demo --data-dir``): the
cadastre, its irradiation rasters and the generated address files.
"""

from __future__ import annotations

import tempfile
import time
import warnings
from dataclasses import dataclass, replace
from pathlib import Path

from rasterio.crs import CRS

from solar import addresses, cadastre, suitability, vectortiles
from solar.build import BuildInputs, BuildOptions, BuildSummary, Progress, build_cadastre
from solar.cadastre import AddressRecord, Cadastre
from solar.errors import InputError
from solar.footprints import (
    GeneratedIdWarning,
    footprints_from_classes,
    read_footprints,
    write_footprints,
)
from solar.pv import WORTH_EQUIPPING
from solar.resources import LIDAR_DIR
from solar.surface import rasterize_laz

CADASTRE_FILE = "cadastre.gpkg"
"""Name of the demo cadastre in its folder."""
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


@dataclass(frozen=True)
class DemoBuild:
    """The demo cadastre as built, and what its samples gave.

    Attributes
    ----------
    path : pathlib.Path
        The merged cadastre.
    samples : tuple of BuildSummary
        One per sample, in the order of ``SAMPLES``.
    seconds : float
        Wall-clock time of the whole build, merge included. [s]
    """

    path: Path
    samples: tuple[BuildSummary, ...]
    seconds: float

    @property
    def buildings(self) -> int:
        return sum(s.buildings for s in self.samples)

    @property
    def faces(self) -> int:
        return sum(s.faces for s in self.samples)

    @property
    def kwc(self) -> float:
        """Peak power placed on every sample. [kWc]"""
        return sum(s.kwc for s in self.samples)

    @property
    def production_mwh_yr(self) -> float:
        """Production of every sample over a typical year. [MWh yr-1]"""
        return sum(s.production_mwh_yr for s in self.samples)


def build_demo(folder: Path, *, progress: Progress | None = None) -> DemoBuild:
    """Build every sample, then merge them into ``folder / CADASTRE_FILE`` in EPSG:2154.

    Parameters
    ----------
    folder : pathlib.Path
        Created when missing. Receives the cadastre, one irradiation raster and one
        generated address file per sample.
    progress : callable, optional
        Called as ``progress(stage, done, total)`` during each sample's build.

    Returns
    -------
    DemoBuild
    """
    start = time.perf_counter()
    out = folder / CADASTRE_FILE
    folder.mkdir(parents=True, exist_ok=True)
    summaries = []
    with tempfile.TemporaryDirectory(dir=folder) as tmp, warnings.catch_warnings():
        # the Burgundy BD UNI sample has no id field, a known fact of the sample: its
        # generated ids (solar.footprints.geometry_ids) need no warning in the demo
        warnings.simplefilter("ignore", GeneratedIdWarning)
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
            ban = folder / f"adresses-demo-{sample.name}.csv"
            addresses.write_ban_csv(demo, ban)
            part = Path(tmp) / f"{sample.name}.gpkg"
            summary = build_cadastre(
                BuildInputs(
                    buildings=buildings,
                    dsm=sample.dsm,
                    laz=sample.laz,
                    laz_crs=sample.laz_crs,
                    addresses=ban,
                ),
                out=part,
                options=BuildOptions(),
                progress=progress,
            )
            # the name solar.build.raster.irradiation_rasters finds beside the cadastre
            raster = out.with_name(f"{out.stem}.irradiation-{sample.name}.tif")
            if summary.raster_path is not None:
                summary.raster_path.replace(raster)
            summaries.append(replace(summary, path=out, raster_path=raster))
            parts.append(part)
        cadastre.merge_cadastres(parts, out, crs=CRS.from_epsg(2154))
    # the map's files of the merged cadastre (each part's went with its folder)
    vectortiles.write_archive(out, progress=progress)
    suitability.write_qgis_style(out)
    return DemoBuild(path=out, samples=tuple(summaries), seconds=time.perf_counter() - start)


def example_address(path: Path) -> AddressRecord:
    """An address of the cadastre whose roof is worth equipping, to show what the API gives.

    The address on the building with the most peak power among the buildings whose
    suitability is in ``WORTH_EQUIPPING``; the first such address in the file when several
    stand on it.

    Raises
    ------
    InputError
        When ``path`` is not a cadastre, or when no address stands on such a building.
    """
    store = Cadastre(path)
    try:
        best: tuple[float, AddressRecord] | None = None
        for address in store.addresses():
            if address.building_id is None:
                continue
            building = store.building(address.building_id)
            if building.suitability not in WORTH_EQUIPPING or building.kwc <= 0:
                continue
            if best is None or building.kwc > best[0]:
                best = (building.kwc, address)
    finally:
        store.close()
    if best is None:
        raise InputError("no address stands on a roof worth equipping", source=str(path))
    return best[1]


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
