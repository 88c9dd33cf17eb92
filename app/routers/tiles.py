"""Map tiles: the roofs as vector tiles, the irradiation as raster tiles, and their TileJSON.

Tiles are XYZ in Web Mercator (the scheme MapLibre, Leaflet and OpenLayers use). The page
reads each source's TileJSON, which states the zooms served; past ``maxzoom`` a map
enlarges the tiles of the last zoom itself.
"""

from __future__ import annotations

import gzip
from typing import Annotated, Any

from fastapi import APIRouter, Header, Path, Request, Response

from app import tiles
from app.dependencies import ServicesDep
from app.models import ErrorBody, TileJSON, VectorLayer
from solar.errors import NotFound
from solar.vectortiles import MEDIA_TYPE, valid_tile

router = APIRouter(
    prefix="/api/v1/tiles",
    tags=["map"],
    responses={
        404: {"model": ErrorBody, "description": "No such tile, zoom or tile source."},
        422: {"model": ErrorBody, "description": "z, x or y is not a whole number in range."},
    },
)

Zoom = Annotated[int, Path(ge=0, le=30, description="Zoom level.")]
Column = Annotated[int, Path(ge=0, description="Tile column, from the west: 0 ≤ x < 2^z.")]
Row = Annotated[int, Path(ge=0, description="Tile row, from the north: 0 ≤ y < 2^z.")]

_LAYER_DESCRIPTIONS = {
    "faces": "Roof faces: suitability code (see /api/v1/legend), kWc, irradiation "
    "[kWh/m²/an], flat or not.",
    "buildings": "Building footprints: suitability code, kWc of the faces worth equipping, "
    "footprint check.",
}
_EMPTY: dict[int | str, dict[str, Any]] = {204: {"description": "Nothing in this tile."}}


def _check_tile(z: int, x: int, y: int) -> None:
    # a 404 rather than a 422: the numbers are well-formed, that tile does not exist
    if not valid_tile(z, x, y):
        raise NotFound(f"no tile {x}/{y} at zoom {z}: x and y lie in [0, {(1 << z) - 1}]")


def _template(request: Request, path: str) -> str:
    # absolute: a map fetches tiles from a web worker, where a relative URL has no base
    return f"{str(request.base_url).rstrip('/')}{router.prefix}{path}"


def _archive(services: ServicesDep) -> tiles.MapSources:
    sources = tiles.map_sources(services.cadastre.path)
    if sources.archive is None:
        raise NotFound(
            f"no roof tiles beside this cadastre: {sources.archive_path.name} is missing; "
            f"write it with 'cadastre tiles --cadastre {services.cadastre.path.name}'"
        )
    return sources


@router.get("/roofs.json", response_model=TileJSON, summary="TileJSON of the roofs' tiles")
def roofs_tilejson(request: Request, services: ServicesDep) -> TileJSON:
    """The vector tile source of the roofs: its URL template, zooms, bounds and layers
    (`faces` and `buildings`, with their properties)."""
    archive = _archive(services).archive
    assert archive is not None
    west, south, east, north = archive.bounds
    return TileJSON(
        name="roofs",
        tiles=[_template(request, "/roofs/{z}/{x}/{y}.mvt")],
        minzoom=archive.min_zoom,
        maxzoom=archive.max_zoom,
        bounds=[west, south, east, north],
        center=[(west + east) / 2, (south + north) / 2, archive.min_zoom],
        vector_layers=[
            VectorLayer(
                id=layer["id"],
                fields=layer["fields"],
                minzoom=layer["minzoom"],
                maxzoom=layer["maxzoom"],
                description=_LAYER_DESCRIPTIONS.get(layer["id"], ""),
            )
            for layer in archive.metadata["vector_layers"]
        ],
    )


@router.get(
    "/roofs/{z}/{x}/{y}.mvt",
    response_class=Response,
    responses={
        200: {
            "content": {MEDIA_TYPE: {"schema": {"type": "string", "format": "binary"}}},
            "description": "A Mapbox Vector Tile (2.1), gzip-encoded when the client accepts it.",
        },
        **_EMPTY,
    },
    summary="Vector tile of the roofs",
)
def roof_tile(
    z: Zoom,
    x: Column,
    y: Row,
    services: ServicesDep,
    accept_encoding: Annotated[str | None, Header(include_in_schema=False)] = None,
) -> Response:
    """Layers `faces` (face_id, building_id, suitability, kwc, irradiation_kwh_m2_yr,
    is_flat) and `buildings` (building_id, suitability, kwc, footprint_check), read from
    the archive written at build time. 204 when no roof is in the tile."""
    _check_tile(z, x, y)
    archive = _archive(services).archive
    assert archive is not None
    if z > archive.max_zoom:
        raise NotFound(f"roof tiles stop at zoom {archive.max_zoom}: a map enlarges those past it")
    data = archive.get(z, x, y)
    if data is None:
        return Response(status_code=204)
    headers = {"vary": "Accept-Encoding"}
    if tiles.accepts_gzip(accept_encoding):
        headers["content-encoding"] = "gzip"
    else:
        data = gzip.decompress(data)
    return Response(data, media_type=MEDIA_TYPE, headers=headers)


def _rasters(services: ServicesDep) -> tiles.MapSources:
    sources = tiles.map_sources(services.cadastre.path)
    if not sources.rasters:
        raise NotFound(
            "no irradiation raster beside this cadastre (its build writes "
            f"{services.cadastre.path.stem}.irradiation.tif)"
        )
    return sources


@router.get(
    "/irradiation.json", response_model=TileJSON, summary="TileJSON of the irradiation tiles"
)
def irradiation_tilejson(request: Request, services: ServicesDep) -> TileJSON:
    """The raster tile source of the roofs' annual irradiation, coloured with the ramp of
    /api/v1/legend."""
    sources = _rasters(services)
    assert sources.raster_bounds is not None
    west, south, east, north = sources.raster_bounds
    return TileJSON(
        name="irradiation",
        tiles=[_template(request, "/irradiation/{z}/{x}/{y}.png")],
        minzoom=tiles.IRRADIATION_MIN_ZOOM,
        maxzoom=tiles.IRRADIATION_MAX_ZOOM,
        bounds=[west, south, east, north],
        center=[(west + east) / 2, (south + north) / 2, tiles.IRRADIATION_MIN_ZOOM + 4],
    )


@router.get(
    "/irradiation/{z}/{x}/{y}.png",
    response_class=Response,
    responses={
        200: {
            "content": {"image/png": {"schema": {"type": "string", "format": "binary"}}},
            "description": "256 × 256 RGBA PNG; transparent off the roofs.",
        },
        **_EMPTY,
    },
    summary="Raster tile of the roofs' annual irradiation",
)
def irradiation_tile(z: Zoom, x: Column, y: Row, services: ServicesDep) -> Response:
    """The annual irradiation of the roofs (shading included) in the legend's colours,
    rendered with rio-tiler from the build's Cloud-Optimized GeoTIFF. 204 where no roof
    cell is in the tile."""
    _check_tile(z, x, y)
    png = tiles.irradiation_png(_rasters(services).rasters, z, x, y)
    if png is None:
        return Response(status_code=204)
    return Response(png, media_type="image/png")
