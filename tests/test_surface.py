"""Surface readers: DSM GeoTIFFs (merge, hole filling, bad input) and LAS/LAZ rasterisation."""

from __future__ import annotations

from pathlib import Path

import laspy
import numpy as np
import pyproj
import pytest
import rasterio
from affine import Affine
from rasterio.transform import from_origin
from rasterio.windows import Window

from solar import surface as surface_module
from solar.errors import InputError
from solar.resources import LIDAR_DIR
from solar.surface import rasterize_laz, read_dsm

MONTPELLIER = LIDAR_DIR / "ign_lidarhd_montpellier_77055_627760"
MONTPELLIER_DSM = MONTPELLIER / "DSM_test_data_77055_627760_LA93_IGN69_50CM.tif"
MONTPELLIER_LAZ = MONTPELLIER / "test_data_77055_627760_LA93_IGN69.laz"
DELFT_LAZ = [LIDAR_DIR / "delft_ahn3" / f"ahn3_cropped_{i}.laz" for i in (1, 2)]
BURGUNDY_LAZ = (
    LIDAR_DIR / "ign_lidarhd_burgundy_870000_6618000" / "870000_6618000.subset.postValidation.laz"
)


def write_tif(
    path: Path,
    array: np.ndarray,
    *,
    transform: Affine | None = None,
    crs: str | None = "EPSG:2154",
    nodata: float | None = -9999.0,
) -> Path:
    with rasterio.open(
        path,
        "w",
        driver="GTiff",
        width=array.shape[1],
        height=array.shape[0],
        count=1,
        dtype=array.dtype,
        crs=crs,
        transform=transform or from_origin(700_000.0, 7_000_000.0, 0.5, 0.5),
        nodata=nodata,
    ) as dataset:
        dataset.write(array, 1)
    return path


def plane(rows: int, cols: int) -> np.ndarray:
    """z = 5 + 0.1 col + 0.2 row: a tilted plane that linear interpolation reproduces. [m]"""
    row, col = np.mgrid[0:rows, 0:cols]
    return (5.0 + 0.1 * col + 0.2 * row).astype(np.float32)


# --- DSM GeoTIFF --------------------------------------------------------------------------


def test_montpellier_dsm_as_rasterio_reads_it() -> None:
    surface = read_dsm([MONTPELLIER_DSM])
    with rasterio.open(MONTPELLIER_DSM) as dataset:
        raw = dataset.read(1)
        assert surface.transform == dataset.transform
        assert surface.shape == (dataset.height, dataset.width) == (100, 100)
        assert surface.bounds == tuple(dataset.bounds)
        nodata = raw == dataset.nodata
    assert surface.crs.to_epsg() == 2154
    assert surface.resolution == 0.5
    assert surface.elevation.dtype == np.float32
    assert surface.sources == (str(MONTPELLIER_DSM),)
    assert surface.ground is None and surface.building is None
    np.testing.assert_array_equal(surface.elevation[~nodata], raw[~nodata])
    # The file has 7 nodata cells along its top row.
    assert surface.filled_cells == nodata.sum() == 7
    assert np.isfinite(surface.elevation).all()
    # IGN69 heights of a Montpellier district: streets about 21 m, roofs up to about 40 m.
    assert 19.0 < surface.elevation.min() < 23.0
    assert 35.0 < surface.elevation.max() < 45.0


def test_fill_holes_false_keeps_nan() -> None:
    surface = read_dsm([MONTPELLIER_DSM], fill_holes=False)
    assert surface.filled_cells == 0
    assert np.isnan(surface.elevation).sum() == 7


def _halves(tmp_path: Path) -> list[Path]:
    with rasterio.open(MONTPELLIER_DSM) as dataset:
        profile = dataset.profile
        halves = []
        for name, window in (("north", Window(0, 0, 100, 50)), ("south", Window(0, 50, 100, 50))):
            path = tmp_path / f"{name}.tif"
            profile.update(height=50, transform=dataset.window_transform(window))
            with rasterio.open(path, "w", **profile) as out:
                out.write(dataset.read(1, window=window), 1)
            halves.append(path)
    return halves


def test_two_halves_merge_into_the_original(tmp_path: Path) -> None:
    halves = _halves(tmp_path)
    whole = read_dsm([MONTPELLIER_DSM], fill_holes=False)
    for order in (halves, halves[::-1]):
        merged = read_dsm(order, fill_holes=False)
        assert merged.transform == whole.transform
        np.testing.assert_array_equal(merged.elevation, whole.elevation)
    filled = read_dsm(halves)
    assert filled.filled_cells == 7
    np.testing.assert_allclose(filled.elevation, read_dsm([MONTPELLIER_DSM]).elevation, atol=1e-5)


def test_a_window_of_a_mosaic_snaps_to_its_grid(tmp_path: Path) -> None:
    halves = _halves(tmp_path)
    whole = read_dsm([MONTPELLIER_DSM], fill_holes=False)
    xmin, _, _, ymax = whole.bounds
    # 10.3 m from the west edge, 20.1 m below the north edge, 15 m by 12 m: the window
    # widens to whole 0.5 m pixels, so it starts at column 20 and row 40
    bounds = (xmin + 10.3, ymax - 32.1, xmin + 25.3, ymax - 20.1)
    window = read_dsm(halves, bounds=bounds, fill_holes=False)
    assert window.transform.c == xmin + 10.0 and window.transform.f == ymax - 20.0
    assert window.shape == (25, 31)
    np.testing.assert_array_equal(window.elevation, whole.elevation[40:65, 20:51])
    # a window inside the north half reads only that file
    north = read_dsm(halves, bounds=(xmin, ymax - 10.0, xmin + 5.0, ymax), fill_holes=False)
    assert north.sources == (str(halves[0]),)


def test_dsm_extent_reads_the_headers_only(tmp_path: Path) -> None:
    halves = _halves(tmp_path)
    crs, bounds, resolution = surface_module.dsm_extent(halves)
    whole = read_dsm([MONTPELLIER_DSM])
    assert crs == whole.crs
    assert bounds == pytest.approx(whole.bounds)
    assert resolution == 0.5
    with pytest.raises(InputError, match="no DSM file covers"):
        read_dsm(halves, bounds=(0.0, 0.0, 10.0, 10.0))


def test_hole_filling_interpolates(tmp_path: Path) -> None:
    truth = plane(60, 60)
    array = truth.copy()
    singles = [(5, 5), (10, 30), (20, 20), (30, 45), (40, 12), (50, 50), (25, 7), (45, 33)]
    for r, c in singles:
        array[r, c] = -9999.0
    array[30:33, 20:23] = -9999.0  # a 3 × 3 hole
    holes = array == -9999.0
    surface = read_dsm([write_tif(tmp_path / "holes.tif", array)])
    assert surface.filled_cells == len(singles) + 9 == holes.sum()
    np.testing.assert_array_equal(surface.elevation[~holes], truth[~holes])
    # The harmonic fill reproduces a plane (float32 rounding aside); GDAL's inverse-distance
    # fill would be 0.08 m off on each single cell of this plane.
    np.testing.assert_allclose(surface.elevation[holes], truth[holes], atol=1e-4)


def test_large_holes_take_idw_then_the_nearest_value(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Only the first column is valid, and the hole counts as large: cells more than
    # FILL_MAX_SEARCH_DISTANCE px away are out of GDAL's reach and must still be filled.
    monkeypatch.setattr(surface_module, "HARMONIC_MAX_CELLS", 100)
    array = np.full((4, 300), -9999.0, dtype=np.float32)
    array[:, 0] = [10.0, 11.0, 12.0, 13.0]
    surface = read_dsm([write_tif(tmp_path / "strip.tif", array)])
    assert surface.filled_cells == 4 * 299
    assert np.isfinite(surface.elevation).all()
    far = int(surface_module.FILL_MAX_SEARCH_DISTANCE) + 10
    nearest = np.broadcast_to([[10.0], [11.0], [12.0], [13.0]], (4, 300 - far))
    np.testing.assert_array_equal(surface.elevation[:, far:], nearest)


def _truncated(tmp_path: Path) -> list[Path]:
    path = write_tif(tmp_path / "truncated.tif", plane(400, 400))
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    return [path]


def _mixed_crs(tmp_path: Path) -> list[Path]:
    return [
        write_tif(tmp_path / "a.tif", plane(10, 10)),
        write_tif(tmp_path / "b.tif", plane(10, 10), crs="EPSG:3949"),
    ]


def _mixed_resolution(tmp_path: Path) -> list[Path]:
    return [
        write_tif(tmp_path / "a.tif", plane(10, 10)),
        write_tif(tmp_path / "b.tif", plane(10, 10), transform=from_origin(700_005, 7e6, 1, 1)),
    ]


BAD_DSM = {
    "wgs84": (
        lambda p: [
            write_tif(
                p / "wgs84.tif",
                plane(10, 10),
                crs="EPSG:4326",
                transform=from_origin(2.8, 50.4, 1e-5, 1e-5),
            )
        ],
        "geographic CRS EPSG:4326",
    ),
    "us_feet": (
        lambda p: [write_tif(p / "feet.tif", plane(10, 10), crs="EPSG:2249")],
        "US survey foot",
    ),
    "no_crs": (lambda p: [write_tif(p / "nocrs.tif", plane(10, 10), crs=None)], "no coordinate"),
    "truncated": (_truncated, "truncated"),
    "truncated_second": (
        lambda p: [write_tif(p / "good.tif", plane(10, 10)), *_truncated(p)],
        "truncated",
    ),
    "not_a_raster": (
        lambda p: [p / "a.tif"] if (p / "a.tif").write_text("hello") else [],
        "cannot read the raster",
    ),
    "missing": (lambda p: [p / "missing.tif"], "cannot read the raster"),
    "mixed_crs": (_mixed_crs, "EPSG:3949 differs"),
    "mixed_resolution": (_mixed_resolution, "pixel size 1.0 m differs from 0.5 m"),
    "rotated": (
        lambda p: [
            write_tif(p / "rot.tif", plane(10, 10), transform=Affine(0.5, 0.1, 7e5, 0.1, -0.5, 7e6))
        ],
        "rotated",
    ),
    "non_square": (
        lambda p: [
            write_tif(p / "rect.tif", plane(10, 10), transform=from_origin(7e5, 7e6, 0.5, 1))
        ],
        "non-square",
    ),
    "all_nodata": (
        lambda p: [write_tif(p / "void.tif", np.full((10, 10), -9999.0, dtype=np.float32))],
        "every cell is nodata",
    ),
    "all_float32_minimum": (
        lambda p: [
            write_tif(
                p / "void.tif", np.full((10, 10), F32_MIN, dtype=np.float32), nodata=float(F32_MIN)
            )
        ],
        "every cell is nodata",
    ),
    "nearly_square": (
        # 0.2 % apart, twice the tolerance
        lambda p: [
            write_tif(p / "rect.tif", plane(10, 10), transform=from_origin(7e5, 7e6, 0.5, 0.501))
        ],
        "non-square",
    ),
}


@pytest.mark.parametrize("case", BAD_DSM)
def test_bad_dsm_names_the_file(tmp_path: Path, case: str) -> None:
    make, message = BAD_DSM[case]
    paths = make(tmp_path)
    with pytest.raises(InputError, match=message) as excinfo:
        read_dsm(paths)
    # The last file is the one at fault in every case.
    assert str(paths[-1]) in str(excinfo.value)
    assert excinfo.value.source == str(paths[-1])


F32_MIN = np.finfo(np.float32).min  # -3.4028235e38, the fill value of many GIS exports

NODATA_CASES = {
    # fill value written in the cells, nodata in the file's metadata
    "float32_minimum": (F32_MIN, float(F32_MIN)),
    "float32_minimum_without_metadata": (F32_MIN, None),
    "minus_9999_without_metadata": (-9999.0, None),
    "minus_99999": (-99999.0, -99999.0),
    "nan_without_metadata": (np.nan, None),
    "nan": (np.nan, float("nan")),
    # a fill value the metadata names, above the floor
    "zero_declared": (0.0, 0.0),
}


@pytest.mark.parametrize("case", NODATA_CASES)
def test_nodata_from_the_metadata_nan_and_fill_values(tmp_path: Path, case: str) -> None:
    fill, nodata = NODATA_CASES[case]
    truth = plane(20, 30)
    array = truth.copy()
    array[5:12, 8:20] = fill
    path = write_tif(tmp_path / "dsm.tif", array, nodata=nodata)
    raw = read_dsm([path], fill_holes=False)
    assert np.isnan(raw.elevation).sum() == 7 * 12
    assert np.isnan(raw.elevation[5:12, 8:20]).all()
    # the harmonic fill reproduces the plane through the hole
    surface = read_dsm([path])
    assert surface.filled_cells == 7 * 12
    np.testing.assert_allclose(surface.elevation, truth, atol=1e-4)
    # a window of the file (rows 0-9, columns 4-23) reads the same cells: rows 5-9 of the hole
    window = read_dsm([path], fill_holes=False, bounds=(700_002.0, 6_999_995.0, 700_012.0, 7e6))
    assert window.shape == (10, 20)
    assert np.isnan(window.elevation).sum() == 5 * 12
    assert np.isnan(window.elevation[5:, 4:16]).all()


def test_pixels_within_a_tenth_of_a_percent_of_square(tmp_path: Path) -> None:
    # 0.5 m wide, 0.50005 m high (0.01 % apart): read on square pixels of the mean size.
    truth = plane(40, 40)
    path = write_tif(tmp_path / "dsm.tif", truth, transform=from_origin(7e5, 7e6, 0.5, 0.50005))
    surface = read_dsm([path])
    assert surface.resolution == pytest.approx(0.500025, abs=1e-9)
    assert surface.transform.e == -surface.transform.a
    assert surface.shape == (40, 40)
    # nearest neighbour onto a grid 0.01 % finer: every cell keeps its own value
    np.testing.assert_allclose(surface.elevation, truth, atol=1e-6)
    _, _, resolution = surface_module.dsm_extent([path])
    assert resolution == pytest.approx(0.500025, abs=1e-9)


def test_footprints_on_nodata_are_an_error_naming_the_file(tmp_path: Path) -> None:
    # A 10 m × 10 m DSM whose east half is the float32 minimum, declared in the metadata.
    array = plane(20, 20)
    array[:, 10:] = F32_MIN
    path = write_tif(tmp_path / "east_void.tif", array, nodata=float(F32_MIN))
    other = write_tif(
        tmp_path / "far.tif", plane(20, 20), transform=from_origin(710_000.0, 7e6, 0.5, 0.5)
    )
    source = surface_module.DsmSource.open([path, other])
    east = np.array([[700_006.0, 6_999_995.0], [700_009.0, 6_999_991.0]])
    with pytest.raises(InputError, match="no elevation where the footprints lie") as excinfo:
        source.check_covers(east)
    # the file under the footprints, not the other one
    assert excinfo.value.source == str(path)
    west = np.array([[700_002.0, 6_999_995.0]])
    source.check_covers(np.vstack([east, west]))
    source.check_covers(np.zeros((0, 2)))


def test_no_dsm_file() -> None:
    with pytest.raises(InputError, match="no DSM file"):
        read_dsm([])


# --- LAS/LAZ -------------------------------------------------------------------------------


def write_las(
    path: Path,
    points: list[tuple[float, float, float, int]],
    *,
    crs: str | None = "EPSG:2154",
    withheld: list[bool] | None = None,
) -> Path:
    """A LAS 1.4 file (point format 6) with (x, y, z, class) points, in the given order."""
    header = laspy.LasHeader(point_format=6, version="1.4")
    header.scales = np.array([0.001, 0.001, 0.001])
    header.offsets = np.array([1000.0, 2000.0, 0.0])
    if crs is not None:
        header.add_crs(pyproj.CRS.from_user_input(crs))
    las = laspy.LasData(header)
    xyzc = np.array(points)
    las.x, las.y, las.z = xyzc[:, 0], xyzc[:, 1], xyzc[:, 2]
    las.classification = xyzc[:, 3].astype(np.uint8)
    if withheld is not None:
        las.withheld = np.array(withheld)
    las.write(path)
    return path


# Grid at 0.5 m: x 1000.0 .. 1002.0 (4 columns, the point at x = 1002.0 joins the last one),
# y 2000.0 .. 2001.0 (2 rows, the point at y = 2000.0 joins the last one).
SYNTHETIC = [
    (1000.1, 2000.9, 12.0, 6),  # cell (0, 0): building on top...
    (1000.2, 2000.8, 10.0, 2),  # ... of ground, read after it
    (1000.3, 2000.7, 50.0, 7),  # low noise, left out
    (1000.4, 2000.6, 60.0, 18),  # high noise, left out
    (1000.6, 2000.9, 8.0, 5),  # cell (0, 1): high vegetation...
    (1000.7, 2000.8, 3.0, 2),  # ... over ground
    (1000.8, 2000.7, 70.0, 65),  # IGN artefact, left out
    (1001.1, 2000.6, 1.0, 2),  # cell (0, 2): ground only
    (1002.0, 2000.0, 4.0, 1),  # cell (1, 3): unclassified, on the east and south edges
    (1000.1, 2000.1, 90.0, 6),  # cell (1, 0): withheld, left out
]
SYNTHETIC_WITHHELD = [False] * 9 + [True]


def test_highest_return_and_its_class(tmp_path: Path) -> None:
    path = write_las(tmp_path / "tiny.las", SYNTHETIC, withheld=SYNTHETIC_WITHHELD)
    surface = rasterize_laz([path])
    assert surface.shape == (2, 4)
    assert surface.transform == Affine(0.5, 0.0, 1000.0, 0.0, -0.5, 2001.0)
    assert surface.crs.to_epsg() == 2154
    z = surface.elevation
    assert (z[0, 0], z[0, 1], z[0, 2], z[1, 3]) == (12.0, 8.0, 1.0, 4.0)
    expected_building = np.array([[1, 0, 0, 0], [0, 0, 0, 0]], dtype=bool)
    expected_vegetation = np.array([[0, 1, 0, 0], [0, 0, 0, 0]], dtype=bool)
    expected_ground = np.array([[0, 0, 1, 0], [0, 0, 0, 0]], dtype=bool)
    np.testing.assert_array_equal(surface.building, expected_building)
    np.testing.assert_array_equal(surface.vegetation, expected_vegetation)
    np.testing.assert_array_equal(surface.ground, expected_ground)
    # Cells (0, 3), (1, 0), (1, 1), (1, 2) had no kept point: filled, in no mask.
    assert surface.filled_cells == 4
    assert np.isfinite(z).all()
    assert z.max() == 12.0  # neither noise, artefact nor withheld points reached the surface


def test_chunks_do_not_change_the_result(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write_las(tmp_path / "tiny.las", SYNTHETIC, withheld=SYNTHETIC_WITHHELD)
    whole = rasterize_laz([path])
    # One point per chunk: the ground point under the roof comes in a later chunk than the
    # roof point and must not take the cell's class.
    monkeypatch.setattr(surface_module, "LAZ_CHUNK_POINTS", 1)
    chunked = rasterize_laz([path])
    np.testing.assert_array_equal(chunked.elevation, whole.elevation)
    np.testing.assert_array_equal(chunked.building, whole.building)
    np.testing.assert_array_equal(chunked.ground, whole.ground)


def test_resolution_changes_the_grid(tmp_path: Path) -> None:
    path = write_las(tmp_path / "tiny.las", SYNTHETIC, withheld=SYNTHETIC_WITHHELD)
    coarse = rasterize_laz([path], resolution=1.0)
    assert coarse.resolution == 1.0
    assert coarse.shape == (1, 2)
    assert coarse.elevation[0, 0] == 12.0
    with pytest.raises(InputError, match="positive"):
        rasterize_laz([path], resolution=0.0)


def test_unknown_laz_crs(tmp_path: Path) -> None:
    path = write_las(tmp_path / "tiny.las", SYNTHETIC, crs=None)
    with pytest.raises(InputError, match="not a known CRS: 'EPSG:999999'"):
        rasterize_laz([path], crs="EPSG:999999")


def test_header_crs_wins_over_the_option(tmp_path: Path) -> None:
    path = write_las(tmp_path / "tiny.las", SYNTHETIC)
    assert rasterize_laz([path], crs="EPSG:28992").crs.to_epsg() == 2154


def test_several_files_merge(tmp_path: Path) -> None:
    west = write_las(tmp_path / "west.las", [(1000.1, 2000.9, 5.0, 2), (1000.9, 2000.1, 6.0, 6)])
    east = write_las(tmp_path / "east.las", [(1003.1, 2000.9, 7.0, 6), (1003.9, 2000.1, 8.0, 2)])
    surface = rasterize_laz([west, east])
    assert surface.bounds == (1000.0, 2000.0, 1004.0, 2001.0)
    assert surface.elevation[0, 0] == 5.0 and surface.elevation[1, 7] == 8.0
    assert surface.building[1, 1] and surface.building[0, 6]
    assert surface.sources == (str(west), str(east))


@pytest.mark.parametrize(
    ("crs", "message"),
    [("EPSG:4326", "geographic CRS"), (None, "--laz-crs")],
)
def test_bad_laz_crs(tmp_path: Path, crs: str | None, message: str) -> None:
    path = write_las(tmp_path / "bad.las", [(1000.1, 2000.9, 5.0, 2)], crs=crs)
    with pytest.raises(InputError, match=message) as excinfo:
        rasterize_laz([path])
    assert excinfo.value.source == str(path)


def test_mixed_laz_crs(tmp_path: Path) -> None:
    a = write_las(tmp_path / "a.las", [(1000.1, 2000.9, 5.0, 2)])
    b = write_las(tmp_path / "b.las", [(1000.1, 2000.9, 5.0, 2)], crs="EPSG:3949")
    with pytest.raises(InputError, match="differs") as excinfo:
        rasterize_laz([a, b])
    assert excinfo.value.source == str(b)


@pytest.mark.parametrize("content", [b"LASF but not really", b"", None])
def test_unreadable_laz(tmp_path: Path, content: bytes | None) -> None:
    path = tmp_path / "broken.laz"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(InputError, match="cannot read") as excinfo:
        rasterize_laz([path], crs="EPSG:2154")
    assert str(path) in str(excinfo.value)


def test_truncated_laz(tmp_path: Path) -> None:
    path = tmp_path / "cut.laz"
    data = BURGUNDY_LAZ.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(InputError, match="cannot read") as excinfo:
        rasterize_laz([path])
    assert str(path) in str(excinfo.value)


def test_delft_ahn3_needs_laz_crs() -> None:
    with pytest.raises(InputError, match="--laz-crs") as excinfo:
        rasterize_laz(DELFT_LAZ)
    assert str(DELFT_LAZ[0]) in str(excinfo.value)


def test_delft_ahn3() -> None:
    surface = rasterize_laz(DELFT_LAZ, crs="EPSG:28992")
    assert surface.crs.to_epsg() == 28992
    assert surface.resolution == 0.5
    # Header bounds: x 84808.3 .. 85072.299, y 447412.8 .. 447641.299 (both files).
    assert surface.bounds == (84808.0, 447412.5, 85072.5, 447641.5)
    # The highest point of both files (header max z), none of them noise.
    assert surface.elevation.max() == pytest.approx(26.329, abs=1e-3)
    share = surface.building.mean()
    assert 0.2 < share < 0.6
    assert surface.ground.mean() > 0.1
    # AHN3 has no vegetation classes (1, 2, 6, 9, 26 only).
    assert not surface.vegetation.any()
    # Delft row-house roofs, NAP heights: eaves about 6 m, ridges about 10–15 m.
    roofs = surface.elevation[surface.building]
    assert 5.0 < np.median(roofs) < 12.0
    assert np.median(surface.elevation[surface.ground]) < 1.5


def test_burgundy_lidar_hd() -> None:
    surface = rasterize_laz([BURGUNDY_LAZ])
    assert surface.crs.to_epsg() == 2154
    assert surface.building.any() and surface.ground.any()
    # This lidar-prod subset carries classes 1, 2, 6, 208 and 214: no vegetation class.
    assert not surface.vegetation.any()
    assert (
        np.median(surface.elevation[surface.building])
        > np.median(surface.elevation[surface.ground]) + 2.0
    )


def test_montpellier_laz_matches_ign_dsm() -> None:
    surface = rasterize_laz([MONTPELLIER_LAZ])
    assert surface.crs.to_epsg() == 2154
    assert surface.bounds == (770550.0, 6277550.0, 770600.0, 6277600.0)
    assert surface.vegetation.any() and surface.building.any()
    assert surface.vegetation.mean() > 0.1
    assert surface.building.mean() > 0.1
    # IGN's own DSM of the same points has its pixel centres on our pixel corners: shift it
    # by one row and column, leaving a half-pixel offset, and compare.
    ign = read_dsm([MONTPELLIER_DSM])
    difference = surface.elevation[:-1, :-1] - ign.elevation[1:, 1:]
    assert np.median(np.abs(difference)) < 0.3
