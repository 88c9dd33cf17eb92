"""Every building and roof-face polygon written to a cadastre is valid (OGC), on every real
sample and on the demo, which reprojects them all to Lambert-93."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyogrio
import pytest
import shapely

from solar import demo, roofs
from solar.build import BuildSummary
from solar.footprints import Footprint
from solar.surface import Surface
from tests.conftest import SampleBuild

LAYERS = ("buildings", "roof_faces")


def written_geometries(path: Path, layer: str) -> np.ndarray:
    """The layer's geometries as GDAL reads them back from the GeoPackage."""
    _, _, wkb, _ = pyogrio.raw.read(path, layer=layer)
    return shapely.from_wkb(wkb)


def assert_all_valid(path: Path) -> None:
    for layer in LAYERS:
        geometries = written_geometries(path, layer)
        assert len(geometries) > 0, layer
        invalid = ~shapely.is_valid(geometries)
        reasons = [shapely.is_valid_reason(g) for g in geometries[invalid][:3]]
        assert not invalid.any(), f"{layer}: {invalid.sum()} invalid, e.g. {reasons}"
        assert (shapely.area(geometries) > 0.0).all(), layer


@pytest.mark.slow
@pytest.mark.parametrize("sample", ["delft", "montpellier", "burgundy"])
def test_every_sample_writes_valid_polygons(sample_build: SampleBuild, sample: str) -> None:
    summary: BuildSummary = sample_build(sample)
    assert_all_valid(summary.path)


@pytest.mark.slow
def test_the_demo_writes_valid_polygons(tmp_path_factory: pytest.TempPathFactory) -> None:
    """The demo merges the samples into Lambert-93: the reprojection must not break them."""
    folder = tmp_path_factory.mktemp("demo_geometry")
    built = demo.build_demo(folder)
    assert_all_valid(built.path)


@pytest.mark.slow
def test_snap_rounding_keeps_the_face_areas(
    delft_surface: tuple[Surface, tuple[Footprint, ...]], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Faces clipped by snap-rounding have the areas of a plain clip, within 0.5 %."""
    surface, footprints = delft_surface
    rounded = {f.face_id: f.polygon for f in roofs.segment_roofs(surface, footprints)}
    monkeypatch.setattr(roofs, "FACE_GRID", None)  # a plain floating-point overlay
    plain = {f.face_id: f.polygon for f in roofs.segment_roofs(surface, footprints)}
    assert rounded.keys() == plain.keys()
    ids = list(plain)
    before = shapely.area([plain[i] for i in ids])
    after = shapely.area([rounded[i] for i in ids])
    np.testing.assert_allclose(after, before, rtol=0.005)
    # The plain clip leaves edges 1e-11 m apart, which the rounding of a reprojection
    # crosses; snap-rounded, non-adjacent edges stay far apart.
    assert (shapely.minimum_clearance([plain[i] for i in ids]) < 1e-9).any()
    assert (shapely.minimum_clearance([rounded[i] for i in ids]) > 1e-5).all()
