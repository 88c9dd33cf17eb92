"""The real samples, each built once per test session.

A build of a real sample takes seconds; several test files read the same cadastre. The
:func:`sample_build` factory builds a sample with given options the first time it is asked
for, into a folder of the session, and hands the same :class:`~solar.build.BuildSummary`
to every later request with the same options. :func:`delft_build`,
:func:`montpellier_build` and :func:`burgundy_build` are the default builds.

The samples (``solar/data/lidar``):

- ``delft``: the Delft AHN3 point clouds (EPSG:28992) and their BGT footprints, read tile by
  tile as ``cadastre build --laz`` reads them.
- ``montpellier``: IGN's 50 cm DSM of a Montpellier block, with footprints traced from the
  building class of the IGN LiDAR HD point cloud of the same square.
- ``burgundy``: an IGN LiDAR HD point cloud and its BD UNI footprints, of which 6 of 40
  stand on the cloud.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from rasterio.crs import CRS

from solar.build import BuildInputs, BuildOptions, BuildSummary, build_cadastre
from solar.footprints import (
    Footprint,
    footprints_from_classes,
    read_footprints,
    select_within,
    write_footprints,
)
from solar.resources import LIDAR_DIR
from solar.surface import Surface, rasterize_laz

DELFT = LIDAR_DIR / "delft_ahn3"
DELFT_LAZ = (DELFT / "ahn3_cropped_1.laz", DELFT / "ahn3_cropped_2.laz")
DELFT_FOOTPRINTS = DELFT / "bgt_pand.sqlite"
DELFT_CRS = "EPSG:28992"  # Amersfoort / RD New, the CRS of AHN3
MONTPELLIER = LIDAR_DIR / "ign_lidarhd_montpellier_77055_627760"
MONTPELLIER_DSM = MONTPELLIER / "DSM_test_data_77055_627760_LA93_IGN69_50CM.tif"
MONTPELLIER_LAZ = MONTPELLIER / "test_data_77055_627760_LA93_IGN69.laz"
BURGUNDY = LIDAR_DIR / "ign_lidarhd_burgundy_870000_6618000"
BURGUNDY_LAZ = BURGUNDY / "870000_6618000.subset.postValidation.laz"
BURGUNDY_FOOTPRINTS = BURGUNDY / "870000_6618000.subset.postIA.shp"

SampleBuild = Callable[..., BuildSummary]
"""``sample_build(name, options=BuildOptions())``: the sample's cadastre, built once."""


@pytest.fixture(scope="session")
def montpellier_traced() -> tuple[Footprint, ...]:
    """Montpellier's footprints, traced from the point cloud's building class."""
    return footprints_from_classes(rasterize_laz([MONTPELLIER_LAZ])).footprints


@pytest.fixture(scope="session")
def montpellier_footprints(
    tmp_path_factory: pytest.TempPathFactory, montpellier_traced: tuple[Footprint, ...]
) -> Path:
    """The traced Montpellier footprints as a GeoPackage, in Lambert-93."""
    folder = tmp_path_factory.mktemp("montpellier_footprints")
    return write_footprints(montpellier_traced, folder / "footprints.gpkg", crs=CRS.from_epsg(2154))


@pytest.fixture(scope="session")
def sample_build(
    tmp_path_factory: pytest.TempPathFactory, montpellier_footprints: Path
) -> SampleBuild:
    """Build a real sample with the given options, once per session and options."""
    inputs = {
        "delft": BuildInputs(laz=DELFT_LAZ, laz_crs=DELFT_CRS, buildings=DELFT_FOOTPRINTS),
        "montpellier": BuildInputs(dsm=[MONTPELLIER_DSM], buildings=montpellier_footprints),
        "burgundy": BuildInputs(laz=[BURGUNDY_LAZ], buildings=BURGUNDY_FOOTPRINTS),
    }
    built: dict[tuple[str, BuildOptions], BuildSummary] = {}

    def build(name: str, options: BuildOptions | None = None) -> BuildSummary:
        key = (name, options or BuildOptions())
        if key not in built:
            out = tmp_path_factory.mktemp(f"{name}_build") / f"{name}.gpkg"
            built[key] = build_cadastre(inputs[name], out=out, options=key[1])
        return built[key]

    return build


@pytest.fixture(scope="session")
def delft_build(sample_build: SampleBuild) -> BuildSummary:
    """Delft with the default options."""
    return sample_build("delft")


@pytest.fixture(scope="session")
def montpellier_build(sample_build: SampleBuild) -> BuildSummary:
    """Montpellier with the default options."""
    return sample_build("montpellier")


@pytest.fixture(scope="session")
def burgundy_build(sample_build: SampleBuild) -> BuildSummary:
    """Burgundy with the default options."""
    return sample_build("burgundy")


@pytest.fixture(scope="session")
def delft_surface() -> tuple[Surface, tuple[Footprint, ...]]:
    """Delft rasterised whole at 0.5 m, and the footprints that stand on it."""
    surface = rasterize_laz(DELFT_LAZ, crs=DELFT_CRS)
    inside, _ = select_within(
        read_footprints(DELFT_FOOTPRINTS, target_crs=surface.crs), surface.bounds
    )
    return surface, inside
