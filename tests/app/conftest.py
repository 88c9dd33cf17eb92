"""A small cadastre built in the test session, and the app serving it.

Two real builds, merged into one cadastre in Lambert-93 as the demo merges its samples:

- **Lens**: four analytic buildings of :mod:`tests.scenes` (two gables, a flat roof, a hip
  roof) composed side by side on one grid inside the commune of Lens, with six BAN
  addresses. The addresses go the real way: written as a gzipped BAN file, read back with
  ``read_ban`` and linked to the footprints by the build.
- **Burgundy**: the IGN LiDAR HD sample (its classified LAZ and its BD UNI footprints),
  with two BAN addresses of Louhans on two of its buildings.

The tests compare the API with what ``Cadastre`` reads from the file, or with the true
geometry of the scenes, never with numbers computed the way the code under test does.
"""

from __future__ import annotations

import shutil
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyproj
import pytest
import shapely
import uvicorn
from affine import Affine
from fastapi import FastAPI
from fastapi.testclient import TestClient
from playwright.sync_api import Page, Route, sync_playwright
from rasterio.crs import CRS

from app.main import create_app
from app.settings import Settings
from solar.addresses import Address, make_label, read_ban, write_ban_csv
from solar.build import Territory, build_from_surface
from solar.cadastre import merge_cadastres
from solar.footprints import Footprint, read_footprints, select_within
from solar.resources import DATA_DIR
from solar.surface import Surface, rasterize_laz
from solar.vectortiles import write_archive
from tests import scenes

LAMBERT93 = CRS.from_epsg(2154)
DATA = DATA_DIR
BURGUNDY = DATA / "lidar" / "ign_lidarhd_burgundy_870000_6618000"
BURGUNDY_LAZ = BURGUNDY / "870000_6618000.subset.postValidation.laz"
BURGUNDY_FOOTPRINTS = BURGUNDY / "870000_6618000.subset.postIA.shp"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
"""Debian's Chromium, which Playwright drives (its own browser download is not reachable)."""


@dataclass(frozen=True)
class Placed:
    """One analytic building placed on the Lens grid.

    Attributes
    ----------
    building_id : str
    scene : tests.scenes.Scene
        As built around ``scenes.CENTRE``.
    offset : tuple of float
        Translation from the scene's own place to its place on the Lens grid. [m]
    """

    building_id: str
    scene: scenes.Scene
    offset: tuple[float, float]

    @property
    def footprint(self) -> Footprint:
        return Footprint(
            self.building_id,
            shapely.affinity.translate(self.scene.footprint.geometry, *self.offset),
        )


#: North-west corner of the Lens grid, in Lens (INSEE 62498), Lambert-93 [m]. Each scene
#: takes a 40 m square; the grid holds four of them from west to east.
LENS_ORIGIN = (687_180.0, 7_037_820.0)
_SCENE_SIDE = 40.0


def _placed(index: int, building_id: str, scene: scenes.Scene) -> Placed:
    x0, y0 = scene.surface.transform.c, scene.surface.transform.f
    offset = (LENS_ORIGIN[0] + _SCENE_SIDE * index - x0, LENS_ORIGIN[1] - y0)
    return Placed(building_id, scene, offset)


#: The Lens buildings: A's first face looks south, B's west, D's first long face south.
LENS_BUILDINGS = (
    _placed(0, "BAT_GABLE_A", scenes.gable(35.0, 180.0, seed=11)),
    _placed(1, "BAT_GABLE_B", scenes.gable(30.0, 270.0, seed=12)),
    _placed(2, "BAT_FLAT_C", scenes.flat(seed=13)),
    _placed(3, "BAT_HIP_D", scenes.hip(30.0, 180.0, seed=14)),
)
BUILDING_IDS = tuple(b.building_id for b in LENS_BUILDINGS)

#: (id, numero, rep, street, x, y) in Lambert-93 [m]: each point is inside a footprint of
#: LENS_BUILDINGS (A: 687194–687206 × 7037796–7037804, B: 687236–687244 × 7037794–7037806,
#: C: 687274–687286 × 7037795–7037805, D: 687313–687327 × 7037796–7037804) except the
#: last one, in a garden north of B and C with no building under it.
ADDRESS_ROWS = (
    ("62498_0540_00012", 12, "", "Rue Jean Jaurès", 687_203.0, 7_037_801.0),
    ("62498_0540_00012_bis", 12, "bis", "Rue Jean Jaurès", 687_241.0, 7_037_803.0),
    ("62498_0540_00120", 120, "", "Rue Jean Jaurès", 687_283.0, 7_037_798.0),
    ("62498_0541_00003", 3, "", "Avenue du Maréchal Foch", 687_238.0, 7_037_797.0),
    ("62498_0542_00007", 7, "", "Rue Saint-Éloi", 687_322.0, 7_037_799.0),
    ("62498_0543_00005", 5, "", "Boulevard Émile Basly", 687_260.0, 7_037_815.0),
)
#: Which building each Lens address stands on.
ADDRESS_BUILDING = {
    "62498_0540_00012": "BAT_GABLE_A",
    "62498_0540_00012_bis": "BAT_GABLE_B",
    "62498_0540_00120": "BAT_FLAT_C",
    "62498_0541_00003": "BAT_GABLE_B",
    "62498_0542_00007": "BAT_HIP_D",
    "62498_0543_00005": None,
}
NO_BUILDING_ADDRESS = "62498_0543_00005"

#: (id, numero, street, building id): two addresses of the Burgundy sample, each placed
#: inside its building's footprint by the fixture. The BD UNI file has no id field: the ids
#: are derived from the geometries of its features 16 and 8 (solar.footprints.geometry_ids).
BURGUNDY_ROWS = (
    ("71263_0210_00014", 14, "Grande Rue", "gadd79213a626d9cc"),
    ("71263_0211_00003", 3, "Rue des Bordes", "g4c312ab113479159"),
)
N_ADDRESSES = len(ADDRESS_ROWS) + len(BURGUNDY_ROWS)

_TO_WGS84 = pyproj.Transformer.from_crs(2154, 4326, always_xy=True)


def _address(
    address_id: str,
    numero: int,
    rep: str,
    street: str,
    town: tuple[str, str, str],
    x: float,
    y: float,
) -> Address:
    """A BAN row at (x, y) Lambert-93, with its WGS84 position as the BAN publishes it."""
    code_postal, code_insee, nom_commune = town
    lon, lat = _TO_WGS84.transform(x, y)
    return Address(
        address_id=address_id,
        label=make_label(numero, rep, street, code_postal, nom_commune),
        numero=numero,
        rep=rep,
        nom_voie=street,
        code_postal=code_postal,
        code_insee=code_insee,
        nom_commune=nom_commune,
        x=x,
        y=y,
        lon=lon,
        lat=lat,
    )


def lens_addresses() -> tuple[Address, ...]:
    """The Lens BAN rows of ADDRESS_ROWS."""
    lens = ("62300", "62498", "Lens")
    return tuple(
        _address(i, n, rep, street, lens, x, y) for i, n, rep, street, x, y in ADDRESS_ROWS
    )


def burgundy_addresses() -> tuple[Address, ...]:
    """The Louhans BAN rows of BURGUNDY_ROWS, each inside its BD UNI footprint."""
    footprints = {
        f.building_id: f.geometry
        for f in read_footprints(BURGUNDY_FOOTPRINTS, target_crs=LAMBERT93).footprints
    }
    louhans = ("71500", "71263", "Louhans")
    out = []
    for address_id, numero, street, building_id in BURGUNDY_ROWS:
        point = shapely.point_on_surface(footprints[building_id])
        out.append(_address(address_id, numero, "", street, louhans, point.x, point.y))
    return tuple(out)


def lens_surface() -> Surface:
    """The four scenes side by side on one 0.5 m grid (each keeps its own noise)."""
    elevation = np.concatenate([b.scene.surface.elevation for b in LENS_BUILDINGS], axis=1)
    resolution = scenes.RESOLUTION
    return Surface(
        elevation=elevation,
        transform=Affine(resolution, 0.0, LENS_ORIGIN[0], 0.0, -resolution, LENS_ORIGIN[1]),
        crs=LAMBERT93,
    )


@pytest.fixture(scope="session")
def ban_paths(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The session's addresses as two gzipped BAN files, one per department."""
    folder = tmp_path_factory.mktemp("ban")
    return {
        "lens": write_ban_csv(lens_addresses(), folder / "adresses-62.csv.gz"),
        "burgundy": write_ban_csv(burgundy_addresses(), folder / "adresses-71.csv.gz"),
    }


@pytest.fixture(scope="session")
def cadastre_path(tmp_path_factory: pytest.TempPathFactory, ban_paths: dict[str, Path]) -> Path:
    """The session cadastre: the Lens scenes and the Burgundy sample, built and merged."""
    folder = tmp_path_factory.mktemp("cadastre")
    lens = build_from_surface(
        Territory(
            lens_surface(),
            [b.footprint for b in LENS_BUILDINGS],
            addresses=read_ban(ban_paths["lens"], target_crs=LAMBERT93),
        ),
        out=folder / "lens.gpkg",
    )
    surface = rasterize_laz([BURGUNDY_LAZ])
    inside, _ = select_within(
        read_footprints(BURGUNDY_FOOTPRINTS, target_crs=surface.crs), surface.bounds
    )
    burgundy = build_from_surface(
        Territory(
            surface, inside, addresses=read_ban(ban_paths["burgundy"], target_crs=surface.crs)
        ),
        out=folder / "burgundy.gpkg",
    )
    return merge_cadastres([lens.path, burgundy.path], folder / "cadastre.gpkg", crs=LAMBERT93)


@pytest.fixture(scope="session")
def app(cadastre_path: Path) -> FastAPI:
    return create_app(Settings(path=cadastre_path))


@pytest.fixture(scope="session")
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app) as test_client:
        yield test_client


@dataclass
class OfflinePage:
    """A browser page held to the service alone.

    Attributes
    ----------
    page : playwright.sync_api.Page
    outside : list of str
        The requests that tried to leave the service, refused.
    errors : list of str
        The page's uncaught errors.
    """

    page: Page
    outside: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


@contextmanager
def offline_page(base_url: str, **context_options: Any) -> Iterator[OfflinePage]:
    """A page of headless Chromium that refuses every request not to ``base_url``.

    ``context_options`` go to ``Browser.new_context`` (``accept_downloads``, …).
    """
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True)
        try:
            opened = OfflinePage(browser.new_context(**context_options).new_page())

            def only_the_service(route: Route) -> None:
                if route.request.url.startswith(base_url):
                    route.continue_()
                else:
                    opened.outside.append(route.request.url)
                    route.abort()

            opened.page.on("pageerror", lambda error: opened.errors.append(str(error)))
            opened.page.route("**/*", only_the_service)
            yield opened
        finally:
            browser.close()


@contextmanager
def served(app: FastAPI, *, start_seconds: float = 10.0) -> Iterator[str]:
    """``app`` served by uvicorn on a free loopback port, for a real browser; yields its URL.

    ``start_seconds`` is how long the server may take to start. [s]
    """
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        for _ in range(round(start_seconds / 0.05)):
            if server.started:
                break
            thread.join(0.05)
        assert server.started, "uvicorn did not start"
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()


@pytest.fixture(scope="session")
def mapped_cadastre_path(tmp_path_factory: pytest.TempPathFactory, cadastre_path: Path) -> Path:
    """A copy of the session cadastre with its map sources beside it, as a build leaves
    them: the roofs' vector tiles, and the irradiation rasters of the two builds merged
    into it (named as parts of the merged cadastre)."""
    folder = tmp_path_factory.mktemp("mapped")
    for source in cadastre_path.parent.glob(f"{cadastre_path.name}*"):
        shutil.copy2(source, folder / source.name)
    mapped = folder / cadastre_path.name
    for raster in sorted(cadastre_path.parent.glob("*.irradiation.tif")):
        part = raster.name.removesuffix(".irradiation.tif")
        shutil.copy2(raster, folder / f"{mapped.stem}.irradiation-{part}.tif")
    write_archive(mapped)
    return mapped
