"""Build the cadastre: surface → roofs → horizon → irradiance → pv → ``cadastre.gpkg``.

The territory is cut into square tiles (default 1 km). Each tile is processed on its own
window of the surface model, widened by a halo (default 150 m) so that casters outside the
tile shade the roofs inside it. A building belongs to the tile that holds its footprint's
representative point, so no building is processed twice. Tiles run one after the other,
or on a Dask cluster (``dask.distributed``): a ``LocalCluster`` on a laptop, or any
scheduler address for a multi-node cluster. The same function runs in both.

The modules follow the build:

- :mod:`~solar.build.options`: what is asked, the physics (:class:`BuildOptions`) and
  where the tiles run (:class:`Execution`);
- :mod:`~solar.build.inputs`: the files (:class:`BuildInputs`), read and checked into a
  :class:`Territory`;
- :mod:`~solar.build.climate`: what every tile shares, the sun and the site optimum;
- :mod:`~solar.build.tiles`: the plan of the tiles;
- :mod:`~solar.build.tile`: one tile, in stages (segment, shade, irradiate, place, rows);
- :mod:`~solar.build.run`: the tiles run here or on Dask;
- :mod:`~solar.build.aggregate`: faces to buildings, buildings to communes;
- :mod:`~solar.build.raster`: the irradiation raster;
- :mod:`~solar.build.pipeline`: all of it, from files (:func:`build_cadastre`) or from
  memory (:func:`build_from_surface`), to the GeoPackage and its :class:`BuildSummary`.
"""

from solar.build.inputs import BuildInputs, FootprintReport, Territory, read_inputs
from solar.build.options import BuildOptions, Execution, Progress
from solar.build.pipeline import BuildSummary, build_cadastre, build_from_surface

__all__ = [
    "BuildInputs",
    "BuildOptions",
    "BuildSummary",
    "Execution",
    "FootprintReport",
    "Progress",
    "Territory",
    "build_cadastre",
    "build_from_surface",
    "read_inputs",
]
