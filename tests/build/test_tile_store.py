"""A tile's result written to the work folder and read back is the result it was."""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import shapely

from solar.build.run import TileStore
from solar.build.tile import TileResult
from solar.build.tiles import Tile
from solar.cadastre import FaceProfiles, FaceRecord
from solar.footprints import Footprint
from solar.reconcile import FootprintCheck


def _face(k: int, geometry: shapely.Geometry | None) -> FaceRecord:
    return FaceRecord(
        building_id=f"b{k // 2}",
        face_id=f"b{k // 2}-{k % 2}",
        tilt_deg=30.0 + k / 7,
        azimuth_deg=None if k % 3 == 0 else 180.0 - k / 3,
        is_flat=k % 3 == 0,
        area_m2=40.0 + k / 11,
        usable_area_m2=20.0,
        irradiation_kwh_m2_yr=1000.0 + k / 13,
        shading_loss_pct=2.5,
        panels=k,
        kwc=0.425 * k,
        production_kwh_yr=400.0 * k,
        specific_yield_kwh_kwc=941.2,
        suitability="good",
        geometry=geometry,
        production_monthly_kwh=tuple(float(m + k) for m in range(12)),
        irradiation_monthly_kwh_m2=tuple(m / 3 for m in range(12)),
        part_id="p1" if k == 4 else None,
        roof_irradiation_kwh_m2_yr=990.0 + k / 17,
    )


def test_a_saved_result_loads_as_the_very_same_records(tmp_path: Path) -> None:
    """Polygons with holes, multipolygons, 3D and empty outlines, and a face with none:
    the records load equal, coordinates to the bit, attributes in their order."""
    rng = np.random.default_rng(4)
    outlines = [
        shapely.Polygon([*rng.uniform(0, 1e6, (5, 2)).tolist(), [0.1, 0.2]]),
        shapely.box(685000.123456789, 7031000.987654321, 685010.5, 7031020.25).difference(
            shapely.box(685002, 7031002, 685003, 7031003)
        ),
        shapely.MultiPolygon([shapely.box(0, 0, 1, 1), shapely.box(2, 2, 3, 3)]),
        shapely.Polygon([(0, 0, 1.5), (1, 0, 2.5), (1, 1, 3.5)]),
        shapely.Polygon(),
        None,
    ]
    faces = [_face(k, g) for k, g in enumerate(outlines)]
    result = TileResult(
        faces=faces,
        checks=[FootprintCheck("b0", "shifted", (0.5, -0.25)), FootprintCheck("b1", "ok")],
        profiles=FaceProfiles([f.face_id for f in faces], [bytes([k]) * 5 for k in range(6)]),
        pixel_x=rng.uniform(0, 1e6, 50),
        pixel_y=rng.uniform(0, 1e6, 50),
        pixel_irradiation=rng.uniform(0, 1200, (50, 13)).astype(np.float32),
        seconds={"roofs": 1.5, "pv": 0.25},
        filled_cells=7,
        found=[Footprint("lidar-1", shapely.box(0, 0, 4, 4))],
    )
    store = TileStore.open(tmp_path / "c.gpkg")
    tile = Tile(0, (0.0, 0.0, 10.0, 10.0), (0, 0, 20, 20), ())
    store.save(tile, "key", result)
    loaded = store.load(tile, "key")
    store.close()

    assert type(loaded) is TileResult and loaded is not None
    assert loaded.faces == faces
    for back, face in zip(loaded.faces, faces, strict=True):
        assert type(back) is FaceRecord
        assert list(back.__dict__) == list(face.__dict__)
        if face.geometry is None:
            assert back.geometry is None
        else:
            assert shapely.equals_identical(back.geometry, face.geometry)
            assert shapely.get_type_id(back.geometry) == shapely.get_type_id(face.geometry)
    assert loaded.checks == result.checks
    ((found,), (expected,)) = (loaded.found, result.found)
    assert found.building_id == expected.building_id
    assert shapely.equals_identical(found.geometry, expected.geometry)
    assert list(loaded.profiles.face_ids) == list(result.profiles.face_ids)
    assert list(loaded.profiles.blobs) == list(result.profiles.blobs)
    for name in ("pixel_x", "pixel_y", "pixel_irradiation"):
        assert np.array_equal(getattr(loaded, name), getattr(result, name))
        assert getattr(loaded, name).dtype == getattr(result, name).dtype
    assert (loaded.seconds, loaded.filled_cells) == (result.seconds, result.filled_cells)
    # the file is an ordinary pickle: any reader loads it
    (saved,) = (tmp_path / "c.gpkg.work").glob("*.pkl")
    with saved.open("rb") as stream:
        assert pickle.load(stream).faces == faces
